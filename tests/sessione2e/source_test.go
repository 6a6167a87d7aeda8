package sessione2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/session"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

var (
	framesOnce sync.Once
	vp8Frames  [][]byte
	framesErr  error
)

// testFrames are real VP8 frames made once by GStreamer (keyframe every 15
// frames, so a media gap measured here is not a wait for a keyframe: a file
// cannot answer keyframe requests the way an encoder does).
func testFrames(t testing.TB) [][]byte {
	framesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glk-frames")
		if err != nil {
			framesErr = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "v.ivf")
		out, err := exec.Command("gst-launch-1.0", "-q", "videotestsrc", "num-buffers=300", "!",
			"video/x-raw,width=320,height=240,framerate=30/1", "!", "vp8enc", "deadline=1", "keyframe-max-dist=15", "!",
			"avmux_ivf", "!", "filesink", "location="+path).CombinedOutput()
		if err != nil {
			framesErr = &exec.ExitError{Stderr: out}
			return
		}
		f, err := os.Open(path)
		if err != nil {
			framesErr = err
			return
		}
		defer f.Close()
		r, _, err := ivfreader.NewWith(f)
		if err != nil {
			framesErr = err
			return
		}
		for {
			fr, _, err := r.ParseNextFrame()
			if err != nil {
				break
			}
			vp8Frames = append(vp8Frames, fr)
		}
	})
	if framesErr != nil || len(vp8Frames) == 0 {
		t.Fatalf("making VP8 test frames: %v", framesErr)
	}
	return vp8Frames
}

// pump writes frames at 30 fps into a track until the test ends.
func pump(t testing.TB, tr *session.Track) {
	frames := testFrames(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		start := time.Now()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				fr := frames[i%len(frames)]
				_ = tr.WriteFrame(fr, now.Sub(start))
			}
		}
	}()
}
