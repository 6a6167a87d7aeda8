// Package plugin tests the golivekitsink element itself, with no LiveKit
// server: each test runs the built plugin in a real GStreamer application
// (python3-gi, testdata/host.py) that publishes to the fake LiveKit
// signalling server signaller/signallertest, which answers the offers
// with a pion peer connection so media really flows over loopback. The
// fake records everything the element sent; the host reports the bus, the
// element's stats and its own file descriptors. What only a real server and
// client show (track info, mute, room-timeout: live_padprops_test.go) runs
// the same host against real livekit-server versions.
package plugin

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// host is one testdata/host.py process, commanded line by line.
type host struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	done  chan struct{}

	mu    sync.Mutex
	lines []string
}

// startHost runs launch (its golivekitsink named "lk") in host.py with
// the built plugin, a fresh registry and GST_DEBUG=golivekit*:5 to a file;
// env entries ("K=V") are added last.
func startHost(t *testing.T, launch string, env ...string) *host {
	t.Helper()
	script, err := filepath.Abs("testdata/host.py")
	if err != nil {
		t.Fatal(err)
	}
	h := &host{t: t, dir: t.TempDir(), done: make(chan struct{})}
	// /usr/bin/python3: the Debian one has python3-gi (not the pyenv one on PATH).
	h.cmd = exec.Command("/usr/bin/python3", script, launch)
	h.cmd.Env = append(os.Environ(),
		"GST_PLUGIN_PATH="+harness.PluginDir(t),
		"GST_REGISTRY="+filepath.Join(h.dir, "registry.bin"),
		"GST_REGISTRY_1_0="+filepath.Join(h.dir, "registry.bin"),
		"GST_DEBUG=golivekit*:5", "GST_DEBUG_FILE="+h.debugLogPath(), "GST_DEBUG_NO_COLOR=1")
	h.cmd.Env = append(h.cmd.Env, env...)
	h.cmd.Stderr = &prefixWriter{h: h, prefix: "STDERR "}
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := h.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if h.stdin, err = h.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			h.add(sc.Text())
		}
		_ = h.cmd.Wait()
		close(h.done)
	}()
	t.Cleanup(h.stop)
	if _, ok := h.waitLine("HELLO", 0, 20*time.Second); !ok {
		t.Fatalf("host did not start:\n%s", h.output())
	}
	return h
}

type prefixWriter struct {
	h      *host
	prefix string
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.h.add(w.prefix + l)
	}
	return len(b), nil
}

func (h *host) add(l string) {
	h.mu.Lock()
	h.lines = append(h.lines, l)
	h.mu.Unlock()
}

func (h *host) debugLogPath() string { return filepath.Join(h.dir, "gst-debug.log") }

func (h *host) debugLog() string {
	b, _ := os.ReadFile(h.debugLogPath())
	return string(b)
}

// quit ends the host (pipeline to NULL, exit) and returns its exit code; a
// host that does not exit within 15 s is a hang.
func (h *host) quit() int {
	_, _ = io.WriteString(h.stdin, "quit\n")
	_ = h.stdin.Close()
	select {
	case <-h.done:
	case <-time.After(15 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
		h.t.Errorf("the host did not exit within 15 s of quit (a hang in set_state NULL?)")
	}
	return h.cmd.ProcessState.ExitCode()
}

func (h *host) stop() {
	if !isClosed(h.done) {
		h.quit()
	}
	if h.t.Failed() {
		// The element's own lines first: pion's fill the plain tail, and a
		// recovery's story (why a resume became a reconnect) is in these.
		h.t.Logf("host output:\n%s\n--- golivekitsink lines of the debug log (last 100):\n%s\n--- debug log tail:\n%s",
			h.output(), tail(elementLines(h.debugLog()), 100), tail(h.debugLog(), 60))
	}
}

// elementLines are the lines of the golivekitsink debug category (not
// golivekit-pion's) in a GStreamer debug log.
func elementLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, " golivekitsink golivekitsink:") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func (h *host) send(cmd string) int {
	h.t.Helper()
	n := h.count()
	if _, err := io.WriteString(h.stdin, cmd+"\n"); err != nil {
		h.t.Fatalf("host: %v\n%s", err, h.output())
	}
	return n
}

func (h *host) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.lines)
}

func (h *host) output() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.lines, "\n")
}

// linesWith returns the lines from index after on that start with prefix,
// without it.
func (h *host) linesWith(prefix string, after int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range h.lines[min(after, len(h.lines)):] {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

// waitLine waits for a line starting with prefix from index after on, and
// returns it without the prefix.
func (h *host) waitLine(prefix string, after int, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		if l := h.linesWith(prefix, after); len(l) > 0 {
			return l[0], true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		select {
		case <-h.done:
			deadline = time.Now() // one last look
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// do sends a command and waits for its answer line (answer is its prefix).
func (h *host) do(cmd, answer string, timeout time.Duration) string {
	h.t.Helper()
	n := h.send(cmd)
	rest, ok := h.waitLine(answer, n, timeout)
	if !ok {
		if failed := h.linesWith("FAILED ", n); len(failed) > 0 {
			h.t.Fatalf("%s: %s", cmd, failed[0])
		}
		h.t.Fatalf("no %q answer to %q within %s:\n%s", answer, cmd, timeout, tail(h.output(), 40))
	}
	return rest
}

// setState sets the pipeline's state and fails the test if that failed.
func (h *host) setState(state string) {
	h.t.Helper()
	if rest := h.do("set "+state, "SET "+state+" ", 30*time.Second); strings.Contains(rest, "ret=failure") {
		h.t.Fatalf("set_state(%s): %s", state, rest)
	}
}

// stats is the element's stats property, parsed.
func (h *host) stats() map[string]string {
	h.t.Helper()
	return harness.ParseStructure(h.do("stats", "STATS ", 10*time.Second))
}

// packetsSent is the packets-sent of pad's track in stats (-1: no track).
func packetsSent(stats map[string]string, pad string) int64 {
	inner, ok := stats[pad]
	if !ok {
		return -1
	}
	var n int64 = -1
	_, _ = fmt.Sscan(harness.ParseStructure(inner)["packets-sent"], &n)
	return n
}

// waitConnected waits for a golivekitsink-connection message with
// state=connected (after line index after) whose track-sids name every pad
// in pads, and returns its fields.
func (h *host) waitConnected(after int, timeout time.Duration, pads ...string) map[string]string {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for _, m := range h.linesWith("MSG ", after) {
			f := harness.ParseStructure(m)
			if f["state"] != "connected" {
				continue
			}
			all := true
			for _, p := range pads {
				all = all && strings.Contains(f["track-sids"], p+"=TR_")
			}
			if all {
				return f
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no connected message with tracks %v within %s:\n%s", pads, timeout, tail(h.output(), 40))
	return nil
}

// errors returns the ERROR lines the host saw ("<domain> <code> <text> | <debug>").
func (h *host) errors() []string { return h.linesWith("ERROR ", 0) }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Branches the tests link to the element: live sources, encoded or raw.
const (
	h264Branch = "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! " +
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=300 ! capsfilter caps=video/x-h264,profile=constrained-baseline"
	opusBranch = "audiotestsrc is-live=true wave=ticks ! opusenc"
)

// fakeServer is a signallertest server that answers offers (media flows).
func fakeServer(t *testing.T) *signallertest.Server {
	return signallertest.NewServer(t, signallertest.Options{AnswerOffers: true})
}

// elementLaunch is a golivekitsink named lk that publishes to srv.
func elementLaunch(srv *signallertest.Server, extra string) string {
	return fmt.Sprintf("golivekitsink name=lk signaller::ws-url=%s signaller::api-key=plugin-tests "+
		"signaller::secret-key=plugin-tests-secret-plugin-tests-secret signaller::room-name=plugin-tests "+
		"signaller::identity=pub %s", srv.URL(), extra)
}
