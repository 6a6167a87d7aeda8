package harness

import (
	"os"

	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media"
)

// H.265 tracks are written as an Annex-B .h265 file (pion's
// H265Depacketizer emits Annex-B), starting at the first access unit with a
// VPS, SPS or IRAP picture, and decoded with h265parse ! avdec_h265.

func newH265Sink(base string) (frameSink, string, error) {
	path := base + ".h265"
	f, err := os.Create(path)
	if err != nil {
		return nil, "", err
	}
	started := false
	write := func(s *media.Sample) error {
		if !started {
			if !h265HasKeyframe(s.Data) {
				return errSkipFrame
			}
			started = true
		}
		_, err := f.Write(s.Data)
		return err
	}
	return newSBSink(512, &codecs.H265Depacketizer{}, 90000, write, f.Close), path, nil
}

// h265HasKeyframe: an Annex-B access unit with a VPS/SPS (32, 33) or an
// IRAP picture (NAL types 16..21).
func h265HasKeyframe(b []byte) bool {
	for i := 0; i+3 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			t := (b[i+3] >> 1) & 0x3f
			if t == 32 || t == 33 || (t >= 16 && t <= 21) {
				return true
			}
			i += 2
		}
	}
	return false
}
