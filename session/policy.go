package session

import (
	"math/rand/v2"
	"time"
)

// Timing constants in one place. docs/protocol.md, "Every timing constant", explains each.
const (
	joinTimeout        = 10 * time.Second // upgrade + first frame
	pcConnectTimeout   = 15 * time.Second // peer connection after the offer (JS peerConnectionTimeout)
	resumeAttempts     = 3                // signal-only resume retries before a full reconnect
	keyframeMinSpacing = 300 * time.Millisecond
	// switchCandidateSettle: between SimulateScenario switch_candidate_protocol
	// and the full reconnect that picks the new ICE preference up.
	switchCandidateSettle = 500 * time.Millisecond

	// pion ICE timing: notice a dead media path within ~3 s, long before the
	// server's 15 s, and resume on our own (measured; docs/protocol.md, "ICE timeouts and candidates").
	iceDisconnectedTimeout = 2 * time.Second
	iceFailedTimeout       = 1 * time.Second
	iceKeepalive           = 500 * time.Millisecond
)

// backoff is the delay before recovery attempt n (1-based). A server-requested
// recovery (Leave) always starts at once; later attempts back off like the JS
// SDK's policy, shortened so a server that is back within seconds is found
// within about a second, with jitter so many sinks do not retry in lockstep.
func backoff(attempt int, jitter bool) time.Duration {
	steps := []time.Duration{0, 300 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond,
		2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second}
	i := attempt - 1
	if i < 0 {
		i = 0
	}
	if i >= len(steps) {
		i = len(steps) - 1
	}
	d := steps[i]
	if jitter && attempt > 2 {
		d += time.Duration(rand.Int64N(int64(d / 4)))
	}
	return d
}
