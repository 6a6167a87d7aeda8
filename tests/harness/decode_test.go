package harness

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// encodeFile runs a gst-launch pipeline that writes a file.
func encodeFile(t *testing.T, launch string) {
	t.Helper()
	args, err := SplitArgs(launch)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("gst-launch-1.0", append([]string{"-q"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("gst-launch-1.0 %s: %v\n%s", launch, err, out)
	}
}

func TestDecodedFramesCountsRealFrames(t *testing.T) {
	dir := t.TempDir()
	h264 := filepath.Join(dir, "a.h264")
	encodeFile(t, `videotestsrc num-buffers=60 ! video/x-raw,width=320,height=240 ! x264enc speed-preset=ultrafast ! h264parse ! video/x-h264,stream-format=byte-stream ! filesink location=`+h264)
	if n := DecodedFrames(t, h264, "video/H264"); n != 60 {
		t.Errorf("h264: DecodedFrames = %d, want 60", n)
	}
	vp8 := filepath.Join(dir, "a.ivf")
	encodeFile(t, `videotestsrc num-buffers=45 ! video/x-raw,width=320,height=240 ! vp8enc deadline=1 ! avmux_ivf ! filesink location=`+vp8)
	if n := DecodedFrames(t, vp8, "vp8"); n != 45 {
		t.Errorf("vp8: DecodedFrames = %d, want 45", n)
	}
	ogg := filepath.Join(dir, "a.ogg")
	// 50 buffers of 960 samples at 48 kHz = 50 Opus packets of 20 ms.
	encodeFile(t, `audiotestsrc num-buffers=50 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! opusenc ! oggmux ! filesink location=`+ogg)
	if n := DecodedFrames(t, ogg, "audio/opus"); n < 49 || n > 51 {
		t.Errorf("opus: DecodedFrames = %d, want ~50", n)
	}
	// Garbage does not decode into frames.
	bad := filepath.Join(dir, "bad.h264")
	encodeFile(t, `videotestsrc num-buffers=5 ! filesink location=`+bad)
	if n, _, _ := decodeCount(bad, "h264"); n != 0 {
		t.Errorf("garbage decoded into %d frames", n)
	}
}
