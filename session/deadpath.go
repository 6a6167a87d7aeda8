package session

import (
	"fmt"
	"time"
)

// Dead-path detection (docs/protocol.md, "Dead-path detection"): while media
// goes out, livekit-server answers on arrival with TWCC feedback (at most
// every 100 ms, once more than 20 packets are held) and a receiver report
// per SSRC (one a second). Media sent for a whole window with no RTCP back means the path is
// dead, well before ICE gives up on it.
const (
	pathCheckEvery = 100 * time.Millisecond
	// pathIdleReset: no media for this long (dynacast paused every layer,
	// mute) and no feedback is owed any more; the clock starts again.
	pathIdleReset = 300 * time.Millisecond
	// The window is pathWindowFactor times the usual gap between RTCP
	// arrivals, within [pathWindowMin, pathWindowMax]: 1 s with video,
	// longer for audio alone, whose feedback comes every ~0.45 s.
	pathWindowFactor = 4
	pathWindowMin    = 1 * time.Second
	pathWindowMax    = 2500 * time.Millisecond
	pathGapStart     = 100 * time.Millisecond
)

// pathWatch decides from samples of two counters, RTP packets sent and RTCP
// packets received on the publisher transport, taken every pathCheckEvery,
// whether the path is dead. It owns no clock: the caller passes the time.
type pathWatch struct {
	primed              bool
	lastSent, lastHeard uint64
	lastSendAt          time.Time     // latest sample that saw media go out
	sendingSince        time.Time     // first sample of the current run of media going out
	lastHeardAt         time.Time     // latest sample that saw RTCP
	quietSince          time.Time     // first sample that saw media go out unanswered; zero: nothing owed
	gap                 time.Duration // smoothed time between RTCP arrivals while media goes out
	// For the debug log: since the last report, the longest gap between
	// RTCP arrivals while media went out, and from when to how many packets.
	longest     time.Duration
	reportFrom  time.Time
	reportHeard uint64
}

func newPathWatch() pathWatch { return pathWatch{gap: pathGapStart} }

// window is how long media may go out unanswered before the path is dead.
func (w *pathWatch) window() time.Duration {
	return min(max(pathWindowFactor*w.gap, pathWindowMin), pathWindowMax)
}

// observe takes one sample. dead reports media going out unanswered for a
// whole window; quiet is for how long.
func (w *pathWatch) observe(now time.Time, sent, heard uint64) (quiet time.Duration, dead bool) {
	sending := sent > w.lastSent
	heardNew := heard != w.lastHeard
	w.lastSent, w.lastHeard = sent, heard
	if !w.primed {
		w.primed = true
		w.reportFrom, w.reportHeard = now, heard
		return 0, false
	}
	if sending {
		if w.lastSendAt.IsZero() || now.Sub(w.lastSendAt) >= pathIdleReset {
			w.sendingSince = now
		}
		w.lastSendAt = now
	} else if now.Sub(w.lastSendAt) >= pathIdleReset {
		w.quietSince = time.Time{} // media stopped: no feedback owed
	}
	if heardNew {
		// Only gaps while media went out the whole time say how often
		// the SFU answers.
		if !w.lastHeardAt.IsZero() && !w.sendingSince.IsZero() && !w.sendingSince.After(w.lastHeardAt) {
			g := min(now.Sub(w.lastHeardAt), pathWindowMax)
			w.gap += (g - w.gap) / 8
			w.longest = max(w.longest, g)
		}
		w.lastHeardAt = now
		w.quietSince = time.Time{}
		return 0, false
	}
	if !sending {
		return 0, false
	}
	if w.quietSince.IsZero() {
		w.quietSince = now
	}
	quiet = now.Sub(w.quietSince)
	return quiet, quiet >= w.window()
}

// report says, once every period, how often RTCP arrived since the last
// report and the longest gap while media went out; ok is false in between.
func (w *pathWatch) report(now time.Time, period time.Duration) (line string, ok bool) {
	if !w.primed || now.Sub(w.reportFrom) < period {
		return "", false
	}
	n := w.lastHeard - w.reportHeard
	line = fmt.Sprintf("%d RTCP packets from the SFU in %s, longest gap while sending %s, usual %s, window %s",
		n, now.Sub(w.reportFrom).Round(time.Millisecond), w.longest, w.gap.Round(time.Millisecond), w.window().Round(time.Millisecond))
	w.reportFrom, w.reportHeard, w.longest = now, w.lastHeard, 0
	return line, true
}
