// Package faults runs real gst-launch pipelines (H264 + Opus into
// golivekitsink) against real livekit-server versions and breaks things:
// network namespaces with nftables blackholes, a signalling proxy that resets
// sockets and injects Leave requests, kill -9, and two servers as regions.
// Every test asserts that the pipeline never posts an ERROR and measures the
// media gap the subscriber sees.
package faults

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

const identity = "pub"

// world is one publisher pipeline, its server(s) and a subscriber.
type world struct {
	t     *testing.T
	srv   *harness.Server
	tp    *harness.Topology
	proxy *harness.SigProxy
	sub   *harness.Subscriber
	pipe  *harness.Pipeline
	room  string

	allowError bool // the test expects the pipeline to end with an ERROR
}

type worldOptions struct {
	netns      bool   // server and publisher in their own namespaces
	proxy      bool   // signalling goes through a SigProxy
	elemProps  string // extra golivekitsink properties
	wsURL      string // overrides the URL the element dials
	authToken  string // use signaller::auth-token instead of key/secret
	room       string // default: derived from the test name
	rawVideo   bool   // raw video (snow: every bit costs) into the element, which plugs x264enc
	video      string // a video branch that replaces the default one (ends where golivekitsink starts)
	serverOpts harness.ServerOptions
}

// rawSnowVideo is raw video in which every bit costs.
const rawSnowVideo = "videotestsrc is-live=true pattern=snow ! video/x-raw,width=320,height=240,framerate=30/1"

// launchLine is the publisher pipeline; video "" is the default H.264 branch.
func launchLine(wsURL, key, secret, room, token, extra, video string) string {
	creds := fmt.Sprintf("signaller::api-key=%s signaller::secret-key=%s", key, secret)
	if token != "" {
		creds = "signaller::auth-token=" + token
	}
	if video == "" {
		// key-int-max=300: a keyframe every 10 s unless asked for one, so a
		// quick recovery proves the upstream keyframe request works.
		video = "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
			"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 bitrate=400"
	}
	return fmt.Sprintf("%s ! golivekitsink name=lk signaller::ws-url=%s %s signaller::room-name=%s signaller::identity=%s %s "+
		"audiotestsrc is-live=true wave=ticks ! opusenc ! lk.", video, wsURL, creds, room, identity, extra)
}

func newWorld(t *testing.T, version string, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, room: o.room}
	if w.room == "" {
		w.room = "faults-" + strings.NewReplacer("/", "-", ".", "-").Replace(t.Name())
	}
	so := o.serverOpts
	so.Version = version
	if o.netns {
		w.tp = harness.NewTopology(t)
		so.Netns, so.Host = w.tp.SrvNS, w.tp.ServerAddr
	}
	w.srv = harness.StartServer(t, so)
	url := w.srv.URL()
	if o.proxy {
		if o.netns {
			w.proxy = harness.NewSigProxyOn(t, w.tp.HostAddr+":0", w.srv.URL())
			w.tp.AllowPubToHost(t)
		} else {
			w.proxy = harness.NewSigProxy(t, w.srv.URL())
		}
		url = w.proxy.URL()
	}
	if o.wsURL != "" {
		url = o.wsURL
	}
	w.sub = harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
	props, video := o.elemProps, o.video
	if o.rawVideo {
		props, video = props+" video-caps=video/x-h264", rawSnowVideo
	}
	line := launchLine(url, w.srv.APIKey(), w.srv.Secret(), w.room, o.authToken, props, video)
	if o.netns {
		w.pipe = harness.RunPipelineNetns(t, w.tp.PubNS, line)
	} else {
		w.pipe = harness.RunPipeline(t, line)
	}
	t.Cleanup(func() { w.assertNoError() })
	return w
}

// waitPublishing waits until the subscriber has video and audio flowing.
func (w *world) waitPublishing() {
	w.t.Helper()
	for _, kind := range []string{"video", "audio"} {
		if err := w.sub.WaitForPackets(kind, 50, 20*time.Second); err != nil {
			w.t.Fatalf("publishing never started: %v\n%s", err, w.pipe.Output())
		}
	}
	time.Sleep(time.Second) // steady state before breaking anything
}

// participantSID is the publisher's SID as the element reported it last.
func (w *world) participantSID() string {
	msgs := w.pipe.ElementMessages("golivekitsink-connection")
	for i := len(msgs) - 1; i >= 0; i-- {
		if f := harness.ParseStructure(msgs[i]); f["state"] == "connected" {
			return f["participant-sid"]
		}
	}
	return ""
}

// stateAfter waits for an element message with that state newer than the
// first n ones and returns its fields.
func (w *world) stateAfter(n int, state string, timeout time.Duration) map[string]string {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msgs := w.pipe.ElementMessages("golivekitsink-connection")
		for i := n; i < len(msgs); i++ {
			if f := harness.ParseStructure(msgs[i]); f["state"] == state {
				return f
			}
		}
		if w.pipe.Exited() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("no %s message within %s; messages:\n%s", state, timeout, strings.Join(w.pipe.ElementMessages("golivekitsink-connection"), "\n"))
	return nil
}

// connectedAfter waits for a "connected" element message newer than the
// first n ones and returns its fields.
func (w *world) connectedAfter(n int, timeout time.Duration) map[string]string {
	w.t.Helper()
	return w.stateAfter(n, "connected", timeout)
}

func (w *world) messageCount() int { return len(w.pipe.ElementMessages("golivekitsink-connection")) }

// gaps reports the largest video and audio gaps in [from, from+window] once
// the window has passed.
func (w *world) gaps(from time.Time, window time.Duration) (video, audio time.Duration) {
	time.Sleep(time.Until(from.Add(window)))
	to := from.Add(window)
	return w.sub.MaxGap("video", from, to), w.sub.MaxGap("audio", from, to)
}

// keyframeGap is the time from the last video packet before at to the first
// keyframe on a track subscribed after it: how long a viewer had no new
// decodable picture across a full reconnect.
func (w *world) keyframeGap(at time.Time, timeout time.Duration) time.Duration {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if k := w.sub.FirstKeyframeOnNewTrack("video", at); !k.IsZero() {
			return k.Sub(w.sub.LastPacketBefore("video", at))
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("no keyframe on a new video track within %s after %s", timeout, at.Format("15:04:05.000"))
	return 0
}

func (w *world) assertNoError() {
	if w.allowError {
		return
	}
	if errs := w.pipe.Errors(); len(errs) > 0 {
		w.t.Errorf("the pipeline posted an ERROR:\n%s", strings.Join(errs, "\n"))
	}
	if w.pipe.Exited() && w.pipe.ExitCode() != 0 {
		w.t.Errorf("gst-launch exited with %d", w.pipe.ExitCode())
	}
}

// report logs one line of the gap table (the bench target collects them).
func report(t *testing.T, fault string, video, audio time.Duration, sidKept bool) {
	t.Logf("GAP fault=%q server=%s video=%s audio=%s sid-kept=%v", fault, versionOf(t), video.Round(time.Millisecond), audio.Round(time.Millisecond), sidKept)
}

func versionOf(t *testing.T) string {
	parts := strings.Split(t.Name(), "/")
	return parts[len(parts)-1]
}

func forEachVersion(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

// assertContinuousRTP checks that across a resume the subscriber's video
// track stayed one track and its sequence numbers ran on without a jump:
// frames dropped while the transport was down consume no sequence numbers.
// (The SFU forwards sequence gaps so receivers can NACK them; it maps SSRCs,
// so those are not compared here.)
func (w *world) assertContinuousRTP(around time.Time) {
	w.t.Helper()
	tracks := w.sub.TracksOf("video")
	if len(tracks) != 1 {
		w.t.Errorf("a resume must keep the one video track, subscriber saw %d", len(tracks))
		return
	}
	var prev *harness.PacketInfo
	for i := range tracks[0].Packets {
		p := &tracks[0].Packets[i]
		if p.At.Before(around.Add(-2*time.Second)) || p.At.After(around.Add(5*time.Second)) {
			continue
		}
		if prev != nil {
			if d := p.Seq - prev.Seq; d > 5 && d < 0x8000 {
				w.t.Errorf("sequence number jumped by %d at %s (%d -> %d)", d, p.At.Format("15:04:05.000"), prev.Seq, p.Seq)
				return
			}
		}
		prev = p
	}
}
