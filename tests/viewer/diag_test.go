package viewer

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/e2ee"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// TestE2EEH264DeltaSoak hunts the known issue of docs/e2ee.md (a Chromium
// viewer decoding the encrypted H.264 key frames but few delta frames): it
// streams the encrypted tracks of TestE2EEBrowserDecrypts for 36 s
// (GLK_SOAK_SECONDS) to three viewers, logs what each decodes every 2 s,
// records the RTP headers the SFU sends to each browser (sequence order,
// padding, the first frames) and the Chromium log lines that show the cause
// (GLK_SOAK_LOGDIR keeps the whole log). It fails when a viewer decodes less
// than 90% of the delta frames. Opt-in (GLK_H264_SOAK=1): about one viewer in
// 40 to 70 stalls. GLK_CHROMIUM_EXTRA adds browser flags (field trials,
// logging) for comparisons.
func TestE2EEH264DeltaSoak(t *testing.T) {
	if os.Getenv("GLK_H264_SOAK") == "" {
		t.Skip("opt-in soak (GLK_H264_SOAK=1), see docs/e2ee.md")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal(err)
	}
	// Chromium's own log lines show the receive-side state of the known
	// issue (docs/e2ee.md): blink replaying frames that arrived before the
	// transform was attached, frames coming back with RTP sequence number 0,
	// and the H.264 reference finder dropping delta frames.
	saved := chromiumFlags
	t.Cleanup(func() { chromiumFlags = saved })
	chromiumFlags = append(append([]string{}, chromiumFlags...), "--enable-logging=stderr", "--vmodule=webrtc_logging=1")
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
	period := 36 * time.Second
	if s := os.Getenv("GLK_SOAK_SECONDS"); s != "" {
		// Shorter runs for more starts: the stall shows from the start.
		n, err := strconv.Atoi(s)
		if err != nil || n < 4 {
			t.Fatalf("GLK_SOAK_SECONDS=%q: want a number of seconds, at least 4", s)
		}
		period = time.Duration(n) * time.Second
	}
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
		var inbound map[string]any
		if err := b.eval(ctx, "(window.lkStats.tracks.find((t) => t.codec === 'video/H264') || {}).inbound || null", &inbound); err != nil {
			t.Fatal(err)
		}
		t.Logf("viewer-%d H.264 inbound-rtp: %v", i, inbound)
		if ssrc, ok := inbound["ssrc"].(float64); ok {
			t.Logf("viewer-%d H.264 from the SFU: %s", i, capture.head(uint32(ssrc)))
		}
	}
	for i, b := range viewers {
		b.mu.Lock()
		logs := b.logs.String()
		b.mu.Unlock()
		t.Logf("viewer-%d chromium: %s", i, receiveDiagnosis(logs))
	}
	if dir := os.Getenv("GLK_SOAK_LOGDIR"); dir != "" {
		// Chromium's stderr per viewer (GLK_CHROMIUM_EXTRA="--vmodule=*/webrtc/*=1"
		// adds libwebrtc's informational lines).
		for i, b := range viewers {
			b.mu.Lock()
			err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("viewer-%d.log", i)), []byte(b.logs.String()), 0o644)
			b.mu.Unlock()
			if err != nil {
				t.Error(err)
			}
		}
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

var (
	replayRE = regexp.MustCompile(`SetTransformerCallback replaying ([1-9][0-9]*) buffered frames`)
	staleRE  = regexp.MustCompile(`Ignoring stale FrameDecoded cleanup: (picture_id=\S+ seq=\S+ unwrapped=\S+ newest=\S+)`)
)

// receiveDiagnosis summarizes the Chromium log lines of the known issue
// (docs/e2ee.md): frames blink buffered before the receive transform was
// attached and replayed into it, frames the receiver marked decoded with
// RTP sequence number 0 (ignored cleanups name them), and frames the
// sequence-number reference finder (H.264) dropped for want of a key frame.
func receiveDiagnosis(logs string) string {
	var replayed []string
	for _, m := range replayRE.FindAllStringSubmatch(logs, -1) {
		replayed = append(replayed, m[1])
	}
	var stale []string
	for _, m := range staleRE.FindAllStringSubmatch(logs, -1) {
		if len(stale) == 8 {
			stale = append(stale, "...")
			break
		}
		stale = append(stale, m[1])
	}
	return fmt.Sprintf("frames replayed into a transform %v; cleanups ignored %v; frames with no GoP dropped %d",
		replayed, stale, strings.Count(logs, "has no GoP, dropping frame"))
}
