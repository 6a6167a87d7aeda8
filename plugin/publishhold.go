package plugin

import "time"

// publishHold is how long, at startup, a pad whose caps are known waits for
// the other pads' first caps before its track is published alone.
//
// livekit-server subscribes the room's participants to a track as soon as it
// has the publisher's offer for it, and sends each subscriber one offer for
// what it added within 10 ms. A second offer to the same subscriber within
// 150 ms of the last one waits those 150 ms (its negotiation debounce). An
// opusenc has caps a few ms after PLAYING, a video encoder tens of ms later:
// published one by one, the video's offer to every subscriber waited the
// full 150 ms. Publishing the pads that start together in one batch puts
// both tracks in one subscriber offer (docs/architecture.md, "From NULL to
// the first packet"). After publishHold a late pad no longer delays the
// others, and it misses the debounce anyway.
const publishHold = 150 * time.Millisecond

// publishHoldState is the element's startup batch: when the first pad with
// caps started waiting, and the timer that publishes it when the hold runs
// out. Guarded by element.mu; reset by stopSession.
type publishHoldState struct {
	since time.Time
	timer *time.Timer
}

// publishReadyLocked publishes the track of every pad that has caps and no
// track yet, unless another pad still waits for its first caps and the
// startup hold has not run out. e.mu is held.
func (e *element) publishReadyLocked() {
	if e.sess == nil {
		return
	}
	ready, waiting := false, false
	for _, p := range e.pads {
		switch {
		case p.released:
		case p.spec != nil:
			ready = ready || p.awaitsTrackLocked()
		case p.member == nil && !p.eos.Load():
			// No caps yet (a simulcast group's pad with caps has a member).
			waiting = true
		}
	}
	if !ready {
		return
	}
	if waiting {
		now := time.Now()
		if e.hold.since.IsZero() {
			e.hold.since = now
		}
		if left := e.hold.since.Add(publishHold).Sub(now); left > 0 {
			if e.hold.timer == nil {
				e.debugf("publishing held up to %v for the pads still without caps", left.Round(time.Millisecond))
				e.hold.timer = time.AfterFunc(left, e.publishHeld)
			}
			return
		}
	}
	if e.hold.since.IsZero() {
		e.hold.since = time.Now() // the startup batch is over
	}
	for _, p := range e.pads {
		if p.awaitsTrackLocked() {
			e.addTrackLocked(p)
		}
	}
}

// awaitsTrackLocked reports whether p has caps to publish and no track yet
// (and its publication has not failed). e.mu is held.
func (p *sinkPad) awaitsTrackLocked() bool {
	return !p.released && p.spec != nil && p.track.Load() == nil && !p.unpublishable
}

// publishHeld runs when the startup hold runs out.
func (e *element) publishHeld() {
	defer recoverToBus(e.gst, "publish-hold")
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hold.timer = nil
	e.publishReadyLocked()
}

// stopPublishHoldLocked forgets the startup batch and the failed
// publications: the next session starts anew.
// e.mu is held.
func (e *element) stopPublishHoldLocked() {
	if e.hold.timer != nil {
		e.hold.timer.Stop()
		e.hold.timer = nil
	}
	e.hold.since = time.Time{}
	for _, p := range e.pads {
		p.unpublishable = false
	}
}
