package harness

// What a Subscriber recorded: tracks, packet arrivals, gaps and participant SIDs.

import (
	"fmt"
	"slices"
	"time"
)

// Tracks returns a snapshot of every track subscribed so far, in order.
func (s *Subscriber) Tracks() []RecordedTrack {
	s.mu.Lock()
	tracks := slices.Clone(s.tracks)
	s.mu.Unlock()
	out := make([]RecordedTrack, 0, len(tracks))
	for _, tr := range tracks {
		tr.mu.Lock()
		r := tr.rec
		r.Packets = slices.Clone(tr.rec.Packets)
		tr.mu.Unlock()
		out = append(out, r)
	}
	return out
}

// TracksOf returns the tracks of one kind ("audio", "video"), all publishers.
func (s *Subscriber) TracksOf(kind string) []RecordedTrack {
	var out []RecordedTrack
	for _, r := range s.Tracks() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// wait blocks until cond holds or timeout passes.
func (s *Subscriber) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			return cond()
		}
	}
}

// WaitForTracks waits until at least n tracks were subscribed.
func (s *Subscriber) WaitForTracks(n int, timeout time.Duration) ([]RecordedTrack, error) {
	ok := s.wait(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.tracks) >= n
	})
	tracks := s.Tracks()
	if !ok {
		return tracks, fmt.Errorf("subscriber %s: %d of %d tracks after %v", s.Identity, len(tracks), n, timeout)
	}
	return tracks, nil
}

// WaitForPackets waits until at least n packets of kind arrived (all tracks).
func (s *Subscriber) WaitForPackets(kind string, n int, timeout time.Duration) error {
	count := func() int {
		c := 0
		for _, tr := range s.recorders(kind) {
			tr.mu.Lock()
			c += len(tr.rec.Packets)
			tr.mu.Unlock()
		}
		return c
	}
	if !s.wait(timeout, func() bool { return count() >= n }) {
		return fmt.Errorf("subscriber %s: %d of %d %s packets after %v%s", s.Identity, count(), n, kind, timeout, s.readErrorSummary(kind))
	}
	return nil
}

// readErrorSummary describes the failed reads on kind's tracks, "" if none.
func (s *Subscriber) readErrorSummary(kind string) string {
	n := 0
	var first error
	for _, tr := range s.recorders(kind) {
		tr.mu.Lock()
		n += tr.readErrors
		if first == nil {
			first = tr.firstReadErr
		}
		tr.mu.Unlock()
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed reads, the first: %v)", n, first)
}

func (s *Subscriber) recorders(kind string) []*trackRecorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*trackRecorder
	for _, tr := range s.tracks {
		if kind == "" || tr.rec.Kind == kind {
			out = append(out, tr)
		}
	}
	return out
}

// arrivals returns the sorted arrival times of kind's packets over all tracks.
func (s *Subscriber) arrivals(kind string) []time.Time {
	var at []time.Time
	for _, tr := range s.recorders(kind) {
		tr.mu.Lock()
		for _, p := range tr.rec.Packets {
			at = append(at, p.At)
		}
		tr.mu.Unlock()
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	return at
}

// FirstPacketAt is the arrival time of the first packet of kind (zero if none).
func (s *Subscriber) FirstPacketAt(kind string) time.Time {
	if at := s.arrivals(kind); len(at) > 0 {
		return at[0]
	}
	return time.Time{}
}

// LastPacketAt is the arrival time of the latest packet of kind (zero if none).
func (s *Subscriber) LastPacketAt(kind string) time.Time {
	if at := s.arrivals(kind); len(at) > 0 {
		return at[len(at)-1]
	}
	return time.Time{}
}

// PacketCount is the number of packets of kind received (all tracks).
func (s *Subscriber) PacketCount(kind string) int { return len(s.arrivals(kind)) }

// MaxGap is the largest interval without a packet of kind within [from, to],
// across all track objects of that kind (so a full reconnect that replaces
// the tracks counts as one gap). The window edges count: if no packet arrives
// between from and to, the gap is to-from. A zero from or to means "the first"
// or "the last packet", without an edge gap.
func (s *Subscriber) MaxGap(kind string, from, to time.Time) time.Duration {
	var pts []time.Time
	if !from.IsZero() {
		pts = append(pts, from)
	}
	for _, a := range s.arrivals(kind) {
		if (from.IsZero() || !a.Before(from)) && (to.IsZero() || !a.After(to)) {
			pts = append(pts, a)
		}
	}
	if !to.IsZero() {
		pts = append(pts, to)
	}
	var max time.Duration
	for i := 1; i < len(pts); i++ {
		if d := pts[i].Sub(pts[i-1]); d > max {
			max = d
		}
	}
	return max
}

// ParticipantSIDs returns the distinct participant SIDs seen for identity, in
// the order first seen.
func (s *Subscriber) ParticipantSIDs(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.sids {
		if e.Identity == identity && !slices.Contains(out, e.SID) {
			out = append(out, e.SID)
		}
	}
	for _, tr := range s.tracks {
		if tr.rec.Identity == identity && tr.rec.ParticipantSID != "" && !slices.Contains(out, tr.rec.ParticipantSID) {
			out = append(out, tr.rec.ParticipantSID)
		}
	}
	return out
}

// SIDEvents returns every participant SID observation, in time order.
func (s *Subscriber) SIDEvents() []SIDEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sids)
}

// DistinctTimestamps is the number of distinct RTP timestamps among packets:
// the number of frames (video) or packets (audio) that at least partly arrived.
func DistinctTimestamps(packets []PacketInfo) int {
	seen := make(map[uint64]bool, len(packets))
	for _, p := range packets {
		seen[uint64(p.SSRC)<<32|uint64(p.Timestamp)] = true
	}
	return len(seen)
}
