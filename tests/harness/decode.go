package harness

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// DecodePipeline returns the gst-launch description that decodes a file the
// subscriber wrote (codec: a MIME type such as "video/H264", or h264, vp8, vp9,
// av1, opus) into a verbose fakesink.
func DecodePipeline(path, codec string) (string, error) {
	c := strings.ToLower(codec)
	c = strings.TrimPrefix(strings.TrimPrefix(c, "video/"), "audio/")
	src := fmt.Sprintf("filesrc location=%q", path)
	sink := "fakesink name=decoded silent=false sync=false"
	switch c {
	case "h264":
		return src + " ! h264parse ! avdec_h264 ! " + sink, nil
	case "h265":
		return src + " ! h265parse ! avdec_h265 ! " + sink, nil
	case "vp8":
		return src + " ! ivfparse ! vp8dec ! " + sink, nil
	case "vp9":
		return src + " ! ivfparse ! vp9dec ! " + sink, nil
	case "av1":
		return src + " ! ivfparse ! av1parse ! " + av1Decoder() + " ! " + sink, nil
	case "opus":
		return src + " ! oggdemux ! opusparse ! opusdec ! " + sink, nil
	}
	return "", fmt.Errorf("no decoder for codec %q", codec)
}

var (
	av1Once sync.Once
	av1Dec  string
)

// av1Decoder prefers dav1ddec, then av1dec (libaom), then avdec_av1.
func av1Decoder() string {
	av1Once.Do(func() {
		av1Dec = "av1dec"
		for _, d := range []string{"dav1ddec", "av1dec", "avdec_av1"} {
			if exec.Command("gst-inspect-1.0", "--exists", d).Run() == nil {
				av1Dec = d
				return
			}
		}
	})
	return av1Dec
}

// DecodedFrames decodes the file at path with GStreamer and returns the
// number of buffers that came out of the decoder (video: frames; Opus: one
// buffer per packet, usually 20 ms). It counts the "chain" last-message
// notifications that `gst-launch-1.0 -v` prints for the verbose fakesink after
// the decoder, so only really decoded frames count. A decoder error fails the
// test (the count so far is still returned).
func DecodedFrames(t testing.TB, path, codec string) int {
	t.Helper()
	n, out, err := decodeCount(path, codec)
	if err != nil {
		t.Errorf("harness: decoding %s (%s): %v\n%s", path, codec, err, tailLines(out, 30))
	}
	return n
}

func decodeCount(path, codec string) (int, string, error) {
	launch, err := DecodePipeline(path, codec)
	if err != nil {
		return 0, "", err
	}
	args, err := SplitArgs(launch)
	if err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gst-launch-1.0", append([]string{"-v"}, args...)...)
	outb, runErr := cmd.CombinedOutput()
	out := string(outb)
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "/GstFakeSink:decoded: last-message = chain") {
			n++
		}
	}
	if runErr != nil {
		return n, out, fmt.Errorf("gst-launch-1.0 %s: %v", launch, runErr)
	}
	return n, out, nil
}
