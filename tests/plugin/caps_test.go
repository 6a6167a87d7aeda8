package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
)

const (
	// rawVideoBranch's size changes through its capsfilter "vcaps".
	rawVideoBranch = "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! " +
		"videoscale ! capsfilter name=vcaps caps=video/x-raw,width=320,height=240"
	rawAudioBranch = "audiotestsrc is-live=true wave=ticks ! capsfilter caps=audio/x-raw,rate=44100,channels=1"
)

// trackSID is the track-sid of pad's track in stats ("" if none).
func trackSID(stats map[string]string, pad string) string {
	return harness.ParseStructure(stats[pad])["track-sid"]
}

// Encoded H.264 and Opus are published as they come, raw video and audio
// through the encoders the element plugs (video-caps picks x264enc); every
// track is offered and sends. A new size on the raw video pad reaches
// LiveKit as UpdateLocalVideoTrack, the track staying the same.
func TestCapsNegotiation(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, "video-caps=video/x-h264"))
	h.do("branch enc-v video "+h264Branch, "BRANCH enc-v video_0", 10*time.Second)
	h.do("branch enc-a audio "+opusBranch, "BRANCH enc-a audio_0", 10*time.Second)
	h.do("branch raw-v video "+rawVideoBranch, "BRANCH raw-v video_1", 10*time.Second)
	h.do("branch raw-a audio "+rawAudioBranch, "BRANCH raw-a audio_1", 10*time.Second)
	h.setState("PLAYING")
	pads := []string{"video_0", "audio_0", "video_1", "audio_1"}
	h.waitConnected(0, 20*time.Second, pads...)
	waitOffered(t, srv, 10*time.Second, pads...)
	assertSending(t, h, pads...)

	codecs := map[string]string{}
	stats := h.stats()
	for _, p := range pads {
		codecs[p] = harness.ParseStructure(stats[p])["codec"]
	}
	for p, want := range map[string]string{"video_0": "video/H264", "video_1": "video/H264", "audio_0": "audio/opus", "audio_1": "audio/opus"} {
		if !strings.EqualFold(codecs[p], want) {
			t.Errorf("%s publishes %q, want %s", p, codecs[p], want)
		}
	}

	sid := trackSID(stats, "video_1")
	conn := liveConn(srv)
	h.do("caps vcaps video/x-raw,width=480,height=360", "CAPS vcaps", 5*time.Second)
	conn.WaitRequest(10*time.Second, func(r *livekit.SignalRequest) bool {
		u := r.GetUpdateVideoTrack()
		return u != nil && u.GetTrackSid() == sid && u.GetWidth() == 480 && u.GetHeight() == 360
	})
	if got := trackSID(h.stats(), "video_1"); got != sid {
		t.Errorf("video_1's track is %s after the size change, was %s", got, sid)
	}
	assertSending(t, h, pads...)
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}

// Caps the element cannot build a chain for (raw video it must encode to
// an H.264 profile x264enc does not make) are a CORE/NEGOTIATION ERROR
// naming the pad and the caps (docs/properties.md, "Errors on the bus");
// the element's other pads keep sending.
func TestUnbuildableCaps(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, "video-caps=video/x-h264,profile=no-such-profile"))
	h.do("branch enc-v video "+h264Branch, "BRANCH enc-v video_0", 10*time.Second)
	h.do("branch enc-a audio "+opusBranch, "BRANCH enc-a audio_0", 10*time.Second)
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "video_0", "audio_0")
	n := h.count()
	h.do("branch raw-v video "+rawVideoBranch, "BRANCH raw-v video_1", 10*time.Second)
	errLine, ok := h.waitLine("ERROR ", n, 10*time.Second)
	if !ok {
		t.Fatalf("no ERROR for caps the element cannot build a chain for")
	}
	if !strings.HasPrefix(errLine, "core negotiation ") || !strings.Contains(errLine, "video_1") || !strings.Contains(errLine, "no-such-profile") {
		t.Errorf("ERROR %q, want core negotiation naming video_1 and the caps", errLine)
	}
	t.Logf("ERROR %s", errLine)
	assertSending(t, h, "video_0", "audio_0")
	if _, ok := h.stats()["video_1"]; ok {
		t.Errorf("video_1 has a track")
	}
	waitOffered(t, srv, 5*time.Second, "video_0", "audio_0")
}

// Caps outside a pad's template (audio linked to a video pad without the
// link's caps check) are refused: that branch stops with not-negotiated,
// nothing is published for the pad, and the other pads go on
// (docs/properties.md, "Errors on the bus").
func TestCapsOutsideTemplate(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, ""))
	h.do("branch enc-v video "+h264Branch, "BRANCH enc-v video_0", 10*time.Second)
	h.do("branch enc-a audio "+opusBranch, "BRANCH enc-a audio_0", 10*time.Second)
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "video_0", "audio_0")
	n := h.count()
	h.do("branch wrong video:unchecked "+rawAudioBranch, "BRANCH wrong video_1", 10*time.Second)
	errLine, ok := h.waitLine("ERROR ", n, 10*time.Second)
	if !ok || !strings.Contains(errLine, "not-negotiated") {
		t.Fatalf("ERROR %q, want the audio branch stopped with not-negotiated", errLine)
	}
	for _, e := range h.linesWith("ERROR ", n) {
		if strings.Contains(e, "/golivekitsink:lk") {
			t.Errorf("the element posted an ERROR for caps outside its template: %s", e)
		}
	}
	assertSending(t, h, "video_0", "audio_0")
	if _, ok := h.stats()["video_1"]; ok {
		t.Errorf("video_1 has a track")
	}
	waitOffered(t, srv, 5*time.Second, "video_0", "audio_0")
}
