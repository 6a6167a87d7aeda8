package viewer

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/e2ee"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// TestE2EEH264DeltaSoak hunts the known issue of docs/e2ee.md (a Chromium
// viewer decoding the encrypted H.264 key frames but few delta frames): it
// streams the encrypted tracks of TestE2EEBrowserDecrypts for 40 s to three
// viewers, logs what each decodes every 2 s, and records the RTP headers the
// SFU sends to each browser (sequence order, padding). It fails when a viewer
// decodes less than 90% of the delta frames. Opt-in (GLK_H264_SOAK=1): it
// reproduces the issue in a few runs out of ten. GLK_CHROMIUM_EXTRA adds
// browser flags (field trials, logging) for comparisons.
func TestE2EEH264DeltaSoak(t *testing.T) {
	if os.Getenv("GLK_H264_SOAK") == "" {
		t.Skip("opt-in soak (GLK_H264_SOAK=1), see docs/e2ee.md")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	if extra := os.Getenv("GLK_CHROMIUM_EXTRA"); extra != "" {
		chromiumFlags = append(chromiumFlags, strings.Fields(extra)...)
	}
	root := harness.RepoRoot()
	buildViewer(t, root)
	frames := makeFrames(t)
	version := harness.Versions()[0]
	t.Logf("livekit-server %s", version)
	srv := harness.StartServer(t, harness.ServerOptions{Version: version})
	capture := startRTPCapture(t, srv.UDPPort)
	const room = "soak"
	var keys e2ee.KeyRing
	if err := keys.SetSharedKey(keyA, 0); err != nil {
		t.Fatal(err)
	}
	publishEncrypted(t, srv, room, &keys, frames)
	page := serveViewer(t, root, srv, room)
	var viewers []*browser
	for i := range 3 {
		identity := fmt.Sprintf("viewer-%d", i)
		viewers = append(viewers, startBrowser(t, chromium, withIdentity(t, page, srv, room, identity)+"&e2ee="+url.QueryEscape(keyA)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h264 := func(b *browser) (decoded, key, received int) {
		var st e2eeStats
		if err := b.eval(ctx, "window.lkStats || null", &st); err != nil {
			t.Fatal(err)
		}
		for _, tr := range st.Tracks {
			if tr.Codec == "video/H264" {
				return tr.FramesDecoded, tr.KeyFramesDecoded, tr.FramesReceived
			}
		}
		return 0, 0, 0
	}
	time.Sleep(4 * time.Second) // every viewer subscribed
	first := make([][3]int, len(viewers))
	for i, b := range viewers {
		first[i][0], first[i][1], first[i][2] = h264(b)
	}
	const period = 36 * time.Second
	for elapsed := time.Duration(0); elapsed < period; elapsed += 2 * time.Second {
		time.Sleep(2 * time.Second)
		var line []string
		for _, b := range viewers {
			d, k, r := h264(b)
			line = append(line, fmt.Sprintf("%d/%d/%d", d, k, r))
		}
		t.Logf("H.264 decoded/key frames decoded/frames received per viewer: %v", line)
	}
	t.Logf("RTP from the SFU:\n%s", capture.report())
	for i, b := range viewers {
		var inbound any
		if err := b.eval(ctx, "(window.lkStats.tracks.find((t) => t.codec === 'video/H264') || {}).inbound || null", &inbound); err != nil {
			t.Fatal(err)
		}
		t.Logf("viewer-%d H.264 inbound-rtp: %v", i, inbound)
	}
	for i, b := range viewers {
		d, k, _ := h264(b)
		deltas := (d - first[i][0]) - (k - first[i][1])
		// 30 fps minus one key frame a second.
		if want := int(period.Seconds() * 29 * 0.9); deltas < want {
			t.Errorf("viewer-%d decoded %d H.264 delta frames in %v, want at least %d", i, deltas, period, want)
		}
	}
}
