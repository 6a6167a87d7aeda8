package session

import (
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
)

type recorder struct {
	mu       sync.Mutex
	states   []StateChange
	warnings []error
	fatal    error
	warned   chan struct{}
	once     sync.Once
}

func newRecorder() *recorder { return &recorder{warned: make(chan struct{})} }

func (r *recorder) OnStateChange(sc StateChange) {
	r.mu.Lock()
	r.states = append(r.states, sc)
	r.mu.Unlock()
}
func (r *recorder) OnKeyframeRequest(*Track) {}
func (r *recorder) OnWarning(err error) {
	r.mu.Lock()
	r.warnings = append(r.warnings, err)
	r.mu.Unlock()
	r.once.Do(func() { close(r.warned) })
}
func (r *recorder) OnFatal(err error) {
	r.mu.Lock()
	r.fatal = err
	r.mu.Unlock()
}
func (r *recorder) OnTrackError(*Track, error) {}

func TestNewNamesTheMissingProperty(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "ftp://x", AuthToken: "t"}, "ws-url"},
		{Config{URL: "ws://127.0.0.1:1", APIKey: "k", APISecret: "s", Identity: "i"}, "room-name"},
		{Config{URL: "ws://127.0.0.1:1", Room: "r", Identity: "i"}, "api-key"},
	}
	for _, c := range cases {
		_, err := New(c.cfg, newRecorder())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want an error naming %s", c.cfg, err, c.want)
		}
	}
}

// An unreachable server is retried and reported as a warning; Close still
// returns at once and leaves no goroutine behind.
func TestUnreachableServerWarnsAndCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	rec := newRecorder()
	s, err := New(Config{URL: "ws://" + addr, APIKey: "k", APISecret: "secret-value", Room: "r", Identity: "i"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	tr, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WriteFrame([]byte{0x10, 0, 0}, 0); err != nil {
		t.Fatalf("WriteFrame while not connected: %v", err)
	}
	if tr.FramesDropped() != 1 {
		t.Fatalf("dropped %d frames, want 1", tr.FramesDropped())
	}
	select {
	case <-rec.warned:
	case <-time.After(5 * time.Second):
		t.Fatal("no warning about the unreachable server")
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %s", d)
	}
	rec.mu.Lock()
	w := rec.warnings[0].Error()
	last := rec.states[len(rec.states)-1]
	rec.mu.Unlock()
	if !strings.Contains(w, addr) || strings.Contains(w, "secret-value") {
		t.Errorf("warning %q should name the server and never the secret", w)
	}
	if last.State != StateDisconnected {
		t.Errorf("last state %s, want disconnected", last.State)
	}
	if _, err := s.AddTrack(TrackSpec{Name: "video_1", Codec: rtp.CodecVP8}); !errors.Is(err, ErrClosed) {
		t.Errorf("AddTrack after Close: %v, want ErrClosed", err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left (had %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// closingHandler ends its own session from a callback, as an application
// does that sets the pipeline to NULL from a bus sync handler.
type closingHandler struct {
	*recorder
	sess     *Session
	closeOn  State
	returned chan time.Duration
	once     sync.Once
}

func (h *closingHandler) OnStateChange(sc StateChange) {
	h.recorder.OnStateChange(sc)
	if sc.State != h.closeOn {
		return
	}
	h.once.Do(func() {
		start := time.Now()
		h.sess.Close()
		h.returned <- time.Since(start)
	})
}

// Close called on the dispatcher goroutine (inside a Handler callback) must
// not wait for that goroutine; the dispatcher still ends once the callback
// has returned, and no goroutine is left behind.
func TestCloseFromAHandlerCallbackReturns(t *testing.T) {
	before := runtime.NumGoroutine()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	h := &closingHandler{recorder: newRecorder(), closeOn: StateConnecting, returned: make(chan time.Duration, 1)}
	s, err := New(Config{URL: "ws://" + addr, APIKey: "k", APISecret: "s", Room: "r", Identity: "i"}, h)
	if err != nil {
		t.Fatal(err)
	}
	h.sess = s
	s.Start()
	select {
	case d := <-h.returned:
		t.Logf("Close from the handler returned in %s", d)
	case <-time.After(5 * time.Second):
		t.Fatal("Close called from a Handler callback did not return: it waits for its own goroutine")
	}
	select {
	case <-s.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("the dispatcher did not end after the callback that closed the session returned")
	}
	s.Close() // a second Close (the element's own) returns at once
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines left (had %d):\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
