package session

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// The rows of the state table that no other session test reaches, driven
// through real sessions against signallertest's server.

// Simulate("leave-full-reconnect") and ("switch-candidate-*"): the server
// is told, and the session joins again as a new participant; the candidate
// switch waits a moment for the server to store the new preference.
func TestSimulatedFullReconnectsJoinAgain(t *testing.T) {
	for _, name := range []string{"leave-full-reconnect", "switch-candidate-tcp"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			s, w, conn, first := connected(t, srv, nil)
			from := w.count()
			asked := time.Now()
			if err := s.Simulate(name); err != nil {
				t.Fatal(err)
			}
			if conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetSimulate() != nil }) == nil {
				t.Fatal("the server got no SimulateScenario")
			}
			c := srv.WaitConnects(2, waitLong)[1]
			if c.Reconnect {
				t.Fatalf("%s: the session resumed, want a new join", name)
			}
			if name == "switch-candidate-tcp" && c.At.Sub(asked) < switchCandidateSettle {
				t.Fatalf("joined again %s after the switch, want at least %s", c.At.Sub(asked), switchCandidateSettle)
			}
			back, _ := w.waitState(t, from, StateConnected)
			if back.ParticipantSID == first.ParticipantSID {
				t.Fatalf("still participant %s after a full reconnect", back.ParticipantSID)
			}
		})
	}
}

// A recovery that outlasts recovery-warning posts one WARNING and goes on;
// one that outlasts reconnect-budget ends the session with ErrBudgetSpent.
func TestSlowRecoveryWarnsThenTheBudgetEndsIt(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	_, w, conn, _ := connected(t, srv, func(cfg *Config) {
		cfg.SlowRecoveryWarning = 100 * time.Millisecond
		cfg.ReconnectBudget = 600 * time.Millisecond
	})
	srv.SetDefault(signallertest.Refuse(http.StatusServiceUnavailable, "node draining"))
	conn.Drop()
	err := w.waitFatal(t)
	if !errors.Is(err, ErrBudgetSpent) {
		t.Fatalf("ended with %v, want ErrBudgetSpent", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.warnings) != 1 || !strings.Contains(w.warnings[0].Error(), "recovery still running") {
		t.Fatalf("warnings %v, want one slow-recovery warning", w.warnings)
	}
}
