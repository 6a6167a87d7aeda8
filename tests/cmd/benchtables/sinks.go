package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// benchSinks: how many golivekitsink elements one gst-launch process carries
// on this machine (2 cores, shared with livekit-server and the subscribers).
// Each sink publishes the 360p30 1 Mbit/s H264 + Opus pair, paced in real
// time, into a room of its own, and every room has a subscriber. Over a
// window after every room receives video, it measures the CPU of the
// publisher, the server and the bench process (the subscribers), and per
// room the video packet and frame rate, the audio packet rate and the
// largest gaps.
func benchSinks() error {
	if err := gapMedia.ensure(); err != nil {
		return err
	}
	vs := harness.Versions()
	version := vs[len(vs)-1]
	var counts []int
	for _, c := range envList("BENCH_SINKS", []string{"1", "4", "8", "16", "32", "64"}) {
		if n, err := strconv.Atoi(c); err == nil && n > 0 {
			counts = append(counts, n)
		}
	}
	var rows [][]string
	var perRoom, errs []string
	err := run("sinks/server", func(t *benchTB) {
		tp := harness.NewTopology(t)
		srv := harness.StartServer(t, harness.ServerOptions{Version: version, Netns: tp.SrvNS, Host: tp.ServerAddr})
		for _, n := range counts {
			err := run(fmt.Sprintf("sinks/%d", n), func(t *benchTB) {
				r := measureSinks(t, srv, tp.PubNS, n)
				rows = append(rows, r.row())
				perRoom = append(perRoom, r.perRoomNote())
			})
			if err != nil {
				errs = append(errs, err.Error())
				rows = append(rows, []string{strconv.Itoa(n), "failed", "", "", "", "", "", "", "", "", "", ""})
			}
		}
	})
	if err != nil {
		return err
	}
	notes := []string{
		fmt.Sprintf("each sink: %dx%d@30 H264 ~%d kbit/s + Opus 20 ms from files (filesrc ! h264parse ! identity sync=true ! golivekitsink), its own room with one subscriber; "+
			"livekit-server %s in one network namespace, the gst-launch publisher in another (tests/harness/netns.go), the subscribers in the bench process on the host side: all share this machine's 2 cores.",
			gapMedia.Width, gapMedia.Height, gapMedia.Kbps, version),
		fmt.Sprintf("window: %s, starting %s after every room's subscriber receives video; CPU from utime+stime in /proc/<pid>/stat over the window; other processes' CPU: the machine's busy time (cores × window − idle and iowait of /proc/stat) minus publisher, server and bench process (other engineers' runs; the machine has 2 cores).",
			sinksWindow, sinksSettle),
		fmt.Sprintf("full rate: a room whose subscriber got at least %.0f%% of 30 video frames/s (distinct RTP timestamps) and of 50 audio packets/s over the window. Target (issue 11): %d sinks, every room at full rate, no video gap over %s.",
			100*fullRateShare, sinksTargetCount, ms(sinksTargetGap)),
		"The plugin's Go runtime uses one P (GOMAXPROCS=1 unless set): all sinks share it.",
	}
	table("sinks", "golivekitsink elements in one gst-launch process",
		[]string{"sinks", "other processes' CPU (cores)", "publisher CPU (cores)", "per sink (% of a core)", "server CPU (cores)", "subscribers CPU (cores)",
			"video pkt/s per room min / median / max", "video fps min", "audio pkt/s min", "rooms at full rate", "largest video gap (room)", "largest audio gap"},
		rows, append(notes, perRoom...)...)
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

const (
	sinksSettle      = 3 * time.Second
	sinksWindow      = 15 * time.Second
	fullRateShare    = 0.98
	sinksTargetCount = 32
	sinksTargetGap   = 100 * time.Millisecond
	subscribeWorkers = 8 // concurrent room joins of the subscribers
)
