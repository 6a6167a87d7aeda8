package plugin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
)

// At startup the pads whose caps come within the element's hold (150 ms,
// plugin/publishhold.go) are published together: livekit-server then gives
// each subscriber one offer for all of them instead of holding the second
// offer for its 150 ms negotiation debounce. A pad later than the hold does
// not hold the others back.
func TestStartupPublishesPadsTogether(t *testing.T) {
	for _, c := range []struct {
		name       string
		videoDelay time.Duration // before the first raw frame reaches x264enc, so before its caps
		check      func(t *testing.T, audioToVideo time.Duration)
	}{
		{"video 80 ms late", 80 * time.Millisecond, func(t *testing.T, d time.Duration) {
			if d.Abs() > 40*time.Millisecond {
				t.Errorf("AddTrack(video) came %v after AddTrack(audio), want both together (within 40 ms)", d)
			}
		}},
		{"video 600 ms late", 600 * time.Millisecond, func(t *testing.T, d time.Duration) {
			if d < 300*time.Millisecond {
				t.Errorf("AddTrack(video) came %v after AddTrack(audio): audio was held past the 150 ms hold", d)
			}
		}},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			srv := fakeServer(t)
			// identity sleeps before every raw frame: x264enc's caps (sent
			// with its first frame) come that much later than opusenc's.
			video := strings.Replace(h264Branch, " ! x264enc",
				fmt.Sprintf(" ! identity sleep-time=%d ! x264enc", c.videoDelay.Microseconds()), 1)
			h := startHost(t, elementLaunch(srv, "")+" "+video+" ! lk.video_0 "+opusBranch+" ! lk.audio_0")
			h.setState("PLAYING")
			h.waitConnected(0, 20*time.Second, "video_0", "audio_0")
			at := addTrackTimes(t, srv)
			c.check(t, at["video_0"].Sub(at["audio_0"]))
			if errs := h.errors(); len(errs) > 0 {
				t.Errorf("ERRORs on the bus: %v", errs)
			}
		})
	}
}

// addTrackTimes is when the fake got each track's AddTrackRequest, by name.
func addTrackTimes(t *testing.T, srv *signallertest.Server) map[string]time.Time {
	out := map[string]time.Time{}
	for _, cn := range srv.Connects() {
		if cn.Conn == nil {
			continue
		}
		times := cn.Conn.RequestTimes()
		for i, r := range cn.Conn.Requests() {
			if at := r.GetAddTrack(); at != nil {
				out[at.GetName()] = times[i]
			}
		}
	}
	if len(out) != 2 {
		t.Fatalf("AddTrackRequests for %v, want video_0 and audio_0", out)
	}
	return out
}
