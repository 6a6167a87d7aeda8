package plugin

import (
	"strconv"
	"testing"
	"time"
)

// NULL -> PLAYING -> NULL 100 times, each time connecting to the fake and
// publishing an Opus track: the plugin's goroutines (stats "goroutines")
// and the host process's file descriptors do not grow.
func TestStateChurn(t *testing.T) {
	const cycles, warmup = 100, 5
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, ""))
	h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)

	var baseGoroutines, baseFDs int
	start := time.Now()
	for i := 1; i <= cycles; i++ {
		n := h.count()
		h.setState("PLAYING")
		h.waitConnected(n, 10*time.Second, "audio_0")
		h.setState("NULL")
		if i == warmup {
			baseGoroutines, baseFDs = h.goroutines(), h.fds()
		}
		if t.Failed() {
			t.Fatalf("cycle %d failed", i)
		}
	}
	elapsed := time.Since(start)
	if got := len(srv.Connects()); got != cycles {
		t.Errorf("%d connects for %d cycles", got, cycles)
	}

	// Goroutines and descriptors a stopped session leaves are gone within
	// moments; growth that stays is a leak.
	var goroutines, fds int
	deadline := time.Now().Add(10 * time.Second)
	for {
		goroutines, fds = h.goroutines(), h.fds()
		if (goroutines <= baseGoroutines && fds <= baseFDs) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d cycles in %s; after cycle %d: %d goroutines, %d fds; after cycle %d: %d goroutines, %d fds",
		cycles, elapsed.Round(time.Millisecond), warmup, baseGoroutines, baseFDs, cycles, goroutines, fds)
	if goroutines > baseGoroutines {
		t.Errorf("goroutines grew from %d to %d over %d cycles", baseGoroutines, goroutines, cycles-warmup)
	}
	if fds > baseFDs {
		t.Errorf("file descriptors grew from %d to %d over %d cycles", baseFDs, fds, cycles-warmup)
	}
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}

// goroutines is the stats property's goroutines (the plugin's Go runtime).
func (h *host) goroutines() int {
	h.t.Helper()
	n, err := strconv.Atoi(h.stats()["goroutines"])
	if err != nil {
		h.t.Fatalf("stats without goroutines: %v", err)
	}
	return n
}

// fds counts the host process's open file descriptors.
func (h *host) fds() int {
	h.t.Helper()
	n, err := strconv.Atoi(h.do("fds", "FDS ", 10*time.Second))
	if err != nil {
		h.t.Fatalf("fds: %v", err)
	}
	return n
}
