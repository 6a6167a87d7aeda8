package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
)

// The issue 11 targets: median and max of PLAYING -> first video packet.
const (
	startupTarget    = 150 * time.Millisecond
	startupMaxTarget = 400 * time.Millisecond
)

func liveLaunch(url, room, identity, key, secret string) string {
	return fmt.Sprintf("videotestsrc is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "+
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=2000 ! "+
		"golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=%s "+
		"audiotestsrc is-live=true wave=ticks ! opusenc ! lk.", url, key, secret, room, identity)
}

// subscriberSettle: the pipeline starts this long after the subscriber
// joined. livekit-server sends a joining subscriber an offer and delays the
// subscriber's next offer until 150 ms after it (its negotiation debounce),
// so a pipeline started at once measured that debounce, not the publisher.
const subscriberSettle = 300 * time.Millisecond

type startupRun struct{ video, media, audio, connected time.Duration }

// benchStartup: t0 = arrival of gst-launch's "Setting pipeline to PLAYING"
// line, t1 = the first video packet at a subscriber that joined before.
// Each server version is measured cold (a fresh server, the element's join
// its first of an unknown SDK) and warm (the same after one such join).
func benchStartup() error {
	n := envInt("BENCH_STARTUP_RUNS", 5)
	var rows [][]string
	var errs []string
	for _, v := range harness.Versions() {
		for _, warm := range []bool{false, true} {
			server := "cold"
			if warm {
				server = "warm"
			}
			var runs []startupRun
			for i := 1; i <= n; i++ {
				err := run(fmt.Sprintf("startup/%s/%s/%d", v, server, i), func(t *benchTB) {
					runs = append(runs, measureStartup(t, v, i, warm))
				})
				if err != nil {
					errs = append(errs, err.Error())
				}
			}
			if len(runs) == 0 {
				rows = append(rows, []string{v, server, "0", "-", "-", "-", "-", "-", "-", "-"})
				continue
			}
			var vs, ms2, as, cs []time.Duration
			for _, r := range runs {
				vs, ms2, as, cs = append(vs, r.video), append(ms2, r.media), append(as, r.audio), append(cs, r.connected)
			}
			med, mx := median(vs), maxDur(vs)
			verdict := "yes"
			if med > startupTarget || mx > startupMaxTarget {
				verdict = "NO"
			}
			rows = append(rows, []string{v, server, fmt.Sprint(len(runs)), ms(med), ms(mx), verdict, joinGaps(vs),
				ms(median(ms2)) + " / " + ms(maxDur(ms2)), ms(median(cs)), ms(median(as))})
		}
	}
	table("startup", "Time from PLAYING to the first video packet at the subscriber",
		[]string{"server", "state", "runs", "median", "max", "target (median ≤ " + ms(startupTarget) + ", max ≤ " + ms(startupMaxTarget) + ")",
			"runs (ms)", "first video with payload (median / max)", "PLAYING→connected (median)", "PLAYING→first audio (median)"},
		rows,
		"t0: arrival of gst-launch's \"Setting pipeline to PLAYING\" stdout line; t1: subscriber's FirstPacketAt(\"video\"); the subscriber joined the room "+ms(subscriberSettle)+" before the pipeline started (livekit-server holds a subscriber's second offer until 150 ms after its first, the one it gets at join).",
		"first video with payload: the first video packet that is not padding only (the SFU sends padding-only packets on a down track that has no key frame yet).",
		"cold: a fresh server per run, the element's join its first of an SDK it does not know (livekit-server initialises its user-agent parser then, once per process, about 90 ms here). "+
			"warm: a fresh server per run that has had one such join before (signaller.Dial, room warmup), as a server that has been running for a while has.",
		"pipeline: videotestsrc is-live 1280x720@30 ! x264enc tune=zerolatency ultrafast key-int-max=60 2 Mbit/s, audiotestsrc is-live ! opusenc, into golivekitsink on 127.0.0.1.",
		"PLAYING→connected: the element's golivekitsink-connection state=connected message as printed by gst-launch -m.")
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

func measureStartup(t *benchTB, version string, i int, warm bool) startupRun {
	srv := harness.StartServer(t, harness.ServerOptions{Version: version})
	if warm {
		warmUp(t, srv)
	}
	room := fmt.Sprintf("startup-%d", i)
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
	time.Sleep(subscriberSettle)
	p := startGst(t, "", liveLaunch(srv.URL(), room, "pub", srv.APIKey(), srv.Secret()))
	for _, kind := range []string{"video", "audio"} {
		if err := sub.WaitForPackets(kind, 1, 20*time.Second); err != nil {
			t.Fatalf("%v", err)
		}
	}
	media, ok := firstPayloadAt(sub, "video", 5*time.Second)
	if !ok {
		t.Fatalf("no video packet with a payload")
	}
	t0, ok := p.lineAt("Setting pipeline to PLAYING")
	if !ok {
		t.Fatalf("no \"Setting pipeline to PLAYING\" line")
	}
	r := startupRun{video: sub.FirstPacketAt("video").Sub(t0), media: media.Sub(t0), audio: sub.FirstPacketAt("audio").Sub(t0)}
	if c, ok := p.lineContaining("golivekitsink-connection, state=(string)connected"); ok {
		r.connected = c.Sub(t0)
	}
	p.stop(5 * time.Second)
	return r
}

// warmUp joins and leaves once as the element does (its URL, so its sdk=).
func warmUp(t *benchTB, srv *harness.Server) {
	creds := signaller.Credentials{APIKey: srv.APIKey(), APISecret: srv.Secret(), Room: "warmup", Identity: "warmup"}
	tok, err := creds.Token()
	if err != nil {
		t.Fatalf("warm-up token: %v", err)
	}
	u, err := signaller.BuildURL(srv.URL(), signaller.URLParams{})
	if err != nil {
		t.Fatalf("warm-up URL: %v", err)
	}
	conn, _, err := signaller.Dial(context.Background(), signaller.DialOptions{URL: u, Token: tok})
	if err != nil {
		t.Fatalf("warm-up join: %v", err)
	}
	conn.Leave(livekit.DisconnectReason_CLIENT_INITIATED)
}

// firstPayloadAt waits for the first packet of kind that carries a payload
// and returns its arrival time.
func firstPayloadAt(sub *harness.Subscriber, kind string, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for {
		var first time.Time
		for _, tr := range sub.TracksOf(kind) {
			for _, p := range tr.Packets {
				if p.PayloadSize > 0 {
					if first.IsZero() || p.At.Before(first) {
						first = p.At
					}
					break
				}
			}
		}
		if !first.IsZero() || time.Now().After(deadline) {
			return first, !first.IsZero()
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func maxDur(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
