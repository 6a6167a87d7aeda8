package signaller

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const testToken = "test-token"

// fakeLK plays just enough of a LiveKit server's /rtc endpoint.
type fakeLK struct {
	t   *testing.T
	srv *httptest.Server

	first      *livekit.SignalResponse // nil: send nothing after the upgrade
	firstText  bool                    // send the first frame as protojson text
	mute       atomic.Bool             // stop answering pings
	rejectCode int                     // refuse the upgrade with this status
	rejectBody string
	validate   string // /rtc/validate body

	pings    atomic.Int32
	gotAuth  atomic.Value // string
	gotQuery atomic.Value // string
	valQuery atomic.Value // string, query seen by /rtc/validate
	received chan *livekit.SignalRequest
	closeRx  chan int // close code received from the client
	conns    chan *fakeConn
}

type fakeConn struct {
	ws *websocket.Conn
	mu sync.Mutex
}

func (f *fakeConn) send(t *testing.T, m *livekit.SignalResponse) {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f.write(websocket.BinaryMessage, b)
}

func (f *fakeConn) sendText(t *testing.T, m *livekit.SignalResponse) {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f.write(websocket.TextMessage, b)
}

func (f *fakeConn) write(mt int, b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.ws.SetWriteDeadline(time.Now().Add(2 * time.Second))
	return f.ws.WriteMessage(mt, b)
}

func (f *fakeConn) closeWith(code int, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	_ = f.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = f.ws.Close()
}

func newFake(t *testing.T, first *livekit.SignalResponse) *fakeLK {
	f := &fakeLK{t: t, first: first,
		received: make(chan *livekit.SignalRequest, 256),
		closeRx:  make(chan int, 1),
		conns:    make(chan *fakeConn, 4),
	}
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/rtc/validate", func(w http.ResponseWriter, r *http.Request) {
		f.valQuery.Store(r.URL.RawQuery)
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, "validate: missing auth header", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(f.rejectCode)
		_, _ = w.Write([]byte(f.validate))
	})
	mux.HandleFunc("/rtc", func(w http.ResponseWriter, r *http.Request) {
		f.gotAuth.Store(r.Header.Get("Authorization"))
		f.gotQuery.Store(r.URL.RawQuery)
		if f.rejectCode != 0 {
			w.WriteHeader(f.rejectCode)
			_, _ = w.Write([]byte(f.rejectBody))
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+testToken || r.URL.Query().Has("access_token") {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		fc := &fakeConn{ws: ws}
		ws.SetCloseHandler(func(code int, text string) error {
			select {
			case f.closeRx <- code:
			default:
			}
			return nil
		})
		if f.first != nil {
			if f.firstText {
				fc.sendText(t, f.first)
			} else {
				fc.send(t, f.first)
			}
		}
		f.conns <- fc
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			req := &livekit.SignalRequest{}
			if err := proto.Unmarshal(data, req); err != nil {
				t.Errorf("server: bad request frame: %v", err)
				return
			}
			if p := req.GetPingReq(); p != nil {
				f.pings.Add(1)
				if !f.mute.Load() {
					fc.send(t, &livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
						LastPingTimestamp: p.Timestamp, Timestamp: time.Now().UnixMilli()}}})
				}
				continue
			}
			select {
			case f.received <- req:
			default:
			}
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLK) url(t *testing.T) string {
	t.Helper()
	u, err := BuildURL(f.srv.URL, URLParams{})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (f *fakeLK) dial(t *testing.T, timeout time.Duration) (*Conn, *livekit.SignalResponse, error) {
	t.Helper()
	return Dial(context.Background(), DialOptions{URL: f.url(t), Token: testToken, Timeout: timeout, Logger: testLogger{t}})
}

func (f *fakeLK) conn(t *testing.T) *fakeConn {
	t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(2 * time.Second):
		t.Fatal("server never got a connection")
		return nil
	}
}

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
