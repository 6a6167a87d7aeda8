// Package signallertest is a fake LiveKit signalling server for tests: a
// real WebSocket server on 127.0.0.1 that speaks LiveKit's protobuf frames
// on /rtc, serves /rtc/validate and /settings/regions, and can answer the
// publisher's offers with a pion peer connection, so a client's peer
// connection really connects over loopback.
//
// By default a connect is answered as livekit-server does: a JoinResponse
// for a fresh join, a ReconnectResponse for reconnect=1 with a known sid,
// and Leave{RECONNECT, STATE_MISMATCH} for an unknown one. Queue scripts
// other answers (refusals, a Leave or any frame first, silence); each Conn
// sends Leaves or anything else on a live socket, drops it, or stops
// answering pings. Everything the client sent is recorded.
package signallertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// Options configure a Server; the zero value is a server that accepts any
// bearer token and does not answer offers.
type Options struct {
	// Token, when set, is the only bearer token accepted (401 otherwise).
	Token string
	// PingInterval and PingTimeout go into the JoinResponse (seconds);
	// zero means 5 and 15.
	PingInterval, PingTimeout int32
	// ICEServers and ClientConfiguration go into Join- and ReconnectResponses.
	ICEServers          []*livekit.ICEServer
	ClientConfiguration *livekit.ClientConfiguration
	// Region is the JoinResponse's server region.
	Region string
	// OtherParticipants go into every JoinResponse.
	OtherParticipants []*livekit.ParticipantInfo
	// AnswerOffers runs one pion peer connection per participant that
	// answers the client's publisher offers on loopback.
	AnswerOffers bool
	// OnTrack, with AnswerOffers, is handed each track the answerer
	// receives, on pion's callback goroutine, to read until it fails;
	// without it the media is counted (Conn.MediaPackets) and discarded.
	OnTrack func(*webrtc.TrackRemote)
}

// Answer scripts how the server answers one connect to /rtc. The zero
// Answer is the default: join, or resume a known participant.
type Answer struct {
	// Status refuses the upgrade with this HTTP status and Body. With an
	// empty Body, /rtc/validate answers Status with Validate, as
	// livekit-server explains refusals there.
	Status   int
	Body     string
	Validate string
	// First is sent as the first frame instead of the join or reconnect
	// response (for example a Leave); as protojson text when Text is set.
	First *livekit.SignalResponse
	Text  bool
	// Silent upgrades and then sends nothing.
	Silent bool
	// NoPongs leaves the socket's pings unanswered (Conn.SetMute).
	NoPongs bool
}

// Refuse answers a connect with an HTTP error.
func Refuse(status int, body string) Answer { return Answer{Status: status, Body: body} }

// FirstLeave answers a connect with a Leave as its first frame.
func FirstLeave(l *livekit.LeaveRequest) Answer { return Answer{First: Leave(l)} }

// Leave wraps a LeaveRequest into a SignalResponse.
func Leave(l *livekit.LeaveRequest) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: l}}
}

// Connect is what the server saw of one connect to /rtc, and how it answered.
type Connect struct {
	Reconnect          bool
	SID                string // the sid query parameter of a resume
	ReconnectReason    string
	Authorization      string // the header as received
	AccessTokenInQuery bool
	Query              url.Values
	RawQuery           string
	Answer             Answer
	Conn               *Conn // nil when refused
	At                 time.Time
}

// Server is the fake. Create it with NewServer; it closes with the test.
type Server struct {
	t    testing.TB
	o    Options
	http *httptest.Server

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every change
	queue        []Answer
	deflt        Answer
	connects     []Connect
	validates    []string
	regions      *livekit.RegionSettings
	regionHits   int
	participants map[string]*participant
	forgotten    map[string]bool
	trks         int
	live         map[*Conn]bool
	closed       bool
	handlers     sync.WaitGroup
}

// participantSIDs numbers participants across servers, so that a
// participant of one region is never mistaken for one of another.
var participantSIDs atomic.Int64

type participant struct {
	sid, identity string
	peer          *answerer // nil without AnswerOffers, until the first offer
}

// NewServer starts a fake on 127.0.0.1; t.Cleanup closes it.
func NewServer(t testing.TB, o Options) *Server {
	if o.PingInterval == 0 {
		o.PingInterval = 5
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 15
	}
	s := &Server{t: t, o: o, changed: make(chan struct{}),
		participants: map[string]*participant{}, forgotten: map[string]bool{}, live: map[*Conn]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/rtc", s.serveRTC)
	mux.HandleFunc("/rtc/validate", s.serveValidate)
	mux.HandleFunc("/settings/regions", s.serveRegions)
	s.http = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// URL is the server's ws:// URL (without /rtc).
func (s *Server) URL() string { return "ws" + strings.TrimPrefix(s.http.URL, "http") }

// Queue scripts the answers to the next connects, one each, in order.
func (s *Server) Queue(a ...Answer) {
	s.mu.Lock()
	s.queue = append(s.queue, a...)
	s.mu.Unlock()
}

// SetDefault sets the answer for connects when the queue is empty.
func (s *Server) SetDefault(a Answer) {
	s.mu.Lock()
	s.deflt = a
	s.mu.Unlock()
}

// SetRegions sets what /settings/regions serves (nil: 404).
func (s *Server) SetRegions(rs *livekit.RegionSettings) {
	s.mu.Lock()
	s.regions = rs
	s.mu.Unlock()
}

// RegionRequests counts the requests to /settings/regions.
func (s *Server) RegionRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.regionHits
}

// WaitRegionRequests waits until /settings/regions was asked n times; the
// test fails after timeout.
func (s *Server) WaitRegionRequests(n int, timeout time.Duration) {
	s.t.Helper()
	if !s.waitFor(timeout, func() bool { return s.regionHits >= n }) {
		s.t.Fatalf("signallertest: %d region requests within %s, want %d", s.RegionRequests(), timeout, n)
	}
}

// Forget drops a participant: its resume is answered with a Leave.
func (s *Server) Forget(sid string) {
	s.mu.Lock()
	p := s.participants[sid]
	delete(s.participants, sid)
	s.forgotten[sid] = true
	s.mu.Unlock()
	if p != nil && p.peer != nil {
		p.peer.close()
	}
}

// Connects lists every connect to /rtc so far.
func (s *Server) Connects() []Connect {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Connect(nil), s.connects...)
}

// ValidateQueries lists the queries /rtc/validate was asked with.
func (s *Server) ValidateQueries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.validates...)
}

// WaitConnects waits until n connects happened and returns them all; the
// test fails when they do not come within timeout.
func (s *Server) WaitConnects(n int, timeout time.Duration) []Connect {
	s.t.Helper()
	var got []Connect
	if !s.waitFor(timeout, func() bool { got = append([]Connect(nil), s.connects...); return len(got) >= n }) {
		s.t.Fatalf("signallertest: %d connects within %s, want %d: %s", len(got), timeout, n, describe(got))
	}
	return got
}

func describe(cs []Connect) string {
	var b strings.Builder
	for i, c := range cs {
		fmt.Fprintf(&b, "\n  #%d reconnect=%v sid=%q status=%d first=%v", i, c.Reconnect, c.SID, c.Answer.Status, c.Answer.First.GetMessage())
	}
	return b.String()
}

// Close ends every socket and peer connection and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var live []*Conn
	for c := range s.live {
		live = append(live, c)
	}
	s.mu.Unlock()
	for _, c := range live {
		c.Drop()
	}
	s.http.Close()
	s.handlers.Wait()
	s.mu.Lock()
	ps := s.participants
	s.participants = map[string]*participant{}
	s.mu.Unlock()
	for _, p := range ps {
		if p.peer != nil {
			p.peer.close()
		}
	}
}

// bump wakes every waiter; called with s.mu held.
func (s *Server) bump() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor waits until cond (called with s.mu held) is true.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

func (s *Server) serveRTC(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := Connect{
		Reconnect: q.Get("reconnect") == "1" || q.Get("reconnect") == "true", SID: q.Get("sid"),
		ReconnectReason: q.Get("reconnect_reason"), Authorization: r.Header.Get("Authorization"),
		AccessTokenInQuery: q.Has("access_token"), Query: q, RawQuery: r.URL.RawQuery, At: time.Now(),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "closed", http.StatusServiceUnavailable)
		return
	}
	c.Answer = s.deflt
	if len(s.queue) > 0 {
		c.Answer, s.queue = s.queue[0], s.queue[1:]
	}
	if c.Answer.Status == 0 && (!s.authorized(r) || c.AccessTokenInQuery) {
		c.Answer = Refuse(http.StatusUnauthorized, "invalid token")
	}
	record := func() {
		s.connects = append(s.connects, c)
		s.bump()
	}
	if c.Answer.Status != 0 {
		record()
		s.mu.Unlock()
		w.WriteHeader(c.Answer.Status)
		_, _ = w.Write([]byte(c.Answer.Body))
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	conn := newConn(s, ws)
	conn.mute = c.Answer.NoPongs
	s.mu.Lock()
	c.Conn = conn
	first := c.Answer.First
	if first == nil && !c.Answer.Silent {
		first = s.firstResponse(conn, c)
	}
	s.live[conn] = true
	closing := s.closed
	record()
	s.mu.Unlock()
	if closing {
		conn.Drop() // Close did not see this socket
	}
	defer func() {
		s.mu.Lock()
		delete(s.live, conn)
		s.bump()
		s.mu.Unlock()
	}()
	if first != nil {
		if c.Answer.Text {
			err = conn.SendText(first)
		} else {
			err = conn.Send(first)
		}
		if err != nil {
			conn.Drop()
		}
	}
	conn.readLoop()
}

// firstResponse is what livekit-server answers; called with s.mu held.
func (s *Server) firstResponse(conn *Conn, c Connect) *livekit.SignalResponse {
	if c.Reconnect {
		p := s.participants[c.SID]
		if p == nil {
			return Leave(&livekit.LeaveRequest{Action: livekit.LeaveRequest_RECONNECT, Reason: livekit.DisconnectReason_STATE_MISMATCH})
		}
		conn.participant = p
		var lastSeq uint32
		if p.peer != nil {
			_, lastSeq = p.peer.data()
		}
		return &livekit.SignalResponse{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{
			IceServers: s.o.ICEServers, ClientConfiguration: s.o.ClientConfiguration, LastMessageSeq: lastSeq}}}
	}
	p := &participant{sid: fmt.Sprintf("PA_%d", participantSIDs.Add(1))}
	if v, err := auth.ParseAPIToken(strings.TrimPrefix(c.Authorization, "Bearer ")); err == nil {
		p.identity = v.Identity()
	}
	s.participants[p.sid] = p
	conn.participant = p
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: &livekit.JoinResponse{
		Room:                &livekit.Room{Sid: "RM_fake", Name: "fake"},
		Participant:         &livekit.ParticipantInfo{Sid: p.sid, Identity: p.identity, State: livekit.ParticipantInfo_JOINED},
		ServerInfo:          &livekit.ServerInfo{Edition: livekit.ServerInfo_Standard, Version: "signallertest", Region: s.o.Region, Protocol: 16},
		PingInterval:        s.o.PingInterval,
		PingTimeout:         s.o.PingTimeout,
		IceServers:          s.o.ICEServers,
		ClientConfiguration: s.o.ClientConfiguration,
		OtherParticipants:   s.o.OtherParticipants,
	}}}
}
