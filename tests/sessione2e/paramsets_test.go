package sessione2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// TestIDRsGetTheParameterSetsTheyLack publishes H.264 whose SPS and PPS
// come once, in front of the first IDR only: what an encoder or depayloader
// that does not repeat them sends, and what the element passes on without
// a parser of its own. Nothing here answers keyframe requests, and the
// subscriber joins 2.5 s in, so the SFU starts it at a later IDR: without
// the session's parameter sets in front of it nothing it receives decodes.
// The first AU, the only one with them, goes by before the track flows:
// the session must keep them from a frame it drops.
func TestIDRsGetTheParameterSetsTheyLack(t *testing.T) {
	aus := h264OnceFrames(t)
	forEachVersion(t, func(t *testing.T, version string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: version})
		room := "paramsets-" + version
		_, tr := startPublisher(t, session.Config{URL: srv.URL(), APIKey: srv.APIKey(), APISecret: srv.Secret(),
			Room: room, Identity: "pub", Logger: testLogger{t}}, newEvents(t), rtp.CodecH264)
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tick := time.NewTicker(time.Second / 30)
			defer tick.Stop()
			start := time.Now()
			for i := 0; i < len(aus); i++ {
				select {
				case <-stop:
					return
				case now := <-tick.C:
					_ = tr.WriteFrame(aus[i], now.Sub(start))
				}
			}
		}()
		t.Cleanup(func() { close(stop); <-done })

		time.Sleep(2500 * time.Millisecond)
		sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, t.TempDir())
		<-done
		time.Sleep(time.Second) // the last packets in flight
		sub.Close()
		tracks := sub.TracksOf("video")
		if len(tracks) != 1 {
			t.Fatalf("%d video tracks, want 1", len(tracks))
		}
		// The subscriber got the last ~5.5 s (165 frames) from an IDR on.
		decoded := harness.DecodedFrames(t, tracks[0].File, tracks[0].Codec)
		t.Logf("%d packets, %d frames written, %d decoded; publisher: %d frames sent, %d dropped", len(tracks[0].Packets), tracks[0].Frames, decoded, tr.FramesSent(), tr.FramesDropped())
		if decoded < 120 {
			t.Errorf("%d frames decoded, want >= 120 of the ~165 sent after the subscriber joined", decoded)
		}
	})
}

// h264OnceFrames are 240 H.264 access units (320x240, 30 fps, an IDR every
// 30) made by GStreamer, with every SPS and PPS after the first removed.
func h264OnceFrames(t *testing.T) [][]byte {
	path := filepath.Join(t.TempDir(), "v.h264")
	out, err := exec.Command("gst-launch-1.0", "-q", "videotestsrc", "num-buffers=240", "!",
		"video/x-raw,width=320,height=240,framerate=30/1", "!", "x264enc", "key-int-max=30", "speed-preset=ultrafast", "!",
		"video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline", "!", "filesink", "location="+path).CombinedOutput()
	if err != nil {
		t.Fatalf("encoding: %v\n%s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Split into access units at the access unit delimiters x264 writes,
	// dropping parameter sets after the first of each.
	var aus [][]byte
	seen := map[byte]bool{}
	sets := 0
	rtp.ForEachNALU(b, func(nalu []byte) bool {
		if len(nalu) == 0 {
			return true
		}
		switch typ := nalu[0] & 0x1f; typ {
		case 9: // access unit delimiter
			aus = append(aus, nil)
		case 7, 8:
			sets++
			if seen[typ] {
				return true
			}
			seen[typ] = true
		}
		if len(aus) == 0 {
			aus = append(aus, nil)
		}
		last := &aus[len(aus)-1]
		*last = append(append(*last, 0, 0, 0, 1), bytes.Clone(nalu)...)
		return true
	})
	if len(aus) != 240 || sets < 8 {
		t.Fatalf("%d access units and %d parameter sets from x264enc, want 240 with one SPS and PPS per IDR", len(aus), sets)
	}
	return aus
}
