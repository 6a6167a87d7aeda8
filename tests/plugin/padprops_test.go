package plugin

import (
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// The request pads' properties (GstGoLiveKitVideoPad, GstGoLiveKitAudioPad)
// and names, against the fake.

// addTrackRequests lists every AddTrackRequest the fake got, in order.
func addTrackRequests(srv *signallertest.Server) []*livekit.AddTrackRequest {
	var out []*livekit.AddTrackRequest
	for _, c := range srv.Connects() {
		if c.Conn == nil {
			continue
		}
		for _, r := range c.Conn.Requests() {
			if at := r.GetAddTrack(); at != nil {
				out = append(out, at)
			}
		}
	}
	return out
}

// A requested name is honoured (lk.video_5 in gst-launch); without one the
// next number after every name in use is taken; a name in use is refused.
func TestRequestedPadNames(t *testing.T) {
	h := startHost(t, "golivekitsink name=lk")
	for _, c := range []struct{ req, want string }{
		{"video_%u video_5", "video_5"},
		{"video_%u", "video_6"},
		{"video_%u video_5", "none"},
		{"video_%u video_2", "video_2"},
		{"video_%u", "video_7"},
		{"audio_%u", "audio_0"},
		{"audio_%u audio_9", "audio_9"},
		{"audio_%u", "audio_10"},
	} {
		if got := h.do("request "+c.req, "PAD ", 10*time.Second); got != c.want {
			t.Errorf("request %s: got pad %s, want %s", c.req, got, c.want)
		}
	}
}

// Pad properties given on the element in a launch line (video_3::msid=…,
// set by gst-launch's parser when the link requests the pad) and through
// the child proxy before PLAYING reach the AddTrackRequests: msid names
// the track, source sets its source; without them the pad name and
// camera/microphone. muted=true before the track exists publishes it muted.
func TestPadPropertiesNameAndMarkTracks(t *testing.T) {
	srv := fakeServer(t)
	launch := elementLaunch(srv, "video_3::msid=slides video_3::source=screen-share") +
		" " + strings.Replace(h264Branch, "videotestsrc", "videotestsrc name=vsrc", 1) + " ! lk.video_3"
	h := startHost(t, launch)
	h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
	if got := h.do("padset audio_0::muted true", "PADSET audio_0::muted ", 10*time.Second); got != "got=true" {
		t.Fatalf("audio_0::muted reads back %s", got)
	}
	h.do("branch b audio "+opusBranch, "BRANCH b audio_1", 10*time.Second)
	h.do("padset audio_1::msid commentary", "PADSET audio_1::msid ", 10*time.Second)
	h.do("padset audio_1::source screen-share-audio", "PADSET audio_1::source ", 10*time.Second)
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "slides", "audio_0", "commentary") // track-sids name the tracks

	want := map[string]struct {
		source livekit.TrackSource
		muted  bool
	}{
		"slides":     {livekit.TrackSource_SCREEN_SHARE, false},
		"audio_0":    {livekit.TrackSource_MICROPHONE, true},
		"commentary": {livekit.TrackSource_SCREEN_SHARE_AUDIO, false},
	}
	got := addTrackRequests(srv)
	if len(got) != len(want) {
		t.Fatalf("%d AddTrackRequests, want %d: %v", len(got), len(want), got)
	}
	for _, at := range got {
		w, ok := want[at.GetName()]
		if !ok {
			t.Errorf("AddTrackRequest for a track named %q, want one of %v", at.GetName(), want)
			continue
		}
		if at.GetSource() != w.source || at.GetMuted() != w.muted {
			t.Errorf("%s: source %s muted %v, want %s muted %v", at.GetName(), at.GetSource(), at.GetMuted(), w.source, w.muted)
		}
	}
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}
