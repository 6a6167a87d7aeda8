package e2e

import (
	"fmt"
	"testing"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Encoded VP9, AV1 and Opus variants (mono, stereo with
// channel-mapping-family 1) through the parser-only chains.

var (
	vp9Src = fmt.Sprintf("videotestsrc is-live=true num-buffers=%d ! video/x-raw,width=320,height=240,framerate=30/1 ! vp9enc deadline=1 cpu-used=8 keyframe-max-dist=30 lag-in-frames=0", videoFrames)
	// av1enc is slow: 160x120 at 10 fps, 6 s.
	av1Frames = 60
	av1Src    = fmt.Sprintf("videotestsrc is-live=true num-buffers=%d ! video/x-raw,width=160,height=120,framerate=10/1 ! av1enc usage-profile=realtime cpu-used=10 end-usage=cbr target-bitrate=200 keyframe-max-dist=10 lag-in-frames=0", av1Frames)
	opusMono  = fmt.Sprintf("audiotestsrc is-live=true num-buffers=%d samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=1 ! opusenc", audioFrames)
	// GStreamer 1.22's opusenc only makes family 1 for more than two
	// channels; a stereo family-1 stream (one coupled stream) carries the
	// same packets as family 0, so capssetter relabels the caps.
	opusCMF1 = fmt.Sprintf("audiotestsrc is-live=true num-buffers=%d samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! opusenc ! capssetter caps=\"audio/x-opus,channel-mapping-family=(int)1,stream-count=(int)1,coupled-count=(int)1\"", audioFrames)

	codecCases = []publishCase{
		{"vp9", vp9Src + " ! golivekitsink name=lk %s",
			map[string]sent{"video": {"video/VP9", videoFrames, 30}}},
		{"av1", av1Src + " ! golivekitsink name=lk %s",
			map[string]sent{"video": {"video/AV1", av1Frames, 10}}},
		{"opus-mono", opusMono + " ! golivekitsink name=lk %s",
			map[string]sent{"audio": {"audio/opus", audioFrames, 50}}},
		{"opus-stereo-cmf1", opusCMF1 + " ! golivekitsink name=lk %s",
			map[string]sent{"audio": {"audio/opus", audioFrames, 50}}},
		{"vp9+opus-stereo", vp9Src + " ! golivekitsink name=lk %s " + opusSrc + " ! lk.",
			map[string]sent{"video": {"video/VP9", videoFrames, 30}, "audio": {"audio/opus", audioFrames, 50}}},
	}
)

// TestPublishCodecs: same counting rule as TestPublish. AV1 is decoded
// with the first of dav1ddec, av1dec, avdec_av1 that is installed.
func TestPublishCodecs(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			for _, c := range codecCases {
				t.Run(c.name, func(t *testing.T) { runPublishCase(t, v, c) })
			}
		})
	}
}
