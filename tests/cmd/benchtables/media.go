package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// mediaPair is a pre-encoded H264 Annex-B file and an Opus .ogg of the same length.
type mediaPair struct {
	H264, Ogg     string
	Width, Height int
	Kbps          int
	Length        time.Duration
}

// keyframe interval of every file: key-int-max=60 at 30 fps.
const keyInterval = 2 * time.Second

var (
	cpuMedia = mediaPair{Width: 1920, Height: 1080, Kbps: 4000, Length: 25 * time.Second}
	gapMedia = mediaPair{Width: 640, Height: 360, Kbps: 1000, Length: 75 * time.Second}
)

// ensure encodes the pair into cacheDir unless it is there already.
func (m *mediaPair) ensure() error {
	secs := int(m.Length.Seconds())
	m.H264 = filepath.Join(cacheDir, fmt.Sprintf("v%dx%d-30fps-%dk-gop60-%ds.h264", m.Width, m.Height, m.Kbps, secs))
	m.Ogg = filepath.Join(cacheDir, fmt.Sprintf("a-opus-48k-20ms-%ds.ogg", secs))
	video := fmt.Sprintf("videotestsrc num-buffers=%d pattern=smpte horizontal-speed=4 ! "+
		"video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! "+
		"x264enc bitrate=%d speed-preset=ultrafast key-int-max=60 ! video/x-h264,profile=constrained-baseline ! "+
		"h264parse ! video/x-h264,stream-format=byte-stream ! filesink location=", secs*30, m.Width, m.Height, m.Kbps)
	audio := fmt.Sprintf("audiotestsrc num-buffers=%d samplesperbuffer=960 wave=ticks ! "+
		"audio/x-raw,rate=48000,channels=2 ! opusenc frame-size=20 ! oggmux ! filesink location=", secs*50)
	for _, f := range []struct{ path, launch string }{{m.H264, video}, {m.Ogg, audio}} {
		if st, err := os.Stat(f.path); err == nil && st.Size() > 0 {
			continue
		}
		tmp := f.path + ".part"
		t0 := time.Now()
		args := append([]string{"-q"}, splitOrDie(f.launch+tmp)...)
		if b, err := exec.Command("gst-launch-1.0", args...).CombinedOutput(); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("encode %s: %v\n%s", f.path, err, b)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			return err
		}
		fmt.Printf("encoded %s in %s\n", f.path, time.Since(t0).Round(100*time.Millisecond))
	}
	return nil
}

func splitOrDie(s string) []string {
	a, err := harness.SplitArgs(s)
	must(err)
	return a
}

// gstFileLaunch is golivekitsink publishing the pair paced in real time.
func gstFileLaunch(m mediaPair, url, room, identity, key, secret string) string {
	return fmt.Sprintf("filesrc location=%s ! h264parse ! identity sync=true ! "+
		"golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=%s "+
		"filesrc location=%s ! oggdemux ! opusparse ! identity sync=true ! lk.",
		m.H264, url, key, secret, room, identity, m.Ogg)
}

// sdkpubArgs is the SDK publisher sending the same pair.
func sdkpubArgs(m mediaPair, url, room, identity, key, secret string) []string {
	return []string{sdkpubBin, "-url", url, "-key", key, "-secret", secret, "-room", room,
		"-identity", identity, "-h264", m.H264, "-ogg", m.Ogg, "-fps", "30",
		"-width", fmt.Sprint(m.Width), "-height", fmt.Sprint(m.Height)}
}
