package session

import (
	"math/rand/v2"
	"testing"
	"time"
)

// pathSim drives a pathWatch with a fake clock: every pathCheckEvery it
// takes a sample of the counters the test moves.
type pathSim struct {
	w           pathWatch
	now         time.Time
	sent, heard uint64
}

func newPathSim() *pathSim {
	s := &pathSim{w: newPathWatch(), now: time.Unix(1000, 0)}
	s.w.observe(s.now, 0, 0)
	return s
}

// run advances d; each tick sends media when send says so and delivers RTCP
// when answer says so (both get the tick's time since the start of run).
// It returns the time since the start of run at which the path was
// declared dead, or -1.
func (s *pathSim) run(d time.Duration, send, answer func(at time.Duration) bool) time.Duration {
	for at := pathCheckEvery; at <= d; at += pathCheckEvery {
		s.now = s.now.Add(pathCheckEvery)
		if send(at) {
			s.sent += 5
		}
		if answer(at) {
			s.heard++
		}
		if _, dead := s.w.observe(s.now, s.sent, s.heard); dead {
			return at
		}
	}
	return -1
}

func always(time.Duration) bool { return true }
func never(time.Duration) bool  { return false }
func every(p time.Duration) func(time.Duration) bool {
	return func(at time.Duration) bool { return at%p == 0 }
}

func TestPathWatchSteadyFeedbackIsAlive(t *testing.T) {
	s := newPathSim()
	if at := s.run(time.Minute, always, always); at >= 0 {
		t.Fatalf("dead at %s with feedback every sample", at)
	}
	if w := s.w.window(); w != pathWindowMin {
		t.Fatalf("window %s with feedback every %s, want %s", w, pathCheckEvery, pathWindowMin)
	}
}

// Media goes on, feedback stops: dead one window after the first
// unanswered sample.
func TestPathWatchCutIsDeadAfterTheWindow(t *testing.T) {
	s := newPathSim()
	s.run(10*time.Second, always, always)
	at := s.run(10*time.Second, always, never)
	if want := pathCheckEvery + pathWindowMin; at != want {
		t.Fatalf("dead %s after the cut, want %s", at, want)
	}
}

// A dynacast pause or a mute: no media, so no feedback is owed, however
// long; media that starts again is judged from its own start.
func TestPathWatchNoMediaOwesNoFeedback(t *testing.T) {
	s := newPathSim()
	s.run(5*time.Second, always, always)
	if at := s.run(30*time.Second, never, never); at >= 0 {
		t.Fatalf("dead at %s while nothing was sent", at)
	}
	// Media starts again; its first feedback comes after 300 ms.
	if at := s.run(10*time.Second, always, func(at time.Duration) bool { return at >= 300*time.Millisecond }); at >= 0 {
		t.Fatalf("dead at %s after media resumed and feedback followed", at)
	}
	s.run(time.Second, never, never)
	at := s.run(10*time.Second, always, never)
	if want := pathCheckEvery + pathWindowMin; at != want {
		t.Fatalf("media resumed unanswered: dead after %s, want %s", at, want)
	}
}

// Media that stops just after a cut leaves nothing owed: a last packet's
// feedback may be lost or held back by the SFU until more media arrives.
func TestPathWatchMediaThatStopsIsNotDead(t *testing.T) {
	s := newPathSim()
	s.run(5*time.Second, always, always)
	if at := s.run(10*time.Second, func(at time.Duration) bool { return at <= 500*time.Millisecond }, never); at >= 0 {
		t.Fatalf("dead at %s, media stopped after 500 ms", at)
	}
}

// Audio alone: livekit-server answers every ~0.45 s (TWCC once 20 packets
// are held) and the window grows with that gap.
func TestPathWatchSparseFeedbackWidensTheWindow(t *testing.T) {
	s := newPathSim()
	if at := s.run(time.Minute, always, every(500*time.Millisecond)); at >= 0 {
		t.Fatalf("dead at %s with feedback every 500 ms", at)
	}
	if w := s.w.window(); w < 1800*time.Millisecond || w > pathWindowMax {
		t.Fatalf("window %s with feedback every 500 ms, want about 2 s", w)
	}
	// A lost report or two is not a dead path.
	if at := s.run(10*time.Second, always, func(at time.Duration) bool { return at >= 1500*time.Millisecond && at%(500*time.Millisecond) == 0 }); at >= 0 {
		t.Fatalf("dead at %s after 1.5 s without feedback, window %s", at, s.w.window())
	}
	at := s.run(10*time.Second, always, never)
	if at < 1800*time.Millisecond || at > pathWindowMax+pathCheckEvery {
		t.Fatalf("audio alone cut: dead after %s, want about 2 s", at)
	}
}

// 20% of the feedback lost and the rest late by up to 600 ms (300 ms of
// jitter each way) for ten simulated minutes: never dead.
func TestPathWatchLossAndJitterAreNotDead(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newPathSim()
	var arrivals []time.Duration
	for at := pathCheckEvery; at <= 10*time.Minute; at += pathCheckEvery {
		if r.IntN(100) >= 20 {
			arrivals = append(arrivals, at+time.Duration(r.Int64N(int64(600*time.Millisecond))))
		}
	}
	answered := func(at time.Duration) bool {
		for len(arrivals) > 0 && arrivals[0] <= at {
			arrivals = arrivals[1:]
			return true
		}
		return false
	}
	if at := s.run(10*time.Minute, always, answered); at >= 0 {
		t.Fatalf("dead at %s on a lossy, jittery path", at)
	}
}
