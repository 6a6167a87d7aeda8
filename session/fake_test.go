package session

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// Helpers for driving sessions through signallertest's fake server.

const waitLong = 5 * time.Second // generous: the machine may be loaded

// watcher is a Handler that keeps everything and lets tests wait for it.
type watcher struct {
	mu       sync.Mutex
	changed  chan struct{}
	states   []StateChange
	fatal    error
	warnings []error
	data     []DataMessage
}

func newWatcher() *watcher { return &watcher{changed: make(chan struct{})} }

func (w *watcher) update(f func()) {
	w.mu.Lock()
	f()
	close(w.changed)
	w.changed = make(chan struct{})
	w.mu.Unlock()
}

func (w *watcher) OnStateChange(sc StateChange)   { w.update(func() { w.states = append(w.states, sc) }) }
func (w *watcher) OnKeyframeRequest(*Track)       {}
func (w *watcher) OnWarning(err error)            { w.update(func() { w.warnings = append(w.warnings, err) }) }
func (w *watcher) OnFatal(err error)              { w.update(func() { w.fatal = err }) }
func (w *watcher) OnTrackError(_ *Track, _ error) {}
func (w *watcher) OnData(m DataMessage)           { w.update(func() { w.data = append(w.data, m) }) }

// waitFor waits until cond (called under w.mu) holds.
func (w *watcher) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitLong)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		ok, ch := cond(), w.changed
		w.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			w.mu.Lock()
			defer w.mu.Unlock()
			t.Fatalf("no %s within %s; states %v, fatal %v", what, waitLong, stateNames(w.states), w.fatal)
		}
	}
}

// waitState returns the first state change at or after index from that is
// st, and the index after it.
func (w *watcher) waitState(t *testing.T, from int, st State) (StateChange, int) {
	t.Helper()
	var got StateChange
	next := 0
	w.waitFor(t, "state "+st.String(), func() bool {
		for i := from; i < len(w.states); i++ {
			if w.states[i].State == st {
				got, next = w.states[i], i+1
				return true
			}
		}
		return false
	})
	return got, next
}

func (w *watcher) waitFatal(t *testing.T) error {
	t.Helper()
	var err error
	w.waitFor(t, "fatal error", func() bool { err = w.fatal; return err != nil })
	return err
}

// count is the number of state changes so far.
func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.states)
}

func (w *watcher) fatalErr() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fatal
}

func stateNames(states []StateChange) string {
	var out []string
	for _, sc := range states {
		out = append(out, fmt.Sprintf("%s(%s)", sc.State, sc.Reason))
	}
	return strings.Join(out, " → ")
}

// bufferedLogger keeps the session's log and shows it when the test failed
// (t.Log must not be called once the test is over).
type bufferedLogger struct {
	mu    sync.Mutex
	lines []string
}

func newBufferedLogger(t *testing.T) *bufferedLogger {
	l := &bufferedLogger{}
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			t.Log("session log:\n" + strings.Join(l.lines, "\n"))
			l.mu.Unlock()
		}
	})
	return l
}

func (l *bufferedLogger) add(level, f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, time.Now().Format("15:04:05.000 ")+level+" "+fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *bufferedLogger) Debugf(f string, a ...any) { l.add("DEBUG", f, a...) }
func (l *bufferedLogger) Infof(f string, a ...any)  { l.add("INFO ", f, a...) }
func (l *bufferedLogger) Warnf(f string, a ...any)  { l.add("WARN ", f, a...) }
func (l *bufferedLogger) Errorf(f string, a ...any) { l.add("ERROR", f, a...) }

// fastBackoff is the policy's backoff, twenty times shorter.
func fastBackoff(attempt int, jitter bool) time.Duration { return backoff(attempt, jitter) / 20 }

// newFake starts a fake server whose peer connections answer offers.
func newFake(t *testing.T, o signallertest.Options) *signallertest.Server {
	o.AnswerOffers = true
	return signallertest.NewServer(t, o)
}

// startSession starts a session with minted tokens against url; edit may
// change the config. It closes with the test.
func startSession(t *testing.T, url string, edit func(*Config)) (*Session, *watcher) {
	t.Helper()
	cfg := Config{URL: url, APIKey: "key", APISecret: "secret-of-the-test", Room: "room", Identity: "pub",
		Logger: newBufferedLogger(t)}
	if edit != nil {
		edit(&cfg)
	}
	w := newWatcher()
	s, err := New(cfg, w)
	if err != nil {
		t.Fatal(err)
	}
	s.backoff = fastBackoff
	s.Start()
	t.Cleanup(s.Close)
	return s, w
}

// connected starts a session against srv and waits until its peer
// connection is up; it returns the first socket and the Connected change.
func connected(t *testing.T, srv *signallertest.Server, edit func(*Config)) (*Session, *watcher, *signallertest.Conn, StateChange) {
	t.Helper()
	s, w := startSession(t, srv.URL(), edit)
	sc, _ := w.waitState(t, 0, StateConnected)
	c := srv.WaitConnects(1, waitLong)[0]
	if c.Reconnect || c.Conn == nil || sc.ParticipantSID != c.Conn.Participant() {
		t.Fatalf("first connect %+v, connected as %s", c, sc.ParticipantSID)
	}
	return s, w, c.Conn, sc
}

// readLeavePolicy is the table of docs/leave-policy.md, with as many rows
// as the code has.
func readLeavePolicy(t *testing.T) []signallertest.PolicyRow {
	t.Helper()
	rows, err := signallertest.ReadLeavePolicy(leaveDoc)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(leaveRules)+2 {
		t.Fatalf("%d rows in %s, want %d", len(rows), leaveDoc, len(leaveRules)+2)
	}
	return rows
}

// leaveOf is the LeaveRequest a row stands for.
func leaveOf(t *testing.T, r signallertest.PolicyRow) *livekit.LeaveRequest {
	t.Helper()
	l, err := r.Leave()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scaledPings is a SignalConn whose ping interval and timeout are ten times
// shorter than the server asked (the JoinResponse counts whole seconds).
type scaledPings struct{ SignalConn }

func (c scaledPings) Start(interval, timeout time.Duration) {
	c.SignalConn.Start(interval/10, timeout/10)
}

func dialScaledPings(ctx context.Context, o signaller.DialOptions) (SignalConn, *livekit.SignalResponse, error) {
	c, first, err := dialSignaller(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return scaledPings{c}, first, nil
}
