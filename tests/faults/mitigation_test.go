package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Mitigation modes on a thin uplink: raw 640x480 snow (every bit costs), the publisher's
// UDP policed to 600 kbit/s. The estimate falls below 1 Mbit/s, so the
// element scales the video down to 360 lines (and below 500 kbit/s also
// halves the frame rate) and posts golivekitsink-mitigation; once the
// policer is lifted and the estimate recovers it restores the input size.
func TestMitigationOnAThinUplink(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{netns: true, elemProps: "start-bitrate=2000000 video-caps=video/x-h264",
			video: "videotestsrc is-live=true pattern=snow ! video/x-raw,width=640,height=480,framerate=30/1"})
		w.waitPublishing()
		if m := w.pipe.ElementMessages("golivekitsink-mitigation"); len(m) > 0 {
			t.Fatalf("mitigation on a clean link: %q", m)
		}
		cut := time.Now()
		w.tp.LimitUDP(t, 600)
		down := waitMitigation(t, w, 0, 30*time.Second, func(f map[string]string) bool {
			return strings.Contains(f["mode"], "downscaled") && f["width"] == "480" && f["height"] == "360"
		})
		t.Logf("%s after the 600 kbit/s limit: %v", time.Since(cut).Round(time.Millisecond), down)
		if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+30, 10*time.Second); err != nil {
			t.Fatalf("video stopped while mitigated: %v", err)
		}
		n := len(w.pipe.ElementMessages("golivekitsink-mitigation"))
		lifted := time.Now()
		w.tp.UnblockUDP(t)
		up := waitMitigation(t, w, n, 60*time.Second, func(f map[string]string) bool {
			return f["mode"] == "none" && f["width"] == "640" && f["height"] == "480"
		})
		t.Logf("restored %s after the limit was lifted: %v", time.Since(lifted).Round(time.Millisecond), up)
		all := w.pipe.ElementMessages("golivekitsink-mitigation")
		t.Logf("%d mitigation changes in all:\n%s", len(all), strings.Join(all, "\n"))
		// Down (maybe in two steps), back up (maybe in two): more is flapping.
		if len(all) > 4 {
			t.Fatalf("%d mitigation changes for one limit and one lift: flapping", len(all))
		}
	})
}

func waitMitigation(t *testing.T, w *world, from int, timeout time.Duration, ok func(map[string]string) bool) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		msgs := w.pipe.ElementMessages("golivekitsink-mitigation")
		for i := from; i < len(msgs); i++ {
			if f := harness.ParseStructure(msgs[i]); ok(f) {
				return f
			}
		}
	}
	t.Fatalf("no matching golivekitsink-mitigation within %s; messages:\n%s\nbitrate:\n%s", timeout,
		strings.Join(w.pipe.ElementMessages("golivekitsink-mitigation"), "\n"),
		strings.Join(w.pipe.ElementMessages("golivekitsink-bitrate"), "\n"))
	return nil
}
