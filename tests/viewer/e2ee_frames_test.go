package viewer

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// encodedFrames holds real encoded media made by GStreamer from its test
// sources (videotestsrc's colour bars, a sine), a keyframe every 30 frames.
type encodedFrames struct {
	h264, vp8, vp9, opus [][]byte
}

func makeFrames(t *testing.T) encodedFrames {
	t.Helper()
	dir := t.TempDir()
	gst := func(name string, pipeline ...string) string {
		path := filepath.Join(dir, name)
		args := append(append([]string{"-q"}, pipeline...), "!", "filesink", "location="+path)
		if out, err := exec.Command("gst-launch-1.0", args...).CombinedOutput(); err != nil {
			t.Fatalf("gst-launch-1.0 %v: %v\n%s", pipeline, err, out)
		}
		return path
	}
	video := []string{"videotestsrc", "num-buffers=150", "!", "video/x-raw,format=I420,width=320,height=240,framerate=30/1", "!"}
	h264 := gst("v.h264", append(video, "x264enc", "tune=zerolatency", "speed-preset=ultrafast", "key-int-max=30", "!",
		"h264parse", "config-interval=-1", "!", "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline")...)
	vp8 := gst("v.ivf", append(video, "vp8enc", "deadline=1", "keyframe-max-dist=30", "!", "avmux_ivf")...)
	vp9 := gst("v9.ivf", append(video, "vp9enc", "deadline=1", "cpu-used=8", "keyframe-max-dist=30", "!", "avmux_ivf")...)
	opus := gst("a.ogg", "audiotestsrc", "num-buffers=250", "samplesperbuffer=960", "volume=0.5", "!",
		"audio/x-raw,rate=48000,channels=2", "!", "opusenc", "frame-size=20", "!", "oggmux")

	var f encodedFrames
	f.h264 = splitAccessUnits(t, readFile(t, h264))
	f.vp8 = readIVF(t, vp8)
	f.vp9 = readIVF(t, vp9)
	packets, err := oggPackets(readFile(t, opus))
	if err != nil || len(packets) < 3 {
		t.Fatalf("opus packets: %d, %v", len(packets), err)
	}
	f.opus = packets[2:] // after OpusHead and OpusTags
	if len(f.h264) < 100 || len(f.vp8) < 100 || len(f.vp9) < 100 {
		t.Fatalf("%d H.264 access units, %d VP8 and %d VP9 frames", len(f.h264), len(f.vp8), len(f.vp9))
	}
	return f
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// splitAccessUnits cuts an H.264 byte stream at its access unit delimiters
// (x264enc writes one in front of every access unit).
func splitAccessUnits(t *testing.T, stream []byte) [][]byte {
	t.Helper()
	aud := []byte{0, 0, 0, 1, 0x09}
	var out [][]byte
	for len(stream) > 0 {
		next := bytes.Index(stream[1:], aud)
		if next < 0 {
			out = append(out, stream)
			break
		}
		out = append(out, stream[:next+1])
		stream = stream[next+1:]
	}
	if len(out) == 0 || !bytes.HasPrefix(out[0], aud) {
		t.Fatal("H.264 stream does not start with an access unit delimiter")
	}
	return out
}

func readIVF(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil {
			return out
		}
		out = append(out, fr)
	}
}

// oggPackets returns the packets of an Ogg stream (RFC 3533): a page's
// lacing values give segment sizes, and a packet ends at a segment shorter
// than 255 bytes.
func oggPackets(b []byte) ([][]byte, error) {
	var packets [][]byte
	var packet []byte
	for len(b) > 0 {
		if len(b) < 27 || string(b[:4]) != "OggS" {
			return nil, errors.New("not an Ogg page")
		}
		n := int(b[26])
		if len(b) < 27+n {
			return nil, errors.New("truncated Ogg page")
		}
		lacing := b[27 : 27+n]
		body := b[27+n:]
		for _, l := range lacing {
			if len(body) < int(l) {
				return nil, errors.New("truncated Ogg segment")
			}
			packet = append(packet, body[:l]...)
			body = body[l:]
			if l < 255 {
				packets = append(packets, packet)
				packet = nil
			}
		}
		b = body
	}
	return packets, nil
}
