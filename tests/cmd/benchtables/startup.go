package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

const startupTarget = 500 * time.Millisecond

func liveLaunch(url, room, identity, key, secret string) string {
	return fmt.Sprintf("videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "+
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=2000 ! "+
		"golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=%s "+
		"audiotestsrc is-live=true wave=ticks ! opusenc ! lk.", url, key, secret, room, identity)
}

type startupRun struct{ video, audio, connected time.Duration }

// benchStartup: t0 = arrival of gst-launch's "Setting pipeline to PLAYING"
// line, t1 = the first video packet at a subscriber that joined before.
func benchStartup() error {
	n := envInt("BENCH_STARTUP_RUNS", 5)
	var rows [][]string
	var errs []string
	for _, v := range harness.Versions() {
		var runs []startupRun
		for i := 1; i <= n; i++ {
			err := run(fmt.Sprintf("startup/%s/%d", v, i), func(t *benchTB) {
				runs = append(runs, measureStartup(t, v, i))
			})
			if err != nil {
				errs = append(errs, err.Error())
			}
		}
		if len(runs) == 0 {
			rows = append(rows, []string{v, "0", "-", "-", "-", "-", "-", "-"})
			continue
		}
		var vs, as, cs []time.Duration
		for _, r := range runs {
			vs, as, cs = append(vs, r.video), append(as, r.audio), append(cs, r.connected)
		}
		med, mx := median(vs), maxDur(vs)
		verdict := "yes"
		if med > startupTarget {
			verdict = "NO"
		}
		rows = append(rows, []string{v, fmt.Sprint(len(runs)), ms(med), ms(mx),
			"≤ " + ms(startupTarget) + ": " + verdict, joinGaps(vs), ms(median(cs)), ms(median(as))})
	}
	table("startup", "Time from PLAYING to the first video packet at the subscriber",
		[]string{"server", "runs", "median", "max", "target (median)", "runs (ms)", "PLAYING→connected (median)", "PLAYING→first audio (median)"},
		rows,
		"t0: arrival of gst-launch's \"Setting pipeline to PLAYING\" stdout line; t1: subscriber's FirstPacketAt(\"video\"); the subscriber joined the room before the pipeline started.",
		"pipeline: videotestsrc is-live 1280x720@30 ! x264enc tune=zerolatency ultrafast key-int-max=60 2 Mbit/s, audiotestsrc is-live ! opusenc, into golivekitsink on 127.0.0.1; a fresh server per run.",
		"PLAYING→connected: the element's golivekitsink-connection state=connected message as printed by gst-launch -m.")
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

func measureStartup(t *benchTB, version string, i int) startupRun {
	srv := harness.StartServer(t, harness.ServerOptions{Version: version})
	room := fmt.Sprintf("startup-%d", i)
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
	p := startGst(t, "", liveLaunch(srv.URL(), room, "pub", srv.APIKey(), srv.Secret()))
	for _, kind := range []string{"video", "audio"} {
		if err := sub.WaitForPackets(kind, 1, 20*time.Second); err != nil {
			t.Fatalf("%v", err)
		}
	}
	t0, ok := p.lineAt("Setting pipeline to PLAYING")
	if !ok {
		t.Fatalf("no \"Setting pipeline to PLAYING\" line")
	}
	r := startupRun{video: sub.FirstPacketAt("video").Sub(t0), audio: sub.FirstPacketAt("audio").Sub(t0)}
	if c, ok := p.lineContaining("golivekitsink-connection, state=(string)connected"); ok {
		r.connected = c.Sub(t0)
	}
	p.stop(5 * time.Second)
	return r
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
