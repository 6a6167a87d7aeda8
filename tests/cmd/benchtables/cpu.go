package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

type cpuRun struct {
	cpu, wall time.Duration
	packets   int
}

// perMin is CPU-seconds per media-minute.
func (r cpuRun) perMin(media time.Duration) float64 { return r.cpu.Seconds() / media.Minutes() }

const cpuTarget = 0.8

// benchCPU publishes the same pre-encoded 1080p30 file pair with
// golivekitsink (gst-launch, paced by identity sync=true) and with sdkpub
// (server-sdk-go), one after the other against one server, and compares the
// CPU time of the two processes.
func benchCPU() error {
	if err := cpuMedia.ensure(); err != nil {
		return err
	}
	vs := harness.Versions()
	version := vs[len(vs)-1]
	n := envInt("BENCH_RUNS", 3)
	pubs := []string{"golivekitsink", "sdk", "baseline"}
	res := map[string][]cpuRun{}
	var errs []string
	err := run("cpu/server", func(t *benchTB) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: version})
		for i := 1; i <= n; i++ {
			for _, pub := range pubs {
				err := run(fmt.Sprintf("cpu/%s/%d", pub, i), func(t *benchTB) {
					res[pub] = append(res[pub], measureCPU(t, srv, pub, fmt.Sprintf("cpu-%s-%d", pub, i)))
				})
				if err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	})
	if err != nil {
		return err
	}
	media := cpuMedia.Length
	var rows [][]string
	med := map[string]float64{}
	for _, pub := range pubs {
		var per []float64
		var cells []string
		for _, r := range res[pub] {
			per = append(per, r.perMin(media))
			cells = append(cells, fmt.Sprintf("%.2f", r.perMin(media)))
		}
		if len(per) == 0 {
			rows = append(rows, []string{pub, "0", "-", "-", "-", "-"})
			continue
		}
		med[pub] = medianF(per)
		last := res[pub][len(res[pub])-1]
		pkts := fmt.Sprint(last.packets)
		if pub == "baseline" {
			pkts = "n/a"
		}
		rows = append(rows, []string{pub, fmt.Sprint(len(per)), fmt.Sprintf("%.2f", med[pub]), strings.Join(cells, " / "),
			fmt.Sprintf("%.1f s", last.wall.Seconds()), pkts})
	}
	ratio := "-"
	if med["golivekitsink"] > 0 && med["sdk"] > 0 {
		r := med["golivekitsink"] / med["sdk"]
		verdict := "yes"
		if r > cpuTarget {
			verdict = "NO"
		}
		ratio = fmt.Sprintf("%.2f (target ≤ %.1f: %s)", r, cpuTarget, verdict)
	}
	rows = append(rows, []string{"ratio golivekitsink / sdk", "", ratio, "", "", ""})
	if b := med["baseline"]; b > 0 && med["golivekitsink"] > 0 && med["sdk"] > 0 {
		rows = append(rows, []string{"ratio (golivekitsink − baseline) / sdk", "", fmt.Sprintf("%.2f", (med["golivekitsink"]-b)/med["sdk"]), "", "", ""})
	}
	table("cpu", "CPU per media-minute: golivekitsink vs server-sdk-go, same pre-encoded frames",
		[]string{"publisher", "runs", "CPU-s per media-min (median)", "per run", "wall (last run)", "video packets at subscriber (last run)"},
		rows,
		fmt.Sprintf("media: %dx%d@30 H264 constrained-baseline ~%d kbit/s (x264enc ultrafast, key-int-max=60) + Opus 20 ms, %s, pre-encoded once (%s).",
			cpuMedia.Width, cpuMedia.Height, cpuMedia.Kbps, media, cacheDir),
		"golivekitsink: gst-launch-1.0 filesrc ! h264parse ! identity sync=true ! golivekitsink, filesrc ! oggdemux ! opusparse ! identity sync=true ! lk. — the whole gst-launch process is counted (parsers and demuxer included).",
		"baseline (information only): the same gst-launch pipeline with fakesink instead of golivekitsink — the reading, parsing and pacing share of the golivekitsink row.",
		"sdk: tests/cmd/sdkpub (server-sdk-go v2.19.0 LocalSampleTrack, one sample per access unit at 30 fps, one per Opus packet).",
		"CPU: utime+stime from wait4's rusage of each process over its whole life (join, publish, leave), divided by the media length; livekit-server "+version+" on 127.0.0.1, one publisher at a time, a subscriber in the bench process.")
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

func measureCPU(t *benchTB, srv *harness.Server, pub, room string) cpuRun {
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
	var p *proc
	switch pub {
	case "golivekitsink":
		p = startGst(t, "", gstFileLaunch(cpuMedia, srv.URL(), room, "pub", srv.APIKey(), srv.Secret()))
	case "baseline":
		p = startGst(t, "", baselineLaunch(cpuMedia))
	default:
		p = startProc(t, "", sdkpubArgs(cpuMedia, srv.URL(), room, "pub", srv.APIKey(), srv.Secret()), nil)
	}
	if err := p.wait(cpuMedia.Length + 30*time.Second); err != nil {
		t.Fatalf("%s: %v", pub, err)
	}
	r := cpuRun{cpu: p.cpu(), wall: time.Since(p.started), packets: sub.PacketCount("video")}
	if pub == "baseline" {
		return r
	}
	if r.packets == 0 || sub.PacketCount("audio") == 0 {
		t.Fatalf("%s: the subscriber got %d video and %d audio packets", pub, r.packets, sub.PacketCount("audio"))
	}
	if r.cpu == 0 {
		t.Fatalf("%s: no rusage", pub)
	}
	return r
}

// baselineLaunch reads, parses and paces the pair like gstFileLaunch, into fakesinks.
func baselineLaunch(m mediaPair) string {
	return fmt.Sprintf("filesrc location=%s ! h264parse ! identity sync=true ! fakesink "+
		"filesrc location=%s ! oggdemux ! opusparse ! identity sync=true ! fakesink", m.H264, m.Ogg)
}
