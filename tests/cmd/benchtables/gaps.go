package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

type fault struct {
	id, name string
	window   time.Duration
}

var faults = []fault{
	{"reset", "signal socket reset (SigProxy.ResetAll)", 20 * time.Second},
	{"resume", "injected Leave RESUME", 20 * time.Second},
	{"reconnect", "injected Leave RECONNECT", 20 * time.Second},
	{"udp", "UDP blackhole of the publisher (netns)", 30 * time.Second},
	{"kill", "server kill -9, back after 2 s", 20 * time.Second},
}

type gapRun struct {
	video, audio time.Duration // noRecovery when media was not flowing at the end of the window
	keyframe     time.Duration // cut (kill: server back) to the first keyframe after the media resumed; -1: not applicable
	sidKept      bool
	sids         int // participant SIDs the subscriber saw for the publisher
}

// benchGaps measures, per server version, fault and publisher, the largest
// media gap a subscriber sees after the fault.
func benchGaps() error {
	if err := gapMedia.ensure(); err != nil {
		return err
	}
	n := envInt("BENCH_RUNS", 3)
	ids := envList("BENCH_FAULTS", []string{"reset", "resume", "reconnect", "udp", "kill"})
	pubs := envList("BENCH_PUBLISHERS", []string{"golivekitsink", "sdk"})
	var errs []string
	for _, v := range harness.Versions() {
		var rows [][]string
		for _, f := range faults {
			if !slices.Contains(ids, f.id) {
				continue
			}
			for _, pub := range pubs {
				var runs []gapRun
				for i := 1; i <= n; i++ {
					name := fmt.Sprintf("gaps/%s/%s/%s/%d", v, f.id, pub, i)
					err := run(name, func(t *benchTB) {
						r := measureGap(t, v, f, pub, i)
						runs = append(runs, r)
						fmt.Fprintf(os.Stderr, "%s: video %s audio %s, %d SID(s)\n", name, fmtGap(r.video), fmtGap(r.audio), r.sids)
					})
					if err != nil {
						errs = append(errs, err.Error())
					}
				}
				rows = append(rows, gapRow(f, pub, runs))
			}
		}
		notes := []string{
			fmt.Sprintf("gap: subscriber.MaxGap(kind, cut, cut+window) with the window in the fault column; \"no recovery\": no %s packet in the last second of the window. Median of the runs; \"runs\" lists every run (none = no recovery).", "video"),
			"to keyframe: from the fault (server kill: from the server's return) to the first video keyframe packet after the media resumed — on the new track after a RECONNECT, and wherever the gap exceeded 500 ms (packets were lost, so a decoder waits for a keyframe); \"-\": no loss, no keyframe needed.",
			"server kill: a fresh subscriber joins once the server answers again; gap = time from the server back to the first packet at that subscriber (SID kept compares with the SID before the kill).",
			fmt.Sprintf("both publishers send the same pre-encoded %dx%d@30 H264 (~%d kbit/s, keyframe every %s) + Opus files in real time: golivekitsink via gst-launch filesrc ! h264parse ! identity sync=true, the SDK via tests/cmd/sdkpub (server-sdk-go v2.19.0). With a file source golivekitsink's upstream keyframe request cannot be honoured: new subscribers and new tracks wait for the file's next keyframe (up to %s), which a gap counted in packets does not show.",
				gapMedia.Width, gapMedia.Height, gapMedia.Kbps, keyInterval, keyInterval),
			"UDP blackhole: server and subscriber side in one namespace, the publisher in another; nftables drops every UDP packet on the publisher's link. server-sdk-go v2.19.0 gathers UDP candidates only, so it is not expected to recover (docs/protocol.md, ICE timeouts and candidates).",
		}
		table("gaps-"+v, "Media gap per fault, livekit-server "+v,
			[]string{"fault (window)", "publisher", "runs", "video gap (median)", "runs (ms)", "audio gap (median)", "to keyframe (median)", "participant SID kept"},
			rows, notes...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

func gapRow(f fault, pub string, runs []gapRun) []string {
	label := fmt.Sprintf("%s (%s)", f.name, f.window)
	if len(runs) == 0 {
		return []string{label, pub, "0", "-", "-", "-", "-", "-"}
	}
	var vs, as, ks []time.Duration
	kept := 0
	maxSIDs := 0
	for _, r := range runs {
		vs, as = append(vs, r.video), append(as, r.audio)
		if r.keyframe >= 0 {
			ks = append(ks, r.keyframe)
		}
		if r.sidKept {
			kept++
		}
		maxSIDs = max(maxSIDs, r.sids)
	}
	sid := fmt.Sprintf("%d of %d", kept, len(runs))
	if maxSIDs > 1 {
		sid += fmt.Sprintf(" (up to %d SIDs seen)", maxSIDs)
	}
	key := "-"
	if len(ks) > 0 {
		key = fmtGap(median(ks))
	}
	return []string{label, pub, fmt.Sprint(len(runs)), fmtGap(median(vs)), joinGaps(vs), fmtGap(median(as)), key, sid}
}

func measureGap(t *benchTB, version string, f fault, pub string, i int) gapRun {
	so := harness.ServerOptions{Version: version}
	var tp *harness.Topology
	netns := ""
	if f.id == "udp" {
		tp = harness.NewTopology(t)
		so.Netns, so.Host = tp.SrvNS, tp.ServerAddr
		netns = tp.PubNS
	}
	srv := harness.StartServer(t, so)
	url := srv.URL()
	var proxy *harness.SigProxy
	if f.id == "reset" || f.id == "resume" || f.id == "reconnect" {
		proxy = harness.NewSigProxy(t, srv.URL())
		url = proxy.URL()
	}
	room := fmt.Sprintf("gaps-%s-%d", f.id, i)
	key, secret := srv.APIKey(), srv.Secret()
	sub := harness.Subscribe(t, srv.URL(), key, secret, room, "")
	var p *proc
	if pub == "golivekitsink" {
		p = startGst(t, netns, gstFileLaunch(gapMedia, url, room, "pub", key, secret))
	} else {
		p = startProc(t, netns, sdkpubArgs(gapMedia, url, room, "pub", key, secret), nil)
	}
	for _, kind := range []string{"video", "audio"} {
		if err := sub.WaitForPackets(kind, 50, 20*time.Second); err != nil {
			t.Fatalf("publishing never started: %v", err)
		}
	}
	time.Sleep(time.Second) // steady state before breaking anything
	before := sub.ParticipantSIDs("pub")
	if len(before) != 1 {
		t.Fatalf("want one publisher SID before the fault, got %v", before)
	}
	cut := time.Now()
	to := cut.Add(f.window)
	switch f.id {
	case "reset":
		proxy.ResetAll()
	case "resume":
		proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT,
			&livekit.RegionSettings{Regions: []*livekit.RegionInfo{{Region: "here", Url: proxy.URL()}}})
	case "reconnect":
		proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
	case "udp":
		tp.BlockUDP(t)
	case "kill":
		return measureKill(t, srv, room, before[0], f.window)
	}
	time.Sleep(time.Until(to))
	if p.exited() {
		t.Logf("publisher exited during the window: %v", p.exitErr)
	}
	if tp != nil && tp.DroppedPackets(t) == 0 {
		t.Fatalf("the blackhole dropped nothing: this run measured nothing")
	}
	r := gapRun{video: gapOf(sub, "video", cut, to), audio: gapOf(sub, "audio", cut, to), keyframe: -1}
	switch {
	case f.id == "reconnect":
		r.keyframe = since(cut, sub.FirstKeyframeOnNewTrack("video", cut))
	case r.video == noRecovery:
		r.keyframe = noRecovery
	case r.video > 500*time.Millisecond: // packets were lost: a decoder needs a keyframe
		r.keyframe = since(cut, sub.FirstKeyframeAfter("video", resumedAt(sub, cut, to)))
	}
	sids := sub.ParticipantSIDs("pub")
	r.sids, r.sidKept = len(sids), len(sids) == 1 && sids[0] == before[0]
	return r
}

// gapOf is the largest gap of kind in [from, to], or noRecovery when no
// packet arrived in the window's last second.
func gapOf(sub *harness.Subscriber, kind string, from, to time.Time) time.Duration {
	if sub.MaxGap(kind, to.Add(-time.Second), to) >= time.Second {
		return noRecovery
	}
	return sub.MaxGap(kind, from, to)
}

// measureKill: kill -9, 2 s down, restart on the same ports; then a fresh
// subscriber measures from the server's return to the first packet.
func measureKill(t *benchTB, srv *harness.Server, room, sidBefore string, window time.Duration) gapRun {
	srv.Kill()
	time.Sleep(2 * time.Second)
	srv.Restart()
	back := time.Now()
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
	r := gapRun{video: noRecovery, audio: noRecovery, keyframe: noRecovery}
	_ = sub.WaitForPackets("video", 1, time.Until(back.Add(window)))
	_ = sub.WaitForPackets("audio", 1, time.Until(back.Add(window)))
	if at := sub.FirstPacketAt("video"); !at.IsZero() {
		r.video = at.Sub(back)
	}
	for deadline := back.Add(window); r.video != noRecovery && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if at := sub.FirstKeyframeAfter("video", back); !at.IsZero() {
			r.keyframe = at.Sub(back)
			break
		}
	}
	if at := sub.FirstPacketAt("audio"); !at.IsZero() {
		r.audio = at.Sub(back)
	}
	sids := sub.ParticipantSIDs("pub")
	r.sids, r.sidKept = len(sids), len(sids) == 1 && sids[0] == sidBefore
	return r
}

// since is at-from, or noRecovery when at is zero.
func since(from, at time.Time) time.Duration {
	if at.IsZero() {
		return noRecovery
	}
	return at.Sub(from)
}

// resumedAt is the arrival of the first video packet after the largest gap in [from, to].
func resumedAt(sub *harness.Subscriber, from, to time.Time) time.Time {
	var at []time.Time
	for _, tr := range sub.TracksOf("video") {
		for _, p := range tr.Packets {
			if !p.At.Before(from) && !p.At.After(to) {
				at = append(at, p.At)
			}
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	prev, best, end := from, time.Duration(-1), from
	for _, a := range at {
		if d := a.Sub(prev); d > best {
			best, end = d, a
		}
		prev = a
	}
	return end.Add(-time.Nanosecond)
}
