// Package viewer checks the browser viewer (viewer/) end to end: golivekitsink
// publishes into a local livekit-server, viewer-serve serves the built page
// with a minted subscriber token, and headless chromium must decode the video.
package viewer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

type pageStats struct {
	State         string `json:"state"`
	Error         string `json:"error"`
	FramesDecoded int    `json:"framesDecoded"`
	AudioPackets  int    `json:"audioPackets"`
	Tracks        []struct {
		Kind          string `json:"kind"`
		Codec         string `json:"codec"`
		FramesDecoded int    `json:"framesDecoded"`
	} `json:"tracks"`
}

func TestViewerDecodesPublishedVideo(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (scripts/setup.sh installs it): %v", err)
	}
	root := harness.RepoRoot()
	buildViewer(t, root)

	srv := harness.StartServer(t, harness.ServerOptions{})
	const room = "viewer"
	p := harness.RunPipeline(t, fmt.Sprintf(
		"videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 "+
			"! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=30 ! golivekitsink name=lk "+
			"signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s signaller::room-name=%s signaller::identity=cam "+
			"audiotestsrc is-live=true ! opusenc ! lk.",
		srv.URL(), srv.APIKey(), srv.Secret(), room))
	if _, ok := p.WaitForElementMessage("golivekitsink-connection", 30*time.Second,
		func(f map[string]string) bool { return f["state"] == "connected" }); !ok {
		t.Fatalf("publisher never connected; output:\n%s", p.Output())
	}

	pageURL := serveViewer(t, root, srv, room)
	b := startBrowser(t, chromium, pageURL)

	// First decoded frame: join + ICE + a keyframe.
	var st pageStats
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for st.FramesDecoded == 0 {
		if err := b.eval(ctx, "window.lkStats || null", &st); err != nil {
			t.Fatalf("reading window.lkStats: %v (last %+v)", err, st)
		}
		if st.State == "error" || ctx.Err() != nil {
			t.Fatalf("viewer decoded no video: %+v", st)
		}
		time.Sleep(250 * time.Millisecond)
	}
	first := st.FramesDecoded
	time.Sleep(2 * time.Second)
	if err := b.eval(ctx, "window.lkStats", &st); err != nil {
		t.Fatal(err)
	}
	// 30 fps for 2 s is 60 frames; stats refresh every 500 ms, so ask for 20.
	if st.FramesDecoded < first+20 {
		t.Fatalf("framesDecoded grew from %d to %d in 2 s; stats %+v", first, st.FramesDecoded, st)
	}
	if st.AudioPackets == 0 {
		t.Errorf("viewer received no audio packets: %+v", st)
	}
	t.Logf("viewer: state %s, framesDecoded %d -> %d in 2 s, audio packets %d, tracks %+v",
		st.State, first, st.FramesDecoded, st.AudioPackets, st.Tracks)
}

// buildViewer runs scripts/viewer-build.sh (npm ci when needed, then esbuild).
func buildViewer(t *testing.T, root string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(root, "scripts", "viewer-build.sh")).CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/viewer-build.sh: %v\n%s", err, out)
	}
}

// serveViewer builds and starts viewer/serve (what scripts/viewer-serve.sh
// runs) and returns the page URL it prints.
func serveViewer(t *testing.T, root string, srv *harness.Server, room string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "viewer-serve")
	build := exec.Command("go", "build", "-o", bin, "./viewer/serve")
	build.Dir = root
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./viewer/serve: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-dir", filepath.Join(root, "viewer", "dist"), "-ws-url", srv.URL(),
		"-api-key", srv.APIKey(), "-api-secret", srv.Secret(), "-room", room)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "viewer: "); ok {
				line <- u
			}
		}
	}()
	select {
	case u := <-line:
		return u
	case <-time.After(10 * time.Second):
		t.Fatal("viewer-serve printed no URL in 10 s")
		return ""
	}
}
