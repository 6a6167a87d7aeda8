package signaller

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

const testToken = "test-token"

// fakeLK is signallertest's fake server with the dial helpers of these tests.
type fakeLK struct {
	*signallertest.Server
	answer signallertest.Answer
	taken  int // server-side sockets handed out by conn
}

// newFake answers every connect with first (nil: nothing after the upgrade).
func newFake(t *testing.T, first *livekit.SignalResponse) *fakeLK {
	f := &fakeLK{Server: signallertest.NewServer(t, signallertest.Options{Token: testToken})}
	f.answer = signallertest.Answer{First: first, Silent: first == nil}
	f.SetDefault(f.answer)
	return f
}

// script changes the answer to every connect.
func (f *fakeLK) script(edit func(*signallertest.Answer)) {
	edit(&f.answer)
	f.SetDefault(f.answer)
}

// mutePings leaves pings unanswered on every later socket.
func (f *fakeLK) mutePings() { f.script(func(a *signallertest.Answer) { a.NoPongs = true }) }

func (f *fakeLK) url(t *testing.T) string {
	t.Helper()
	u, err := BuildURL(f.URL(), URLParams{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fakeLK) dial(t *testing.T, timeout time.Duration) (*Conn, *livekit.SignalResponse, error) {
	t.Helper()
	return Dial(context.Background(), DialOptions{URL: f.url(t), Token: testToken, Timeout: timeout, Logger: testLogger{t}})
}

// conn returns the server side of the next socket.
func (f *fakeLK) conn(t *testing.T) *signallertest.Conn {
	t.Helper()
	f.taken++
	return f.WaitConnects(f.taken, 2*time.Second)[f.taken-1].Conn
}

// lastConnect is what the server saw of the latest connect.
func (f *fakeLK) lastConnect(t *testing.T) signallertest.Connect {
	t.Helper()
	cs := f.Connects()
	if len(cs) == 0 {
		t.Fatal("no connect")
	}
	return cs[len(cs)-1]
}

func mustSend(t *testing.T, c *signallertest.Conn, m *livekit.SignalResponse) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatal(err)
	}
}

// anyRequest matches every request.
func anyRequest(*livekit.SignalRequest) bool { return true }

func joinResp() *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: &livekit.JoinResponse{
		Participant:  &livekit.ParticipantInfo{Sid: "PA_test", Identity: "gst"},
		PingInterval: 5, PingTimeout: 15,
	}}}
}

func updateResp(sid string) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{{Sid: sid}}}}}
}

type testLogger struct{ t *testing.T }

func (l testLogger) log(f string, a ...any) {
	msg := fmt.Sprintf(f, a...)
	if strings.Contains(msg, testToken) {
		l.t.Errorf("token logged: %s", msg)
	}
	l.t.Log(msg)
}
func (l testLogger) Debugf(f string, a ...any) { l.log(f, a...) }
func (l testLogger) Infof(f string, a ...any)  { l.log(f, a...) }
func (l testLogger) Warnf(f string, a ...any)  { l.log(f, a...) }
func (l testLogger) Errorf(f string, a ...any) { l.log(f, a...) }

// connGoroutines lists live goroutines running this package's Conn code.
func connGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "signaller.(*Conn).") || strings.Contains(g, "signaller.readFirst") {
			out = append(out, g)
		}
	}
	return out
}

func assertNoConnGoroutines(t *testing.T) {
	t.Helper()
	var left []string
	for range 50 {
		if left = connGoroutines(); len(left) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d conn goroutines left:\n%s", len(left), strings.Join(left, "\n\n"))
}

func waitDone(t *testing.T, c *Conn, within time.Duration) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(within):
		t.Fatalf("conn not done after %v", within)
	}
}

// drainClosed reads Messages until it is closed.
func drainClosed(t *testing.T, c *Conn) {
	t.Helper()
	timeout := time.After(2 * time.Second)
	for {
		select {
		case _, ok := <-c.Messages():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("Messages() not closed")
		}
	}
}
