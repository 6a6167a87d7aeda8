package sessione2e

import (
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
)

// With congestion control on, the estimator runs on the SFU's real TWCC
// feedback: started at 100 kbit/s below the ~250 kbit/s the VP8 frames
// need, its target must climb and reach the handler. GCC climbs about 8% a
// second, so +25% takes some 3 s.
func TestEstimatorFollowsTheSFUsFeedback(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, func(c *session.Config) {
			c.CongestionControl = true
			c.StartBitrate = 100_000
		})
		w.waitMedia(t)
		deadline := time.Now().Add(15 * time.Second)
		for {
			b := w.ev.bitrates()
			if len(b) >= 2 && b[len(b)-1] >= 125_000 {
				// The session records a target before the handler hears of
				// it, so TargetBitrate may already be a newer one.
				if got := w.s.TargetBitrate(); got < 125_000 {
					t.Fatalf("TargetBitrate() = %d, want the reported climb (last %d)", got, b[len(b)-1])
				}
				t.Logf("targets: %v", b)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the target did not climb to 125 kbit/s within 15s: %v", b)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}
