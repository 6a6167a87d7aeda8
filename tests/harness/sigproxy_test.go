package harness

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// These self-tests use a small fake LiveKit server (below), not a real
// livekit-server: the proxy's job is framing and fault injection, which the
// fake exercises fully and deterministically.

// fakeUpstream answers /rtc like livekit-server in miniature: the first frame
// is a JoinResponse (ReconnectResponse when reconnect=1), ping_req gets a
// pong_resp, every request is recorded. Auth "Bearer bad" gets a 401.
type fakeUpstream struct {
	name string
	srv  *httptest.Server
	got  chan *livekit.SignalRequest

	mu         sync.Mutex
	queries    []url.Values
	auths      []string
	conns      []*websocket.Conn
	closeCodes []int // per finished conn: close code received, or -1 for none
}

func newFakeUpstream(t *testing.T, name string) *fakeUpstream {
	f := &fakeUpstream{name: name, got: make(chan *livekit.SignalRequest, 64)}
	mux := http.NewServeMux()
	mux.HandleFunc("/rtc/validate", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "success") })
	mux.HandleFunc("/rtc", f.serveRTC)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.close)
	return f
}

func (f *fakeUpstream) url() string { return "ws" + strings.TrimPrefix(f.srv.URL, "http") }

func (f *fakeUpstream) serveRTC(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") == "Bearer bad" {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.Query())
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.conns = append(f.conns, c)
	f.mu.Unlock()
	defer c.Close()

	first := &livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: &livekit.JoinResponse{
		Participant: &livekit.ParticipantInfo{Sid: f.name}, PingInterval: 5, PingTimeout: 15}}}
	if r.URL.Query().Get("reconnect") == "1" {
		first = &livekit.SignalResponse{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{}}}
	}
	f.send(c, first)
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			code := -1
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				code = ce.Code
			}
			f.mu.Lock()
			f.closeCodes = append(f.closeCodes, code)
			f.mu.Unlock()
			return
		}
		req := &livekit.SignalRequest{}
		if mt == websocket.TextMessage {
			err = protojson.Unmarshal(data, req)
		} else {
			err = proto.Unmarshal(data, req)
		}
		if err != nil {
			continue
		}
		select {
		case f.got <- req:
		default:
		}
		if ping := req.GetPingReq(); ping != nil {
			f.send(c, &livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
				LastPingTimestamp: ping.Timestamp, Timestamp: time.Now().UnixMilli()}}})
		}
	}
}

func (f *fakeUpstream) send(c *websocket.Conn, m *livekit.SignalResponse) {
	b, _ := proto.Marshal(m)
	_ = c.WriteMessage(websocket.BinaryMessage, b)
}

// closeAll sends a close frame with code to every connection (WriteControl
// is safe next to the handler's writes).
func (f *fakeUpstream) closeAll(code int, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	}
}

func (f *fakeUpstream) close() {
	f.mu.Lock()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.srv.Close()
}

func (f *fakeUpstream) snapshot() (q []url.Values, auth []string, codes []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append(q, f.queries...), append(auth, f.auths...), append(codes, f.closeCodes...)
}

// testClient is a LiveKit-ish client; a goroutine reads frames into a
// channel, because a gorilla read that times out breaks the connection.
type testClient struct {
	c    *websocket.Conn
	in   chan *livekit.SignalResponse
	err  chan error // the final read error, exactly once
	done chan struct{}
}

func dialClient(t *testing.T, base, query, auth string) (*testClient, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if auth != "" {
		h.Set("Authorization", auth)
	}
	c, resp, err := websocket.DefaultDialer.Dial(base+"/rtc?"+query, h)
	if err != nil {
		return nil, resp, err
	}
	tc := &testClient{c: c, in: make(chan *livekit.SignalResponse, 64), err: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(tc.done)
		for {
			mt, data, err := c.ReadMessage()
			if err != nil {
				tc.err <- err
				return
			}
			m := &livekit.SignalResponse{}
			if mt == websocket.TextMessage {
				err = protojson.Unmarshal(data, m)
			} else {
				err = proto.Unmarshal(data, m)
			}
			if err == nil {
				tc.in <- m
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-tc.done })
	return tc, resp, nil
}

func mustDial(t *testing.T, base, query, auth string) *testClient {
	t.Helper()
	c, _, err := dialClient(t, base, query, auth)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

func (tc *testClient) next(t *testing.T, d time.Duration) *livekit.SignalResponse {
	t.Helper()
	select {
	case m := <-tc.in:
		return m
	case err := <-tc.err:
		t.Fatalf("client read: %v", err)
	case <-time.After(d):
		t.Fatalf("no frame within %v", d)
	}
	return nil
}

func (tc *testClient) readErr(t *testing.T) error {
	t.Helper()
	for {
		select {
		case <-tc.in: // drain frames before the error
		case err := <-tc.err:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("connection still open")
			return nil
		}
	}
}

func (tc *testClient) ping(t *testing.T, ts int64) {
	t.Helper()
	b, _ := proto.Marshal(&livekit.SignalRequest{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{Timestamp: ts}}})
	if err := tc.c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		t.Fatal(err)
	}
}

func framesOf(p *SigProxy, dir Direction, kind string) []FrameInfo {
	var out []FrameInfo
	for _, f := range p.Frames() {
		if f.Dir == dir && f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func TestSigProxyForwarding(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "reconnect=1&sid=PA_1&reconnect_reason=2&auto_subscribe=0", "Bearer tok")

	if m := c.next(t, 3*time.Second); m.GetReconnect() == nil {
		t.Fatalf("first frame %v, want reconnect", m)
	}
	c.ping(t, 123)
	if m := c.next(t, 3*time.Second); m.GetPongResp().GetLastPingTimestamp() != 123 {
		t.Fatalf("got %v, want pong_resp for 123", m)
	}
	// A protojson text frame is forwarded as text and decoded for the log.
	syncReq, _ := protojson.Marshal(&livekit.SignalRequest{Message: &livekit.SignalRequest_SyncState{SyncState: &livekit.SyncState{
		Subscription: &livekit.UpdateSubscription{Subscribe: true}}}})
	if err := c.c.WriteMessage(websocket.TextMessage, syncReq); err != nil {
		t.Fatal(err)
	}
	for deadline := time.After(3 * time.Second); ; {
		select {
		case r := <-up.got:
			if r.GetSyncState() == nil {
				continue
			}
		case <-deadline:
			t.Fatal("upstream never got sync_state")
		}
		break
	}

	q, auth, _ := up.snapshot()
	if len(q) != 1 || q[0].Get("sid") != "PA_1" || q[0].Get("reconnect") != "1" || auth[0] != "Bearer tok" {
		t.Errorf("upstream saw query %v auth %v", q, auth)
	}
	ci := p.Connections()
	if len(ci) != 1 || !ci[0].Reconnect || ci[0].SID != "PA_1" || ci[0].ReconnectReason != "2" ||
		ci[0].FirstServerKind != "reconnect" || ci[0].Authorization != "Bearer tok" {
		t.Errorf("Connections() = %+v", ci)
	}
	ss := framesOf(p, ClientToServer, "sync_state")
	if len(ss) != 1 || !ss[0].Text || ss[0].Request.GetSyncState().GetSubscription() == nil {
		t.Errorf("sync_state frames %+v", ss)
	}
	var kinds []string
	for _, f := range p.Frames() {
		kinds = append(kinds, f.Dir.String()+" "+f.Kind)
	}
	if want := "s->c reconnect,c->s ping_req,s->c pong_resp,c->s sync_state"; strings.Join(kinds, ",") != want {
		t.Errorf("frame log %q, want %q", strings.Join(kinds, ","), want)
	}

	resp, err := http.Get(p.HTTPURL() + "/rtc/validate?access_token=x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "success" {
		t.Errorf("validate: %d %q", resp.StatusCode, body)
	}
}

func TestSigProxyInjectLeave(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "auto_subscribe=0", "Bearer tok")
	if m := c.next(t, 3*time.Second); m.GetJoin().GetParticipant().GetSid() != "PA_fake" {
		t.Fatalf("first frame %v", m)
	}
	regions := &livekit.RegionSettings{Regions: []*livekit.RegionInfo{{Region: "r2", Url: "ws://127.0.0.1:1", Distance: 7}}}
	p.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT, regions)

	m := c.next(t, 3*time.Second)
	l := m.GetLeave()
	if l == nil || l.Action != livekit.LeaveRequest_RESUME || l.Reason != livekit.DisconnectReason_CONNECTION_TIMEOUT ||
		!proto.Equal(l.Regions, regions) {
		t.Fatalf("got %v, want the injected leave", m)
	}
	if err := c.readErr(t); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after leave: %v, want close 1000", err)
	}
	waitFor(t, "upstream sees a normal close", func() bool { _, _, codes := up.snapshot(); return len(codes) == 1 && codes[0] == 1000 })
	waitFor(t, "conn recorded as ended", func() bool { ci := p.Connections(); return ci[0].EndReason == "leave" && ci[0].CloseCode == 1000 })
	if lf := framesOf(p, ServerToClient, "leave"); len(lf) != 1 || !lf[0].Injected {
		t.Errorf("leave frames %+v", lf)
	}
}

func TestSigProxyResetAll(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "", "")
	c.next(t, 3*time.Second)
	p.ResetAll()
	err := c.readErr(t)
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		t.Fatalf("reset gave a close frame: %v", err)
	}
	t.Logf("client read after reset: %v", err)
	waitFor(t, "upstream sees no close frame", func() bool { _, _, codes := up.snapshot(); return len(codes) == 1 && codes[0] == -1 })
	// The proxy keeps serving: a resume gets through.
	c2 := mustDial(t, p.URL(), "reconnect=1&sid=PA_fake", "")
	if m := c2.next(t, 3*time.Second); m.GetReconnect() == nil {
		t.Fatalf("resume after reset: %v", m)
	}
	if ci := p.Connections(); len(ci) != 2 || ci[0].EndReason != "reset" || !ci[1].Reconnect {
		t.Errorf("Connections() = %+v", ci)
	}
}

func TestSigProxyRejectNext(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	validate := func() int {
		resp, err := http.Get(p.HTTPURL() + "/rtc/validate")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	p.RejectNext(http.StatusUnauthorized, 1)
	if _, resp, err := dialClient(t, p.URL(), "", "Bearer tok"); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("rejected dial: err=%v resp=%v", err, resp)
	}
	if st := validate(); st != 401 {
		t.Errorf("validate after rejection: %d", st)
	}
	mustDial(t, p.URL(), "", "Bearer tok").next(t, 3*time.Second)
	if st := validate(); st != 200 {
		t.Errorf("validate after success: %d", st)
	}
	// An upstream refusal passes through with its status.
	if _, resp, err := dialClient(t, p.URL(), "", "Bearer bad"); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("upstream 401: err=%v resp=%v", err, resp)
	}
	ci := p.Connections()
	if len(ci) != 3 || ci[0].RejectedStatus != 401 || ci[1].RejectedStatus != 0 || ci[2].RejectedStatus != 401 {
		t.Errorf("Connections() = %+v", ci)
	}
}

func TestSigProxyRegions(t *testing.T) {
	p := NewSigProxy(t, "ws://127.0.0.1:1")
	get := func() (int, []byte) {
		req, _ := http.NewRequest("GET", p.HTTPURL()+"/settings/regions", nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if st, _ := get(); st != 404 {
		t.Errorf("regions before ServeRegions: %d", st)
	}
	want := &livekit.RegionSettings{Regions: []*livekit.RegionInfo{
		{Region: "a", Url: "ws://127.0.0.1:7880", Distance: 1}, {Region: "b", Url: "ws://127.0.0.1:7881", Distance: 2}}}
	p.ServeRegions(want)
	st, b := get()
	got := &livekit.RegionSettings{}
	if err := protojson.Unmarshal(b, got); st != 200 || err != nil || !proto.Equal(got, want) {
		t.Fatalf("regions: %d %s %v", st, b, err)
	}
	if a := p.RegionRequests(); len(a) != 1 || a[0] != "Bearer tok" {
		t.Errorf("RegionRequests() = %v", a)
	}
}

func TestSigProxyDelayPongs(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "", "")
	c.next(t, 3*time.Second)
	const d = 400 * time.Millisecond
	p.DelayPongs(d)
	start := time.Now()
	c.ping(t, 1)
	c.ping(t, 2)
	for _, ts := range []int64{1, 2} { // delayed, but in order
		if m := c.next(t, 3*time.Second); m.GetPongResp().GetLastPingTimestamp() != ts {
			t.Fatalf("got %v, want pong %d", m, ts)
		}
	}
	if el := time.Since(start); el < d {
		t.Errorf("pongs after %v, want >= %v", el, d)
	}
	p.DelayPongs(0)
	start = time.Now()
	c.ping(t, 3)
	c.next(t, 3*time.Second)
	if el := time.Since(start); el >= d {
		t.Errorf("undelayed pong took %v", el)
	}
	if pf := framesOf(p, ServerToClient, "pong_resp"); len(pf) != 3 || pf[0].Delay != d || pf[2].Delay != 0 {
		t.Errorf("pong frames %+v", pf)
	}
}

func TestSigProxyDropAll(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "", "")
	c.next(t, 3*time.Second)
	p.DropAll(true)
	c.ping(t, 1)
	select {
	case m := <-c.in:
		t.Fatalf("frame through a blackhole: %v", m)
	case <-up.got:
		t.Fatal("upstream got a frame through a blackhole")
	case <-time.After(500 * time.Millisecond):
	}
	p.DropAll(false)
	c.ping(t, 2)
	if m := c.next(t, 3*time.Second); m.GetPongResp().GetLastPingTimestamp() != 2 {
		t.Fatalf("after DropAll(false): %v", m)
	}
	if pf := framesOf(p, ClientToServer, "ping_req"); len(pf) != 2 || !pf[0].Dropped || pf[1].Dropped {
		t.Errorf("ping frames %+v", pf)
	}
}

func TestSigProxyCloseForwarding(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	// Server closes: the client gets the server's code.
	c := mustDial(t, p.URL(), "", "")
	c.next(t, 3*time.Second)
	up.closeAll(4001, "bye")
	err := c.readErr(t)
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4001 || ce.Text != "bye" {
		t.Fatalf("client got %v, want close 4001 bye", err)
	}
	waitFor(t, "conn ended", func() bool {
		ci := p.Connections()
		return ci[0].EndReason == "upstream-close" && ci[0].CloseCode == 4001
	})
	// Client closes: the server gets the client's code.
	c2 := mustDial(t, p.URL(), "", "")
	c2.next(t, 3*time.Second)
	_ = c2.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	waitFor(t, "upstream sees 1000", func() bool { _, _, codes := up.snapshot(); return len(codes) == 2 && codes[1] == 1000 })
}

func TestSigProxySetUpstream(t *testing.T) {
	a, b := newFakeUpstream(t, "PA_a"), newFakeUpstream(t, "PA_b")
	p := NewSigProxy(t, a.url())
	ca := mustDial(t, p.URL(), "", "")
	ca.next(t, 3*time.Second)
	p.SetUpstream(b.url())
	cb := mustDial(t, p.URL(), "", "")
	if m := cb.next(t, 3*time.Second); m.GetJoin().GetParticipant().GetSid() != "PA_b" {
		t.Fatalf("after SetUpstream: %v", m)
	}
	ca.ping(t, 7) // the old connection stays on a
	if m := ca.next(t, 3*time.Second); m.GetPongResp().GetLastPingTimestamp() != 7 {
		t.Fatalf("old conn: %v", m)
	}
	if ci := p.Connections(); ci[0].Upstream != a.url() || ci[1].Upstream != b.url() {
		t.Errorf("Connections() = %+v", ci)
	}
}

// Close must stop every goroutine the proxy started, live connections included.
func TestSigProxyCloseStopsGoroutines(t *testing.T) {
	up := newFakeUpstream(t, "PA_fake")
	p := NewSigProxy(t, up.url())
	c := mustDial(t, p.URL(), "", "")
	c.next(t, 3*time.Second)
	p.DelayPongs(time.Hour) // a pending delayed frame must not keep the writer alive
	c.ping(t, 1)
	waitFor(t, "pong held", func() bool { return len(framesOf(p, ServerToClient, "pong_resp")) == 1 })
	p.Close()
	c.readErr(t)
	buf := make([]byte, 1<<20)
	if st := string(buf[:runtime.Stack(buf, true)]); strings.Contains(st, "harness.(*proxyConn)") || strings.Contains(st, "harness.(*SigProxy)") {
		t.Fatalf("proxy goroutines left after Close:\n%s", st)
	}
	p.Close() // idempotent
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	waitForD(t, 5*time.Second, what, cond)
}

func waitForD(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting: %s", what)
}
