package harness

// SigProxy sits between a LiveKit client and a LiveKit server on the
// signalling WebSocket and injects the faults of docs/architecture.md, "The test world": socket resets
// with media intact, delayed or swallowed pongs, server-style LeaveRequests,
// rejected upgrades, and a /settings/regions endpoint for region tests.
//
// Data frames are forwarded byte for byte (never re-encoded), so the proxy
// cannot hide encoding bugs; it only decodes a copy for the Frames() log.
// Everything that is not a WebSocket upgrade (/rtc/validate, twirp API calls)
// goes through a plain reverse proxy to the same upstream.

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

// Direction of a signalling frame.
type Direction int

const (
	ClientToServer Direction = iota
	ServerToClient
)

func (d Direction) String() string {
	if d == ClientToServer {
		return "c->s"
	}
	return "s->c"
}

// FrameInfo is one logged data frame. Request is set for ClientToServer,
// Response for ServerToClient, unless the frame did not decode (DecodeErr).
type FrameInfo struct {
	Conn      int // ConnInfo.ID
	Time      time.Time
	Dir       Direction
	Kind      string // oneof field name: "join", "offer", "sync_state", "pong_resp", ...
	Text      bool   // protojson text frame rather than binary protobuf
	Dropped   bool   // swallowed by DropAll
	Injected  bool   // produced by the proxy (InjectLeave)
	Delay     time.Duration
	Request   *livekit.SignalRequest
	Response  *livekit.SignalResponse
	DecodeErr string
}

// ConnInfo describes one client upgrade attempt (rejected ones included).
type ConnInfo struct {
	ID              int
	Path            string
	Query           url.Values
	Reconnect       bool   // reconnect=1|true: a resume
	SID             string // sid= (participant sid on resume)
	ReconnectReason string // reconnect_reason= as sent (numeric ReconnectReason)
	Authorization   string
	Upstream        string // upstream base URL used
	Start           time.Time
	RejectedStatus  int // non-zero: the upgrade was answered with this HTTP status
	FirstServerKind string
	FirstServerAt   time.Time
	End             time.Time
	EndReason       string // "reset", "leave", "upstream-close", "client-close", "upstream-error", "client-error", "proxy-close"
	CloseCode       int    // close code forwarded or sent to the client (0 = none)
}

const (
	maxFrameLog  = 100000 // bounds memory of a long soak; later frames are counted, not kept
	writeTimeout = 5 * time.Second
)

// SigProxy is a fault-injecting LiveKit signalling proxy. Create with
// NewSigProxy; it is closed by t.Cleanup, and Close waits for every goroutine.
type SigProxy struct {
	t        testing.TB
	ln       net.Listener
	srv      *http.Server
	upgrader websocket.Upgrader
	dialer   websocket.Dialer
	rproxy   *httputil.ReverseProxy
	wg       sync.WaitGroup

	mu            sync.Mutex
	closed        bool
	upstream      *url.URL
	conns         map[int]*proxyConn
	infos         []*ConnInfo
	frames        []FrameInfo
	framesLost    int
	pongDelay     time.Duration
	dropAll       bool
	resetOn       string // swallow the next server frame of this kind and reset its connection
	regionsJSON   []byte
	regionsAuth   []string
	rejectStatus  int
	rejectLeft    int
	lastRejection int // status of the latest rejected upgrade, echoed by validate until an upgrade passes
}

// NewSigProxy listens on 127.0.0.1:0 and forwards to upstream (ws://host:port).
func NewSigProxy(t testing.TB, upstream string) *SigProxy {
	t.Helper()
	return NewSigProxyOn(t, "127.0.0.1:0", upstream)
}

// NewSigProxyOn listens on listenAddr, e.g. Topology.HostAddr+":0" so that a
// publisher in the pub namespace can use it (with Topology.AllowPubToHost).
func NewSigProxyOn(t testing.TB, listenAddr, upstream string) *SigProxy {
	t.Helper()
	u, err := parseUpstream(upstream)
	if err != nil {
		t.Fatalf("sigproxy: %v", err)
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		t.Fatalf("sigproxy: %v", err)
	}
	p := &SigProxy{
		t: t, ln: ln, upstream: u, conns: map[int]*proxyConn{},
		upgrader: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }},
		// Proxy: nil, explicitly: test traffic must never leave the machine
		// through an HTTP(S)_PROXY from the environment.
		dialer: websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: nil},
	}
	p.rproxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			up := p.upstreamURL()
			up.Scheme = map[string]string{"ws": "http", "wss": "https"}[up.Scheme]
			r.SetURL(up)
		},
		Transport: &http.Transport{Proxy: nil, ResponseHeaderTimeout: 10 * time.Second},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/settings/regions", p.serveRegions)
	mux.HandleFunc("/", p.serveHTTP)
	p.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); _ = p.srv.Serve(ln) }()
	t.Cleanup(p.Close)
	return p
}

func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	case "ws", "wss":
	default:
		return nil, fmt.Errorf("upstream %q: want ws:// or wss://", s)
	}
	return u, nil
}

// URL is the ws:// base URL clients connect to (they append /rtc).
func (p *SigProxy) URL() string { return "ws://" + p.ln.Addr().String() }

// HTTPURL is the same address as http://, e.g. for /settings/regions.
func (p *SigProxy) HTTPURL() string { return "http://" + p.ln.Addr().String() }

// SetUpstream changes where new connections go; live ones stay where they are.
func (p *SigProxy) SetUpstream(upstream string) {
	u, err := parseUpstream(upstream)
	if err != nil {
		p.t.Errorf("sigproxy: %v", err)
		return
	}
	p.mu.Lock()
	p.upstream = u
	p.mu.Unlock()
}

func (p *SigProxy) upstreamURL() *url.URL {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := *p.upstream
	return &u
}

// DelayPongs holds every server->client pong_resp (and legacy pong) for d
// before delivering it; other frames pass. 0 turns it off.
func (p *SigProxy) DelayPongs(d time.Duration) {
	p.mu.Lock()
	p.pongDelay = d
	p.mu.Unlock()
}

// DropAll blackholes both directions while on: sockets stay open, frames
// are logged as Dropped and discarded (not buffered).
func (p *SigProxy) DropAll(on bool) {
	p.mu.Lock()
	p.dropAll = on
	p.mu.Unlock()
}

// RejectNext answers the next n upgrade attempts with status. Validate
// requests that follow a rejected upgrade get the same status, as a real
// server would give for the same token.
func (p *SigProxy) RejectNext(status, n int) {
	p.mu.Lock()
	p.rejectStatus, p.rejectLeft = status, n
	p.mu.Unlock()
}

// ServeRegions makes GET /settings/regions answer with settings as protojson,
// so the proxy can stand in for a LiveKit Cloud project URL. nil turns it off.
func (p *SigProxy) ServeRegions(settings *livekit.RegionSettings) {
	var b []byte
	if settings != nil {
		var err error
		if b, err = protojson.Marshal(settings); err != nil {
			p.t.Errorf("sigproxy: %v", err)
			return
		}
	}
	p.mu.Lock()
	p.regionsJSON = b
	p.mu.Unlock()
}

// RegionRequests returns the Authorization header of each /settings/regions request.
func (p *SigProxy) RegionRequests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.regionsAuth...)
}

// Connections returns a snapshot of every upgrade attempt so far, in order.
func (p *SigProxy) Connections() []ConnInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ConnInfo, len(p.infos))
	for i, ci := range p.infos {
		out[i] = *ci
	}
	return out
}

// Frames returns a snapshot of the frame log. The decoded messages are shared:
// treat them as read-only.
func (p *SigProxy) Frames() []FrameInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]FrameInfo(nil), p.frames...)
}

// ResetAll aborts every live connection on both sides with a TCP RST and no
// close frame: the signalling socket dies, media (not proxied) is untouched.
func (p *SigProxy) ResetAll() {
	for _, pc := range p.live() {
		pc.teardown("reset", 0, "", true)
	}
}

// ResetOnNext swallows the next server->client frame of kind (a FrameInfo
// Kind such as "track_published") and resets the connection it came on, as
// if the socket had died just before the answer: the client never sees it.
func (p *SigProxy) ResetOnNext(kind string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetOn = kind
}

// takeResetOn reports whether a server frame of kind is the one ResetOnNext
// waits for, and disarms it if so.
func (p *SigProxy) takeResetOn(kind string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resetOn == "" || p.resetOn != kind {
		return false
	}
	p.resetOn = ""
	return true
}

// InjectLeave sends SignalResponse{leave} to every live client, then closes it
// with code 1000 as livekit-server does after a leave. The upstream side gets
// a normal close, so the server sees a client that went away.
func (p *SigProxy) InjectLeave(action livekit.LeaveRequest_Action, reason livekit.DisconnectReason, regions *livekit.RegionSettings) {
	p.InjectLeaveRequest(&livekit.LeaveRequest{Action: action, Reason: reason, Regions: regions})
}

// InjectLeaveRequest is InjectLeave with every field of the request, e.g. an
// old server's canReconnect without an action.
func (p *SigProxy) InjectLeaveRequest(l *livekit.LeaveRequest) {
	resp := &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: l}}
	for _, pc := range p.live() {
		pc.inject(resp, websocket.CloseNormalClosure)
	}
}

func (p *SigProxy) live() []*proxyConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*proxyConn, 0, len(p.conns))
	for _, pc := range p.conns {
		out = append(out, pc)
	}
	return out
}

// Close stops listening, aborts live connections and waits for every
// goroutine the proxy started. Safe to call more than once.
func (p *SigProxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	_ = p.srv.Close() // listener and non-hijacked conns; hijacked ones are ours
	for _, pc := range p.live() {
		pc.teardown("proxy-close", 0, "", true)
	}
	p.wg.Wait()
}

// enter registers a handler with the WaitGroup unless the proxy is closing;
// checking closed under mu guarantees no Add races with Close's Wait.
func (p *SigProxy) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.wg.Add(1)
	return true
}

func (p *SigProxy) faults() (drop bool, pongDelay time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropAll, p.pongDelay
}
