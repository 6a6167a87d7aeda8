package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// H.265 (x265enc) plus Opus on one element. Observed: both pinned servers
// (v1.9.11 and v1.13.5) accept video/H265 with their default config and
// forward it. A version listed in h265Rejected must instead get a WARNING
// naming H265 (session: enabled_publish_codecs) while the audio keeps
// publishing.
var h265Rejected = map[string]bool{}

const h265Frames = 240

var h265Src = fmt.Sprintf("videotestsrc is-live=true num-buffers=%d ! video/x-raw,width=320,height=240,framerate=30/1 ! x265enc tune=zerolatency speed-preset=ultrafast key-int-max=30", h265Frames)

func TestPublishH265(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { runH265(t, v) })
	}
}

func runH265(t *testing.T, version string) {
	srv := harness.StartServer(t, harness.ServerOptions{Version: version})
	room, identity := "h265", "gst-h265"
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, mediaDir(t))
	p := harness.RunPipeline(t, fmt.Sprintf("%s ! golivekitsink name=lk %s %s ! lk.", h265Src, sinkProps(srv, room, identity), opusSrc))
	accepted := !h265Rejected[version]
	want := 1
	if accepted {
		want = 2
	}
	if _, err := sub.WaitForTracks(want, 15*time.Second); err != nil {
		t.Fatalf("%v; pipeline output:\n%s", err, p.Output())
	}
	requireCleanExit(t, p, 40*time.Second)
	time.Sleep(time.Second)
	sub.Close()

	var h265Warnings []string
	for _, w := range p.Warnings() {
		if strings.Contains(w, "H265") || strings.Contains(w, "h265") {
			h265Warnings = append(h265Warnings, w)
		}
	}
	audio := sub.TracksOf("audio")
	if len(audio) != 1 {
		t.Fatalf("audio tracks: %+v", audio)
	}
	first := sub.FirstPacketAt("audio")
	decoded := harness.DecodedFrames(t, audio[0].File, audio[0].Codec)
	expected := framesAfter(audioFrames, 50, p.StartedAt(), first)
	t.Logf("%s: audio %d decoded of %d expected", version, decoded, expected)
	if decoded < expected*9/10 {
		t.Errorf("audio: %d frames decoded, want >= 90%% of %d", decoded, expected)
	}

	video := sub.TracksOf("video")
	if !accepted {
		t.Logf("%s: H265 warnings: %q", version, h265Warnings)
		if len(h265Warnings) == 0 {
			t.Errorf("no WARNING naming H265; warnings: %q", p.Warnings())
		}
		if len(video) != 0 {
			t.Errorf("a video track arrived although the server does not accept H265: %+v", video)
		}
		return
	}
	if len(h265Warnings) != 0 {
		t.Errorf("H265 warnings although %s accepts it: %q", version, h265Warnings)
	}
	if len(video) != 1 || video[0].Codec != "video/H265" {
		t.Fatalf("video tracks: %+v", video)
	}
	vf := sub.FirstPacketAt("video")
	vdec := harness.DecodedFrames(t, video[0].File, video[0].Codec)
	vexp := framesAfter(h265Frames, 30, p.StartedAt(), vf)
	t.Logf("%s: H265 first packet %v after start, %d packets, %d frames written, %d decoded, %d expected",
		version, vf.Sub(p.StartedAt()).Round(time.Millisecond), len(video[0].Packets), video[0].Frames, vdec, vexp)
	if vdec < vexp*9/10 {
		t.Errorf("H265: %d frames decoded, want >= 90%% of %d", vdec, vexp)
	}
}
