package sessione2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
)

// events records what the session tells its handler.
type events struct {
	t       testing.TB
	mu      sync.Mutex
	states  []session.StateChange
	targets []int // OnTargetBitrate calls
	warns   []error
	fatal   error
	changed chan struct{}
}

func newEvents(t testing.TB) *events { return &events{t: t, changed: make(chan struct{})} }

func (e *events) bump() {
	close(e.changed)
	e.changed = make(chan struct{})
}

func (e *events) OnStateChange(sc session.StateChange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.t.Logf("%s state %s (%s) attempt=%d sid=%s", time.Now().Format("15:04:05.000"), sc.State, sc.Reason, sc.Attempt, sc.ParticipantSID)
	e.states = append(e.states, sc)
	e.bump()
}
func (e *events) OnKeyframeRequest(*session.Track) {}

// OnTargetBitrate makes events a session.BitrateHandler.
func (e *events) OnTargetBitrate(bps int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.targets = append(e.targets, bps)
	e.bump()
}

func (e *events) bitrates() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int(nil), e.targets...)
}
func (e *events) OnWarning(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.warns = append(e.warns, err)
	e.bump()
}
func (e *events) OnFatal(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fatal = err
	e.bump()
}
func (e *events) OnTrackError(t *session.Track, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.warns = append(e.warns, fmt.Errorf("%s: %w", t.Name(), err))
	e.bump()
}

// waitState waits for a state change after index from that satisfies ok,
// and returns it with its index.
func (e *events) waitState(from int, timeout time.Duration, ok func(session.StateChange) bool) (session.StateChange, int) {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for i := from; i < len(e.states); i++ {
			if ok(e.states[i]) {
				sc := e.states[i]
				e.mu.Unlock()
				return sc, i
			}
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			e.t.Fatalf("no matching state change within %s", timeout)
		}
	}
}

// warnings returns the warnings and track errors so far.
func (e *events) warnings() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.warns...)
}

func (e *events) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.states)
}

func (e *events) waitFatal(timeout time.Duration) error {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		f, ch := e.fatal, e.changed
		e.mu.Unlock()
		if f != nil {
			return f
		}
		select {
		case <-ch:
		case <-deadline:
			e.t.Fatalf("session did not end within %s", timeout)
		}
	}
}

// fatalErr is the error the session ended with, or nil.
func (e *events) fatalErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.fatal
}

func isState(st session.State) func(session.StateChange) bool {
	return func(sc session.StateChange) bool { return sc.State == st }
}

type testLogger struct{ t testing.TB }

// Debug lines too: go test shows them only for a failing test, where they
// are the evidence (peer connection and ICE states).
func (l testLogger) Debugf(f string, a ...any) { l.t.Logf("D "+f, a...) }
func (l testLogger) Infof(f string, a ...any)  { l.t.Logf("I "+f, a...) }
func (l testLogger) Warnf(f string, a ...any)  { l.t.Logf("W "+f, a...) }
func (l testLogger) Errorf(f string, a ...any) { l.t.Logf("E "+f, a...) }
