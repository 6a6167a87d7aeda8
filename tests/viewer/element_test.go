package viewer

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// The element (not the session) in front of livekit-client in headless
// Chromium: captions of a text_0 pad arrive as transcription segments, and
// e2ee-shared-key/set-e2ee-key encrypt what browsers with the key decode.

// elementHost runs a pipeline in tests/plugin/testdata/host.py (its
// golivekitsink named lk) and keeps its output lines.
type elementHost struct {
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
}

func startElementHost(t *testing.T, launch string) *elementHost {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", filepath.Join(harness.RepoRoot(), "tests", "plugin", "testdata", "host.py"), launch)
	cmd.Env = append(os.Environ(), "GST_PLUGIN_PATH="+harness.PluginDir(t),
		"GST_REGISTRY_1_0="+filepath.Join(dir, "registry.bin"),
		"GST_DEBUG=golivekit*:4", "GST_DEBUG_FILE="+filepath.Join(dir, "gst.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	h := &elementHost{}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if h.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.mu.Lock()
			h.lines = append(h.lines, sc.Text())
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_, _ = io.WriteString(h.stdin, "quit\n")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = cmd.Wait()
	})
	h.send("set PLAYING")
	return h
}

func (h *elementHost) send(cmd string) { _, _ = io.WriteString(h.stdin, cmd+"\n") }

// wait returns the first line with prefix (without it), waiting up to timeout.
func (h *elementHost) wait(t *testing.T, prefix, contains string, timeout time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h.mu.Lock()
		for _, l := range h.lines {
			if rest, ok := strings.CutPrefix(l, prefix); ok && strings.Contains(rest, contains) {
				h.mu.Unlock()
				return rest
			}
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("host: no %q line with %q within %s:\n%s", prefix, contains, timeout, strings.Join(h.lines, "\n"))
	return ""
}

func (h *elementHost) withPrefix(prefix string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func elementSink(srv *harness.Server, room, extra string) string {
	return fmt.Sprintf("golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=pub %s ", srv.URL(), srv.APIKey(), srv.Secret(), room, extra)
}

const elementOpus = " audiotestsrc is-live=true wave=ticks ! opusenc ! lk.audio_0 "

// trackSID is the SID of pad's track in a connected message.
func trackSID(t *testing.T, msg, pad string) string {
	t.Helper()
	for _, kv := range strings.Split(harness.ParseStructure(msg)["track-sids"], ",") {
		if p, sid, ok := strings.Cut(kv, "="); ok && p == pad {
			return sid
		}
	}
	t.Fatalf("no %s in %s", pad, msg)
	return ""
}

// TestElementCaptionsInBrowser: an SRT file through subparse (Pango markup)
// into text_0, next to an Opus audio_0; livekit-client's text stream handler
// for lk.transcription gets each cue as one final segment of the audio
// track, markup stripped, at the cue's time.
func TestElementCaptionsInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (scripts/setup.sh installs it): %v", err)
	}
	root := harness.RepoRoot()
	buildViewer(t, root)
	srt := filepath.Join(t.TempDir(), "captions.srt")
	var b strings.Builder
	for i := 1; i <= 60; i++ { // one cue a second from 2 s on
		fmt.Fprintf(&b, "%d\n00:00:%02d,000 --> 00:00:%02d,900\n<i>caption</i> <b>%d</b>\n\n", i, (i+1)%60, (i+1)%60, i)
	}
	if err := os.WriteFile(srt, []byte(strings.Replace(b.String(), "00:00:00,", "00:01:00,", 2)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, version := range harness.Versions() {
		t.Run(version, func(t *testing.T) {
			srv := harness.StartServer(t, harness.ServerOptions{Version: version})
			const room = "captions"
			page := serveViewer(t, root, srv, room)
			viewer := startBrowser(t, chromium, page)
			h := startElementHost(t, elementSink(srv, room, "")+elementOpus+
				fmt.Sprintf(" filesrc location=%s ! subparse ! lk.text_0", srt))
			audioSID := trackSID(t, h.wait(t, "MSG ", `audio_0\=TR_`, 20*time.Second), "audio_0")

			type segment struct {
				Text, From, SegmentID, TrackID string
				Final                          bool
				At                             int64 // ms, when the page got it
			}
			ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
			defer cancel()
			var segs []segment
			for len(segs) < 4 {
				if err := viewer.eval(ctx, "window.lkTranscriptions || []", &segs); err != nil {
					t.Fatalf("reading window.lkTranscriptions: %v (%d segments)", err, len(segs))
				}
				time.Sleep(250 * time.Millisecond)
			}
			seen := map[string]bool{}
			for _, s := range segs {
				var n int
				if _, err := fmt.Sscanf(s.Text, "caption %d", &n); err != nil || s.Text != fmt.Sprintf("caption %d", n) {
					t.Errorf("segment text %q, want \"caption N\" without markup", s.Text)
				}
				if !s.Final || s.TrackID != audioSID || s.From != "pub" || s.SegmentID == "" || seen[s.SegmentID] {
					t.Errorf("segment %+v: want final, track %s, from pub, its own segment id", s, audioSID)
				}
				seen[s.SegmentID] = true
			}
			// The cues are 1 s apart: sent at their running time, they arrive so.
			var gaps []int64
			for i := 1; i < len(segs); i++ {
				gap := segs[i].At - segs[i-1].At
				gaps = append(gaps, gap)
				if gap < 600 || gap > 1400 {
					t.Errorf("segments %q and %q arrived %d ms apart, want ~1000 (the cues' spacing)", segs[i-1].Text, segs[i].Text, gap)
				}
			}
			t.Logf("%d segments, e.g. %+v; gaps %v ms", len(segs), segs[0], gaps)
			if errs := h.withPrefix("ERROR "); len(errs) > 0 {
				t.Fatalf("ERRORs: %v", errs)
			}
		})
	}
}

// TestElementE2EEInBrowser: the element with e2ee-shared-key publishes H.264,
// VP8, VP9 (its own encoders' output) and Opus encrypted; a viewer with
// the key decodes the colour bars and the audio, a viewer with another key
// at the rotated index stops decoding after set-e2ee-key, the first follows.
func TestElementE2EEInBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (scripts/setup.sh installs it): %v", err)
	}
	root := harness.RepoRoot()
	buildViewer(t, root)
	for _, version := range harness.Versions() {
		t.Run(version, func(t *testing.T) {
			srv := harness.StartServer(t, harness.ServerOptions{Version: version})
			const room = "e2ee-element"
			video := " videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=30/1 ! "
			h := startElementHost(t, elementSink(srv, room, fmt.Sprintf("e2ee-shared-key=%q", keyA))+
				video+"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=400 ! video/x-h264,profile=constrained-baseline ! lk.video_0"+
				video+"vp8enc deadline=1 cpu-used=8 keyframe-max-dist=60 target-bitrate=400000 ! lk.video_1"+
				video+"vp9enc deadline=1 cpu-used=8 keyframe-max-dist=60 target-bitrate=400000 ! lk.video_2"+elementOpus)
			t.Logf("published: %s", harness.ParseStructure(h.wait(t, "MSG ", `audio_0\=TR_`, 20*time.Second))["track-sids"])

			page := serveViewer(t, root, srv, room)
			good := startBrowser(t, chromium, page+"&e2ee="+url.QueryEscape(keyA)+"&e2ee="+url.QueryEscape(keyB))
			other := startBrowser(t, chromium, withIdentity(t, page, srv, room, "viewer-other")+
				"&e2ee="+url.QueryEscape(keyA)+"&e2ee="+url.QueryEscape(keyC))
			wrong := startBrowser(t, chromium, withIdentity(t, page, srv, room, "viewer-wrong")+"&e2ee="+url.QueryEscape(keyC))

			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			read := func(b *browser) e2eeStats {
				var st e2eeStats
				if err := b.eval(ctx, "window.lkStats || null", &st); err != nil {
					t.Fatalf("reading window.lkStats: %v", err)
				}
				if st.State == "error" {
					t.Fatalf("viewer: %+v", st)
				}
				return st
			}
			for name, b := range map[string]*browser{"viewer": good, "viewer-other": other} {
				for st := read(b); ; st = read(b) {
					d := st.decoded()
					if d["video/H264"] > 0 && d["video/VP8"] > 0 && d["video/VP9"] > 0 {
						t.Logf("%s decodes with key A: %+v", name, st)
						break
					}
					if ctx.Err() != nil {
						t.Fatalf("%s decoded no video with the element's key: %+v", name, st)
					}
					time.Sleep(250 * time.Millisecond)
				}
			}
			checkBars(t, ctx, good)
			time.Sleep(2 * time.Second)
			checkAudio(t, read(good))
			if st := read(wrong); st.framesDecoded() > 0 || st.E2EEErrors == 0 {
				t.Errorf("the viewer with a wrong key decoded %d frames, %d encryption errors: %+v", st.framesDecoded(), st.E2EEErrors, st)
			}

			h.send("e2ee-key 1 " + keyB)
			if got := h.wait(t, "E2EE-KEY ", "", 10*time.Second); got != "True" {
				t.Fatalf("set-e2ee-key returned %s", got)
			}
			time.Sleep(time.Second) // frames encrypted before the switch drain
			goodBeforeSt, otherBefore := read(good), read(other).decoded()
			goodBefore := goodBeforeSt.decoded()
			time.Sleep(3 * time.Second)
			goodAfterSt, otherStats := read(good), read(other)
			goodAfter := goodAfterSt.decoded()
			otherAfter := otherStats.decoded()
			for _, codec := range []string{"video/H264", "video/VP8", "video/VP9"} {
				// 30 fps for 3 s is 90 frames; stats refresh every 500 ms.
				if got, want := rotationDecoded(codec, goodBeforeSt, goodAfterSt); got < want {
					t.Errorf("%s: the viewer with key B decoded %d (at least %d wanted) in 3 s after the rotation", codec, got, want)
				}
				if grew := otherAfter[codec] - otherBefore[codec]; grew > 0 {
					t.Errorf("%s: the viewer with a different key at index 1 decoded %d frames after the rotation", codec, grew)
				}
			}
			checkBars(t, ctx, good)
			t.Logf("after rotation: viewer %v -> %v, viewer-other %v -> %v", goodBefore, goodAfter, otherBefore, otherAfter)
			if errs := h.withPrefix("ERROR "); len(errs) > 0 {
				t.Fatalf("ERRORs: %v", errs)
			}
		})
	}
}

func (s e2eeStats) framesDecoded() int {
	n := 0
	for _, d := range s.decoded() {
		n += d
	}
	return n
}
