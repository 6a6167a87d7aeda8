package e2e

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Raw input: golivekitsink plugs the encoders itself, like livekitwebrtcsink.

const (
	readmeFrames = 120 // 8 s at 15 fps
	rawAudioBufs = 400 // of 960 samples
)

var (
	// The reference README's pipeline (net/webrtc/README.md) with the
	// element name swapped; num-buffers bounds the run.
	readmeVideo = fmt.Sprintf("videotestsrc is-live=1 num-buffers=%d ! video/x-raw,width=640,height=360,framerate=15/1 ! timeoverlay ! videoconvert ! queue", readmeFrames)
	// audiotestsrc ! audioconvert: the element offers 48 kHz S16LE first,
	// so audiotestsrc settles on 48 kHz mono: 400 x 960 samples are 8 s,
	// i.e. 400 Opus frames of 20 ms.
	rawAudio       = fmt.Sprintf("audiotestsrc is-live=1 num-buffers=%d samplesperbuffer=960 ! audioconvert", rawAudioBufs)
	rawAudioFrames = int(math.Ceil(float64(rawAudioBufs) * 960 / 48000 / 0.020))

	rawCases = []publishCase{
		{"readme-h264+audio", readmeVideo + " ! golivekitsink name=lk %s video-caps=video/x-h264 " + rawAudio + " ! lk.",
			map[string]sent{"video": {"video/H264", readmeFrames, 15}, "audio": {"audio/opus", rawAudioFrames, 50}}},
		{"default-caps-vp8", readmeVideo + " ! golivekitsink name=lk %s",
			map[string]sent{"video": {"video/VP8", readmeFrames, 15}}},
		{"vp9-from-video-caps", readmeVideo + " ! golivekitsink name=lk %s video-caps=video/x-vp9",
			map[string]sent{"video": {"video/VP9", readmeFrames, 15}}},
		// av1enc is slow: a tiny picture at 10 fps.
		{"av1-from-video-caps", "videotestsrc is-live=1 num-buffers=60 ! video/x-raw,width=160,height=120,framerate=10/1 ! golivekitsink name=lk %s video-caps=video/x-av1",
			map[string]sent{"video": {"video/AV1", 60, 10}}},
		{"audio-stereo-48k", fmt.Sprintf("audiotestsrc is-live=1 num-buffers=%d samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! golivekitsink name=lk %%s", rawAudioBufs),
			map[string]sent{"audio": {"audio/opus", rawAudioBufs, 50}}},
	}
)

// TestPublishRaw publishes raw video/audio through the element's own
// encoders into both server versions; same counting rule as TestPublish.
func TestPublishRaw(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			for _, c := range rawCases {
				t.Run(c.name, func(t *testing.T) { runPublishCase(t, v, c) })
			}
		})
	}
}

// TestRawCompatProperties sets every livekitwebrtcsink property that
// golivekitsink accepts without using it, plus the bitrate ones, and checks
// that the pipeline parses and publishes, that start-bitrate reaches the
// encoder (snow, which x264enc would send at the 2 Mbit/s default, at
// about 300 kbit/s; vp8enc cannot go that low on snow), and that turn-servers takes a
// turn://user:password@host entry, refuses one without a password with a WARNING, and never
// shows the TURN password.
func TestRawCompatProperties(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { runCompatProps(t, v) })
	}
}

func runCompatProps(t *testing.T, version string) {
	const (
		frames   = 240 // 8 s at 30 fps
		start    = 300000
		turnPass = "turn-password-do-not-print"
	)
	srv := harness.StartServer(t, harness.ServerOptions{Version: version})
	room, identity := "compat", "gst-compat"
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, filepath.Join(t.TempDir(), "media"))
	compat := strings.Join([]string{
		"congestion-control=disabled", "min-bitrate=100000", "max-bitrate=1000000", fmt.Sprintf("start-bitrate=%d", start),
		"do-fec=false", "do-retransmission=false", "do-clock-signalling=true",
		"enable-data-channel-navigation=true", "enable-control-data-channel=true",
		`meta="meta,foo=(string)bar"`, "forward-metas=timecode", "enable-mitigation-modes=none", "rtx-percentage=10",
		"run-web-server=false", "web-server-directory=/nonexistent", "web-server-host-addr=http://127.0.0.1:1",
		"ice-transport-policy=all",
		// The harness's LiveKit already names this loopback STUN address:
		// an explicit stun-server is added, and nothing leaves the machine.
		"stun-server=stun://" + srv.Host() + ":3478",
		`turn-servers="<\"turn://user:` + turnPass + `@127.0.0.1:3478\", \"turn://nopass@127.0.0.1:3479\">"`,
		"signaller::role=producer", "signaller::producer-peer-id=nobody", `signaller::excluded-producer-peer-ids="<a,b>"`,
		"video-caps=video/x-h264",
	}, " ")
	launch := fmt.Sprintf("videotestsrc is-live=1 pattern=snow num-buffers=%d ! video/x-raw,width=320,height=240,framerate=30/1 ! golivekitsink name=lk %s %s",
		frames, sinkProps(srv, room, identity), compat)
	p := harness.RunPipeline(t, launch)
	if _, err := sub.WaitForTracks(1, 15*time.Second); err != nil {
		t.Fatalf("%v; pipeline output:\n%s", err, p.Output())
	}
	requireCleanExit(t, p, 40*time.Second)
	time.Sleep(time.Second)
	sub.Close()

	if strings.Contains(p.Output(), turnPass) {
		t.Errorf("the TURN password appears in the gst-launch output")
	}
	warned := false
	for _, w := range p.Warnings() {
		if strings.Contains(w, "turn-servers") && strings.Contains(w, "turn://xxxxx@127.0.0.1:3479") && strings.Contains(w, "user:password") {
			warned = true
		} else {
			t.Errorf("unexpected WARNING: %s", w)
		}
	}
	if !warned {
		t.Errorf("no turn-servers WARNING; warnings: %q", p.Warnings())
	}

	tracks := sub.TracksOf("video")
	if len(tracks) != 1 || tracks[0].Codec != "video/H264" {
		t.Fatalf("video tracks: %+v", tracks)
	}
	tr := tracks[0]
	// Bitrate over the steady part: skip the first second (keyframe, start-up).
	var bytes int
	from := sub.FirstPacketAt("video").Add(time.Second)
	to := sub.LastPacketAt("video")
	for _, pk := range tr.Packets {
		if !pk.At.Before(from) && !pk.At.After(to) {
			bytes += pk.PayloadSize
		}
	}
	secs := to.Sub(from).Seconds()
	if secs < 3 {
		t.Fatalf("only %.1f s of video", secs)
	}
	kbps := float64(bytes) * 8 / secs / 1000
	decoded := harness.DecodedFrames(t, tr.File, tr.Codec)
	t.Logf("snow H.264 at start-bitrate=%d: %.0f kbit/s payload over %.1f s, %d packets, %d frames decoded", start, kbps, secs, len(tr.Packets), decoded)
	if kbps > 2*start/1000 || kbps < start/1000/4 {
		t.Errorf("payload bitrate %.0f kbit/s, want about %d (start-bitrate)", kbps, start/1000)
	}
	if decoded < frames/3 {
		t.Errorf("%d frames decoded of %d sent", decoded, frames)
	}
}
