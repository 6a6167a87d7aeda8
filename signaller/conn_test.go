package signaller

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

func TestDialJoinPingAndMessages(t *testing.T) {
	f := newFake(t, joinResp())
	c, first, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if got := first.GetJoin().GetParticipant().GetSid(); got != "PA_test" {
		t.Fatalf("first message %v, want join for PA_test", first)
	}
	if got := f.lastConnect(t).Authorization; got != "Bearer "+testToken {
		t.Fatalf("Authorization header %q", got)
	}
	if q := f.lastConnect(t).RawQuery; strings.Contains(q, testToken) || !strings.Contains(q, "protocol=16") {
		t.Fatalf("query %q", q)
	}
	fc := f.conn(t)

	c.Start(30*time.Millisecond, time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for fc.Pings() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("server got %d pings, want >=3", fc.Pings())
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Pongs were consumed by the conn; the first thing delivered is our update.
	mustSend(t, fc, updateResp("PA_1"))
	mustSend(t, fc, updateResp("PA_2"))
	for _, want := range []string{"PA_1", "PA_2"} {
		select {
		case m := <-c.Messages():
			if got := m.GetUpdate().GetParticipants()[0].GetSid(); got != want {
				t.Fatalf("got %v, want update %s", m, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("no message")
		}
	}

	if err := c.Send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_1", Muted: true}}}); err != nil {
		t.Fatal(err)
	}
	if r := fc.WaitRequest(2*time.Second, anyRequest); r.GetMute().GetSid() != "TR_1" || !r.GetMute().GetMuted() {
		t.Fatalf("server got %v", r)
	}
	if c.Err() != nil {
		t.Fatalf("Err() = %v on an open conn", c.Err())
	}
}

func TestRTTFromPong(t *testing.T) {
	c := &Conn{}
	now := time.Now()
	c.notePong(now, now.Add(-42*time.Millisecond).UnixMilli())
	if rtt := c.RTT(); rtt < 41*time.Millisecond || rtt > 43*time.Millisecond {
		t.Fatalf("RTT %v, want ~42ms", rtt)
	}
}

func TestDialUnauthorizedWithBody(t *testing.T) {
	f := newFake(t, joinResp())
	f.script(func(a *signallertest.Answer) { a.Status, a.Body = 401, "invalid token: token is expired" })
	_, _, err := f.dial(t, 2*time.Second)
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("got %T %v, want *HTTPError", err, err)
	}
	if !he.IsAuth() || he.StatusCode != 401 || he.Message != "invalid token: token is expired" {
		t.Fatalf("got %+v", he)
	}
	if len(f.ValidateQueries()) != 0 {
		t.Fatal("validate called although the refusal had a body")
	}
}

func TestDialRefusedEmptyBodyAsksValidate(t *testing.T) {
	f := newFake(t, joinResp())
	f.script(func(a *signallertest.Answer) { a.Status, a.Validate = 404, "requested room does not exist" })
	_, _, err := f.dial(t, 2*time.Second)
	var he *HTTPError
	if !errors.As(err, &he) {
		t.Fatalf("got %T %v", err, err)
	}
	if he.IsAuth() || he.StatusCode != 404 || he.Message != "requested room does not exist" {
		t.Fatalf("got %+v", he)
	}
	if vq, rq := f.ValidateQueries(), f.lastConnect(t).RawQuery; len(vq) != 1 || vq[0] != rq {
		t.Fatalf("validate query %q != rtc query %q", vq, rq)
	}
}

func TestDialFirstFrameLeave(t *testing.T) {
	f := newFake(t, &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{
		Reason: livekit.DisconnectReason_STATE_MISMATCH, Action: livekit.LeaveRequest_RECONNECT}}})
	c, _, err := f.dial(t, 2*time.Second)
	var le *LeaveError
	if !errors.As(err, &le) || c != nil {
		t.Fatalf("got %v %T %v, want *LeaveError", c, err, err)
	}
	if le.Leave.GetAction() != livekit.LeaveRequest_RECONNECT || le.Leave.GetReason() != livekit.DisconnectReason_STATE_MISMATCH {
		t.Fatalf("leave %v", le.Leave)
	}
	if msg := le.Error(); !strings.Contains(msg, "RECONNECT") || !strings.Contains(msg, "STATE_MISMATCH") {
		t.Fatalf("message %q", msg)
	}
	assertNoConnGoroutines(t)
}

func TestDialFirstFrameTimeout(t *testing.T) {
	f := newFake(t, nil)
	start := time.Now()
	c, _, err := f.dial(t, 200*time.Millisecond)
	el := time.Since(start)
	if !errors.Is(err, ErrFirstFrameTimeout) || c != nil {
		t.Fatalf("got %v, want ErrFirstFrameTimeout", err)
	}
	if el < 150*time.Millisecond || el > time.Second {
		t.Fatalf("returned after %v, want ~200ms", el)
	}
	assertNoConnGoroutines(t)
}

func TestDialHonoursCancel(t *testing.T) {
	f := newFake(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, _, err := Dial(ctx, DialOptions{URL: f.url(t), Token: testToken, Timeout: 10 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("cancel took %v", el)
	}
	assertNoConnGoroutines(t)
}

func TestDialUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	u, _ := BuildURL("ws://"+addr, URLParams{})
	_, _, err = Dial(context.Background(), DialOptions{URL: u, Token: testToken, Timeout: time.Second})
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("got %T %v, want a wrapped *net.OpError", err, err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("token in error")
	}
}

func TestPingTimeout(t *testing.T) {
	f := newFake(t, joinResp())
	f.mutePings()
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := f.conn(t)

	const timeout = 200 * time.Millisecond
	c.Start(20*time.Millisecond, timeout)
	// Any message keeps the conn alive, not only pongs.
	var silentSince time.Time
	stop := time.Now().Add(3 * timeout)
	for time.Now().Before(stop) {
		mustSend(t, fc, updateResp("PA_x"))
		<-c.Messages()
		silentSince = time.Now()
		time.Sleep(timeout / 5)
	}
	select {
	case <-c.Done():
		t.Fatalf("closed while messages kept arriving: %v", c.Err())
	default:
	}
	waitDone(t, c, 2*time.Second)
	if el := time.Since(silentSince); el < timeout-20*time.Millisecond {
		t.Fatalf("timed out after %v of silence, want >= %v", el, timeout)
	}
	if !errors.Is(c.Err(), ErrPingTimeout) {
		t.Fatalf("Err() = %v, want ErrPingTimeout", c.Err())
	}
	if fc.Pings() < 5 {
		t.Fatalf("only %d pings sent", fc.Pings())
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}

func TestServerClose(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)
	fc.CloseWith(websocket.CloseNormalClosure, "transport failure")
	waitDone(t, c, 2*time.Second)
	var ce *CloseError
	if !errors.As(c.Err(), &ce) || ce.Code != 1000 || ce.Text != "transport failure" {
		t.Fatalf("Err() = %v, want CloseError 1000", c.Err())
	}
	drainClosed(t, c)
	if err := c.Send(&livekit.SignalRequest{}); err == nil {
		t.Fatal("Send after close succeeded")
	}
	c.Close()
	if !errors.As(c.Err(), &ce) {
		t.Fatalf("Close after a server close replaced the reason: %v", c.Err())
	}
	assertNoConnGoroutines(t)
}

func TestCloseIdempotentNoLeak(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fc := f.conn(t)
	c.Start(10*time.Millisecond, time.Second)
	time.Sleep(50 * time.Millisecond)
	if len(connGoroutines()) != 2 {
		t.Fatalf("want reader+pinger running, got %d", len(connGoroutines()))
	}
	c.Close()
	c.Close()
	if !errors.Is(c.Err(), ErrClosedByUs) {
		t.Fatalf("Err() = %v", c.Err())
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
	if code := fc.WaitClosed(2 * time.Second); code != websocket.CloseNormalClosure {
		t.Fatalf("close code %d, want a normal close frame", code)
	}
	c.Start(time.Second, time.Second) // must not resurrect anything
	assertNoConnGoroutines(t)
}

func TestCloseWithoutStart(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}

func TestLeaveSendsLeaveThenCloses(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)
	start := time.Now()
	c.Leave(livekit.DisconnectReason_CLIENT_INITIATED)
	// The server closes its side once it read our close frame: Leave
	// returns then, not after leaveTimeout.
	if took := time.Since(start); took >= leaveTimeout/2 {
		t.Fatalf("Leave took %s against a server that closes at once", took)
	}
	if code := fc.WaitClosed(2 * time.Second); code != websocket.CloseNormalClosure {
		t.Fatalf("the server got close code %d, want %d", code, websocket.CloseNormalClosure)
	}
	r := fc.WaitRequest(2*time.Second, anyRequest)
	if l := r.GetLeave(); l == nil || l.Reason != livekit.DisconnectReason_CLIENT_INITIATED || l.Action != livekit.LeaveRequest_DISCONNECT {
		t.Fatalf("server got %v", r)
	}
	if !errors.Is(c.Err(), ErrClosedByUs) {
		t.Fatalf("Err() = %v", c.Err())
	}
	assertNoConnGoroutines(t)
}

func TestTextFramesDecode(t *testing.T) {
	f := newFake(t, joinResp())
	f.script(func(a *signallertest.Answer) { a.Text = true })
	c, first, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if first.GetJoin().GetParticipant().GetSid() != "PA_test" {
		t.Fatalf("text first frame decoded as %v", first)
	}
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)
	// A field this version does not know must be ignored, not fatal.
	fc.WriteRaw(websocket.TextMessage, []byte(`{"refreshToken":"new-jwt","someFutureField":{"x":1}}`))
	select {
	case m := <-c.Messages():
		if m.GetRefreshToken() != "new-jwt" {
			t.Fatalf("got %v", m)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no message")
	}
}

func TestUnknownOneofAndGarbage(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)

	// Field 999 is not in SignalResponse: a newer server's message kind.
	unknown := protowire.AppendTag(nil, 999, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte("future"))
	fc.WriteRaw(websocket.BinaryMessage, unknown)
	fc.WriteRaw(websocket.BinaryMessage, []byte{0xff, 0xff, 0xff}) // undecodable: skipped
	mustSend(t, fc, updateResp("PA_after"))

	m := <-c.Messages()
	if m.GetMessage() != nil || len(m.ProtoReflect().GetUnknown()) == 0 {
		t.Fatalf("unknown case: got %v", m)
	}
	select {
	case m = <-c.Messages():
	case <-time.After(2 * time.Second):
		t.Fatal("conn stopped after an unknown message")
	}
	if m.GetUpdate().GetParticipants()[0].GetSid() != "PA_after" {
		t.Fatalf("got %v", m)
	}
	if c.Err() != nil {
		t.Fatal(c.Err())
	}
}

func TestCloseUnblocksSlowConsumer(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)
	b, _ := proto.Marshal(updateResp("PA_x"))
	for range messageBuffer + 20 {
		if err := fc.WriteRaw(websocket.BinaryMessage, b); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the reader is blocked on a full channel.
	deadline := time.Now().Add(2 * time.Second)
	for len(c.Messages()) < messageBuffer {
		if time.Now().After(deadline) {
			t.Fatalf("buffer only reached %d", len(c.Messages()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close blocked behind a slow consumer")
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}
