// Package soak runs one GStreamer process with two golivekitsink elements
// (H264 + Opus from live sources, and a second one in the same process)
// against a LiveKit cluster for a long time, injecting a random fault from
// the single-node and the cluster set every interval, and records what a
// leak grows: RSS, open file descriptors, goroutines, and every recovery.
//
//	GLK_SOAK_DURATION  how long (default 5m; `make soak` runs 60m)
//	GLK_SOAK_INTERVAL  faults every min-max (default 60s-120s; 20s-35s for runs under 20 min)
//	GLK_SOAK_REPORT    also write the Markdown report to this file
//	GLK_SOAK_SEED      the fault sequence (default: from the clock; logged)
package soak

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
)

const sampleEvery = 5 * time.Second

type world struct {
	t     *testing.T
	tp    *harness.Topology
	c     *harness.Cluster
	proxy *harness.SigProxy
	app   *harness.Pipeline
	sub   *harness.Subscriber
	room  string
	lost  int // the node a fault stopped, for its heal
}

// fault breaks something; the soak measures from then to the subscriber's
// first video packet after the media gap, then heals what needs healing
// (a node started again) before the next one.
type fault struct {
	name  string
	limit time.Duration // a slower recovery fails the soak
	// inject breaks; true when the subscriber's node died with it.
	inject func(w *world) (subscriberLost bool)
	heal   func(w *world)
}

var faults = []fault{
	{name: "socket reset", limit: 5 * time.Second, inject: func(w *world) bool { w.proxy.ResetAll(); return false }},
	{name: "leave RESUME", limit: 5 * time.Second, inject: func(w *world) bool {
		w.proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT, nil)
		return false
	}},
	{name: "leave RECONNECT", limit: 10 * time.Second, inject: func(w *world) bool {
		w.proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
		return false
	}},
	{name: "ping timeout", limit: 10 * time.Second, inject: func(w *world) bool {
		n := len(w.app.ElementMessages("golivekitsink-connection"))
		w.proxy.DropAll(true)
		w.waitState(n, "resuming", 40*time.Second)
		w.proxy.DropAll(false)
		return false
	}},
	{name: "UDP blackhole", limit: 10 * time.Second, inject: func(w *world) bool {
		w.tp.BlockUDP(w.t) // media moves to ICE/TCP
		return false
	}, heal: func(w *world) { w.tp.UnblockUDP(w.t) }},
	{name: "rolling deploy of the room's node", limit: 10 * time.Second, inject: func(w *world) bool {
		w.lost = w.roomNode()
		w.c.Drain(w.lost)
		time.Sleep(time.Second)
		w.c.ForceStop(w.lost)
		return true
	}, heal: func(w *world) { w.c.StartNode(w.lost) }},
	{name: "kill -9 of the room's node", limit: 20 * time.Second, inject: func(w *world) bool {
		w.lost = w.roomNode()
		w.c.Kill(w.lost)
		return true
	}, heal: func(w *world) { w.c.StartNode(w.lost) }},
	{name: "balancer restart", limit: 5 * time.Second, inject: func(w *world) bool { w.c.RestartBalancer(); return false }},
	{name: "Redis restart", limit: 15 * time.Second, inject: func(w *world) bool {
		w.c.RestartRedis(time.Second)
		w.c.WaitHealthy(30 * time.Second)
		return false
	}},
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err == nil {
			return d
		}
	}
	return def
}

func TestSoak(t *testing.T) {
	total := envDuration("GLK_SOAK_DURATION", 5*time.Minute)
	minGap, maxGap := 60*time.Second, 120*time.Second
	if total < 20*time.Minute {
		minGap, maxGap = 20*time.Second, 35*time.Second
	}
	if v := os.Getenv("GLK_SOAK_INTERVAL"); v != "" {
		if a, b, ok := strings.Cut(v, "-"); ok {
			minGap, _ = time.ParseDuration(a)
			maxGap, _ = time.ParseDuration(b)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("GLK_SOAK_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("soak for %s, a fault every %s-%s, GLK_SOAK_SEED=%d", total, minGap, maxGap, seed)

	w := &world{t: t, room: "soak-a"}
	w.tp = harness.NewTopology(t)
	// Node 1 starts once the rooms are on node 0, where the subscriber is.
	w.c = harness.StartCluster(t, w.tp, harness.ClusterOptions{Nodes: 2, Started: 1})
	w.proxy = harness.NewSigProxyOn(t, w.tp.HostAddr+":0", w.c.URL())
	w.tp.AllowPubToHost(t)

	elem := func(name, room, identity string) string {
		return fmt.Sprintf("golivekitsink name=%s signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
			"signaller::room-name=%s signaller::identity=%s", name, w.proxy.URL(), w.c.APIKey(), w.c.Secret(), room, identity)
	}
	launch := "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 bitrate=400 ! " + elem("lk", "soak-a", "pub-a") + " " +
		"audiotestsrc is-live=true wave=ticks ! opusenc ! lk. " +
		"videotestsrc is-live=true pattern=smpte ! video/x-raw,width=160,height=120,framerate=15/1 ! " +
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 bitrate=150 ! " + elem("lk2", "soak-b", "pub-b")
	host := filepath.Join(harness.RepoRoot(), "tests", "soak", "host.py")
	w.app = harness.RunAppNetns(t, w.tp.PubNS, []string{"/usr/bin/python3", host, fmt.Sprint(sampleEvery.Seconds()), launch},
		"GST_DEBUG=golivekit*:4")
	// The subscriber talks to the room's node directly, so that its own
	// recoveries (balancer, Redis) do not blur the publisher's.
	w.sub = w.resubscribe(0, 30*time.Second)
	if err := w.sub.WaitForPackets("video", 50, 30*time.Second); err != nil {
		t.Fatalf("publishing never started: %v\n%s", err, w.app.Output())
	}
	w.c.StartNode(1)

	type record struct {
		f   fault
		at  time.Time
		rec time.Duration
	}
	var records []record
	start := time.Now()
	for {
		gap := minGap + time.Duration(rng.Int64N(int64(maxGap-minGap)+1))
		if time.Since(start)+gap > total-10*time.Second {
			time.Sleep(max(0, total-time.Since(start)))
			break
		}
		time.Sleep(gap)
		w.assertAlive()
		f := faults[rng.IntN(len(faults))]
		at := time.Now()
		t.Logf("%s: %s", at.Sub(start).Round(time.Second), f.name)
		if f.inject(w) {
			// The subscriber's node died: it joins again, as a viewer would,
			// as soon as the cluster takes the room again.
			w.sub.Close()
			w.sub = w.resubscribe(1-w.lost, 30*time.Second)
		}
		rec := w.mediaBack(at, f.limit+20*time.Second)
		if f.heal != nil {
			f.heal(w)
		}
		t.Logf("   media back %s after the fault", rec.Round(time.Millisecond))
		if rec > f.limit {
			t.Errorf("%s: media back after %s, want <= %s", f.name, rec.Round(time.Millisecond), f.limit)
		}
		records = append(records, record{f, at, rec})
	}
	w.assertAlive()
	w.app.Interrupt()
	w.app.Wait(20 * time.Second)
	if errs := w.app.Errors(); len(errs) > 0 {
		t.Errorf("the application got %d ERROR(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}

	samples := parseSamples(w.app.Stdout())
	window := min(10*time.Minute, total/5)
	first, last := between(samples, 0, window), between(samples, total-window, total+time.Minute)
	var b strings.Builder
	fmt.Fprintf(&b, "Soak: %s, %d faults (seed %d), window %s\n\n", total, len(records), seed, window)
	fmt.Fprintf(&b, "| metric | first %s (median) | last %s (median) | growth |\n|---|---|---|---|\n", window, window)
	for _, m := range []string{"rss_kb", "fds", "goroutines"} {
		a, z := median(first, m), median(last, m)
		fmt.Fprintf(&b, "| %s | %d | %d | %+d |\n", m, a, z, z-a)
	}
	fmt.Fprintf(&b, "\n| fault | count | slowest recovery | limit |\n|---|---|---|---|\n")
	for _, f := range faults {
		n, slowest := 0, time.Duration(0)
		for _, r := range records {
			if r.f.name == f.name {
				n++
				slowest = max(slowest, r.rec)
			}
		}
		if n > 0 {
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", f.name, n, slowest.Round(time.Millisecond), f.limit)
		}
	}
	fmt.Fprintf(&b, "\nERRORs: %d\n", len(w.app.Errors()))
	t.Log("\n" + b.String())
	if p := os.Getenv("GLK_SOAK_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Error(err)
		}
	}
	// Leaks: what the first window holds plus a margin for a recovery in
	// flight at the end (goroutines, sockets of one reconnect, allocator slack).
	if a, z := median(first, "goroutines"), median(last, "goroutines"); a > 0 && z > a+40 {
		t.Errorf("goroutines grew from %d to %d", a, z)
	}
	if a, z := median(first, "fds"), median(last, "fds"); z > a+20 {
		t.Errorf("open file descriptors grew from %d to %d", a, z)
	}
	if a, z := median(first, "rss_kb"), median(last, "rss_kb"); z > a+a/2 {
		t.Errorf("RSS grew from %d kB to %d kB", a, z)
	}
}

// resubscribe joins a new subscriber through node i, retrying while the
// cluster still routes the room to a dead node.
func (w *world) resubscribe(node int, timeout time.Duration) *harness.Subscriber {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sub, err := harness.TrySubscribe(w.t, w.c.NodeURL(node), w.c.APIKey(), w.c.Secret(), w.room, "")
		if err == nil {
			return sub
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("subscriber cannot join again: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (w *world) roomNode() int {
	i := w.c.RoomNode(w.room)
	if i < 0 {
		w.t.Fatalf("no node holds room %s", w.room)
	}
	return i
}

func (w *world) assertAlive() {
	w.t.Helper()
	if w.app.Exited() || len(w.app.Errors()) > 0 {
		w.t.Fatalf("the application ended or posted an ERROR:\n%s", strings.Join(w.app.Errors(), "\n"))
	}
}

// mediaBack is the longest video gap from at on (the outage the fault
// caused), measured once video has flowed for 2 s without a gap of 500 ms,
// and no earlier than 4 s after at: a dead path is noticed within ~3 s.
func (w *world) mediaBack(at time.Time, timeout time.Duration) time.Duration {
	time.Sleep(time.Until(at.Add(4 * time.Second)))
	for deadline := at.Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		now := time.Now()
		if w.sub.LastPacketAt("video").After(at) && w.sub.MaxGap("video", now.Add(-2*time.Second), now) < 500*time.Millisecond {
			break
		}
	}
	return w.sub.MaxGap("video", at, time.Now())
}

// waitState waits for a connection message with state after the first n.
func (w *world) waitState(n int, state string, timeout time.Duration) {
	w.t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		msgs := w.app.ElementMessages("golivekitsink-connection")
		for _, m := range msgs[min(n, len(msgs)):] {
			if harness.ParseStructure(m)["state"] == state {
				return
			}
		}
	}
	w.t.Fatalf("no %s message within %s", state, timeout)
}

type sample struct {
	t      time.Duration
	values map[string]int
}

func parseSamples(out string) []sample {
	var ss []sample
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "SAMPLE ") {
			continue
		}
		s := sample{values: map[string]int{}}
		for _, kv := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(kv, "=")
			if k == "t" {
				f, _ := strconv.ParseFloat(v, 64)
				s.t = time.Duration(f * float64(time.Second))
				continue
			}
			if n, err := strconv.Atoi(v); err == nil {
				s.values[k] = n
			}
		}
		ss = append(ss, s)
	}
	return ss
}

func between(ss []sample, from, to time.Duration) []sample {
	var out []sample
	for _, s := range ss {
		if s.t >= from && s.t < to {
			out = append(out, s)
		}
	}
	return out
}

func median(ss []sample, key string) int {
	var vs []int
	for _, s := range ss {
		if v, ok := s.values[key]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return -1
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}
