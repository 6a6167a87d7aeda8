package lifecycle

import (
	"strconv"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// resources is what the driver process holds: file descriptors, sockets
// among them, and goroutines of the plugin's Go runtime (stats).
type resources struct{ fds, sockets, goroutines int }

func (w *world) resources() resources {
	w.t.Helper()
	f := fields(w.drv.do("fds", "FDS ", 5*time.Second))
	st := harness.ParseStructure(w.drv.do("stats", "STATS ", 5*time.Second))
	var r resources
	var err error
	if r.fds, err = strconv.Atoi(f["total"]); err == nil {
		r.sockets, err = strconv.Atoi(f["sockets"])
	}
	if err == nil {
		r.goroutines, err = strconv.Atoi(st["goroutines"])
	}
	if err != nil {
		w.t.Fatalf("reading resources: %v (stats %v)", err, st)
	}
	return r
}

// settledResources waits up to 2 s for the counts to stop moving.
func (w *world) settledResources() resources {
	w.t.Helper()
	prev := w.resources()
	for i := 0; i < 10; i++ {
		time.Sleep(200 * time.Millisecond)
		cur := w.resources()
		if cur == prev {
			return cur
		}
		prev = cur
	}
	return prev
}

// publish sets PLAYING and waits until every track is published.
func (w *world) publish(tracks ...string) map[string]string {
	w.t.Helper()
	n := w.drv.count()
	w.drv.setState("PLAYING")
	return w.drv.waitState("connected", n, 30*time.Second, tracks...)
}

// Setting the pipeline to READY or NULL while the element is resuming or
// reconnecting returns within 1 s and leaves nothing behind: as many file
// descriptors, sockets and goroutines as after a clean PLAYING -> READY /
// NULL cycle in the same process (which is the reference, since GStreamer,
// pion and Go's runtime keep what they once set up: thread pools, the
// netpoller).
func TestStopWhileRecovering(t *testing.T) {
	forEachRecovery(t, func(t *testing.T, r recovery, v string) {
		w := newWorld(t, v, audioBranch(0))
		tracks := []string{"video_0", "audio_0"}
		t.Logf("before the first PLAYING: %+v", w.settledResources())
		ref := map[string]resources{}
		for _, target := range []string{"READY", "NULL"} {
			w.publish(tracks...)
			w.drv.setState(target)
			ref[target] = w.settledResources()
		}
		t.Logf("reference after a clean cycle: READY %+v, NULL %+v", ref["READY"], ref["NULL"])
		for _, target := range []string{"READY", "NULL"} {
			w.publish(tracks...)
			w.hold(r)
			took := w.drv.setState(target)
			at := w.resources()
			r.end(w)
			got := w.settledResources()
			t.Logf("%s while %s took %s; right after: %+v, settled: %+v", target, r.state, took.Round(time.Millisecond), at, got)
			if took > time.Second {
				t.Errorf("set_state(%s) while %s took %s, want <= 1s", target, r.state, took.Round(time.Millisecond))
			}
			// The Go runtime's own goroutines come and go (2 or 3 at rest):
			// more than the reference is a leak, fewer is not.
			if want := ref[target]; got.fds > want.fds || got.sockets > want.sockets || got.goroutines > want.goroutines {
				t.Errorf("after %s while %s: %+v, want no more than a clean cycle leaves: %+v", target, r.state, got, want)
			}
		}
	})
}

// A state change made on the element's own callback goroutine while it
// recovers, from a bus sync handler (on the connection message) or from a
// notify::connection-state callback, returns instead of deadlocking: the
// session's Close must not wait for the goroutine it is called from.
func TestStateChangeFromCallbackWhileRecovering(t *testing.T) {
	forEachRecovery(t, func(t *testing.T, r recovery, v string) {
		w := newWorld(t, v, audioBranch(0))
		for _, c := range []struct{ how, arm, answer string }{
			{"bus sync handler", "arm-sync " + r.state + " READY", "SYNCSET READY "},
			{"notify::connection-state", "arm-notify NULL", "NOTIFYSET NULL "},
		} {
			w.publish("video_0", "audio_0")
			w.drv.do(c.arm, "ARMED ", 5*time.Second)
			n := w.drv.count()
			r.start(w)
			rest, ok := w.drv.waitLine(c.answer, n, 20*time.Second)
			r.end(w)
			if !ok {
				t.Fatalf("set_state from the %s while %s did not return within 20 s (deadlock)", c.how, r.state)
			}
			took := parseSet(t, rest)
			thread := fields(rest)["thread"]
			t.Logf("set_state from the %s while %s: %s on thread %s", c.how, r.state, took.Round(time.Millisecond), thread)
			if thread == "MainThread" || thread == "" {
				t.Errorf("the %s ran on %q, want the element's callback thread", c.how, thread)
			}
			if took > time.Second {
				t.Errorf("set_state from the %s took %s, want <= 1s", c.how, took.Round(time.Millisecond))
			}
		}
	})
}
