package sessione2e

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
)

// A recovery that takes longer than SlowRecoveryWarning is reported once as
// a warning; one that outlasts ReconnectBudget ends the session.
func TestSlowRecoveryWarnsAndBudgetEnds(t *testing.T) {
	v := "v1.13.5"
	w := publish(t, v, func(c *session.Config) {
		c.SlowRecoveryWarning = 500 * time.Millisecond
		c.ReconnectBudget = 3 * time.Second
	})
	w.waitMedia(t)
	start := time.Now()
	w.srv.Kill() // and never back
	err := w.ev.waitFatal(10 * time.Second)
	took := time.Since(start)
	if !errors.Is(err, session.ErrBudgetSpent) {
		t.Fatalf("fatal %v, want ErrBudgetSpent", err)
	}
	if took < 3*time.Second || took > 5*time.Second {
		t.Errorf("gave up after %s, want about the 3s budget", took)
	}
	w.ev.mu.Lock()
	defer w.ev.mu.Unlock()
	slow := 0
	for _, e := range w.ev.warns {
		if strings.Contains(e.Error(), "still running") {
			slow++
		}
	}
	if slow != 1 {
		t.Errorf("%d slow-recovery warnings, want exactly 1: %v", slow, w.ev.warns)
	}
}
