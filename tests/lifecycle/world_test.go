// Package lifecycle holds the element in a recovery on purpose (a resume
// whose signalling is blackholed, a full reconnect whose joins are refused)
// and does to it what applications do meanwhile: change its state, also
// from a bus sync handler or a notify::connection-state callback, send EOS
// on a pad, release a pad, change the video size. Real livekit-server, real
// pipelines driven through python3-gi (testdata/driver.py), a real
// subscriber whose view of the tracks is what the tests assert.
package lifecycle

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

const identity = "pub"

// driver is one python3 process running a pipeline, commanded line by line.
type driver struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	dir   string
	done  chan struct{}

	mu    sync.Mutex
	lines []string
}

func startDriver(t *testing.T, launch string) *driver {
	t.Helper()
	script, err := filepath.Abs("testdata/driver.py")
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, dir: t.TempDir(), done: make(chan struct{})}
	d.cmd = exec.Command("/usr/bin/python3", script, launch)
	d.cmd.Env = append(os.Environ(),
		"GST_PLUGIN_PATH="+harness.PluginDir(t),
		"GST_REGISTRY="+filepath.Join(d.dir, "registry.bin"),
		"GST_DEBUG=golivekit*:5", "GST_DEBUG_FILE="+filepath.Join(d.dir, "gst.log"))
	d.cmd.Stderr = &lineWriter{d: d, prefix: "STDERR "}
	out, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if d.stdin, err = d.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			d.add(sc.Text())
		}
		_ = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(d.stop)
	if _, ok := d.waitLine("HELLO", 0, 20*time.Second); !ok {
		t.Fatalf("driver did not start:\n%s", d.output())
	}
	return d
}

type lineWriter struct {
	d      *driver
	prefix string
}

func (w *lineWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.d.add(w.prefix + l)
	}
	return len(b), nil
}

func (d *driver) add(l string) {
	d.mu.Lock()
	d.lines = append(d.lines, l)
	d.mu.Unlock()
}

// stop quits the driver; one that does not exit in 15 s is a hang.
func (d *driver) stop() {
	_, _ = io.WriteString(d.stdin, "quit\n")
	_ = d.stdin.Close()
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		d.t.Errorf("the driver did not exit within 15 s of quit (a hang in set_state NULL?)\n%s", d.output())
	}
	if d.t.Failed() || os.Getenv("LIFECYCLE_DRIVER_LOG") != "" {
		log, _ := os.ReadFile(filepath.Join(d.dir, "gst.log"))
		d.t.Logf("driver output:\n%s\n--- debug log tail:\n%s", d.output(), tail(string(log), 80))
	}
	if errs := d.linesWith("ERROR "); len(errs) > 0 {
		d.t.Errorf("the pipeline posted an ERROR:\n%s", strings.Join(errs, "\n"))
	}
}

func (d *driver) send(cmd string) int {
	d.t.Helper()
	n := d.count()
	if _, err := io.WriteString(d.stdin, cmd+"\n"); err != nil {
		d.t.Fatalf("driver: %v\n%s", err, d.output())
	}
	return n
}

func (d *driver) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.lines)
}

func (d *driver) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

func (d *driver) linesWith(prefix string) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, l := range d.lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// waitLine waits for a line starting with prefix among those from index
// after on, and returns it without the prefix.
func (d *driver) waitLine(prefix string, after int, timeout time.Duration) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		d.mu.Lock()
		for i := after; i < len(d.lines); i++ {
			if rest, ok := strings.CutPrefix(d.lines[i], prefix); ok {
				d.mu.Unlock()
				return rest, true
			}
		}
		d.mu.Unlock()
		if time.Now().After(deadline) {
			return "", false
		}
		select {
		case <-d.done:
			deadline = time.Now() // one last look
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// do sends a command and waits for its answer line.
func (d *driver) do(cmd, answer string, timeout time.Duration) string {
	d.t.Helper()
	n := d.send(cmd)
	rest, ok := d.waitLine(answer, n, timeout)
	if !ok {
		d.t.Fatalf("no %q answer to %q within %s:\n%s", answer, cmd, timeout, d.output())
	}
	if strings.HasPrefix(rest, "FAILED") {
		d.t.Fatalf("%s: %s", cmd, rest)
	}
	return rest
}

// waitState waits for a connection message with that state (and, for
// "connected", every track in tracks published) after line index after.
func (d *driver) waitState(state string, after int, timeout time.Duration, tracks ...string) map[string]string {
	d.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		d.mu.Lock()
		lines := append([]string(nil), d.lines[min(after, len(d.lines)):]...)
		d.mu.Unlock()
		for _, l := range lines {
			m, ok := strings.CutPrefix(l, "MSG ")
			if !ok {
				continue
			}
			f := harness.ParseStructure(m)
			if f["state"] != state {
				continue
			}
			all := true
			for _, tr := range tracks {
				all = all && strings.Contains(f["track-sids"], tr+"=TR_")
			}
			if all {
				return f
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatalf("no %s message (tracks %v) within %s:\n%s", state, tracks, timeout, d.output())
	return nil
}

// setState runs "set STATE" and returns how long gst_element_set_state took.
func (d *driver) setState(state string) time.Duration {
	d.t.Helper()
	return parseSet(d.t, d.do("set "+state, "SET "+state+" ", 30*time.Second))
}

// parseSet reads "ret=success ms=12.3 thread=..." and fails on a failed change.
func parseSet(t *testing.T, rest string) time.Duration {
	t.Helper()
	f := fields(rest)
	if f["ret"] == "failure" {
		t.Fatalf("set_state failed: %s", rest)
	}
	ms, err := strconv.ParseFloat(f["ms"], 64)
	if err != nil {
		t.Fatalf("bad answer %q", rest)
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// fields splits "k=v k2=v2" answers.
func fields(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Fields(s) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

// world: one server, a signalling proxy in front of it (the faults), a
// subscriber, and a driven pipeline publishing through the proxy.
type world struct {
	t     *testing.T
	srv   *harness.Server
	proxy *harness.SigProxy
	sub   *harness.Subscriber
	drv   *driver
	room  string
}

func newWorld(t *testing.T, version, branches string) *world {
	t.Helper()
	w := &world{t: t, room: "lifecycle-" + strings.NewReplacer("/", "-", ".", "-").Replace(t.Name())}
	w.srv = harness.StartServer(t, harness.ServerOptions{Version: version})
	w.proxy = harness.NewSigProxy(t, w.srv.URL())
	w.sub = harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
	launch := fmt.Sprintf("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "+
		"videoscale ! capsfilter name=vcaps caps=video/x-raw,width=320,height=240 ! "+
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=400 ! "+
		"golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=%s %s",
		w.proxy.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, identity, branches)
	w.drv = startDriver(t, launch)
	return w
}

// audioBranch is an Opus branch into the element named by n.
func audioBranch(n int) string {
	return fmt.Sprintf(" audiotestsrc name=asrc%d is-live=true wave=ticks ! opusenc name=aenc%d ! lk.", n, n)
}

// recovery is a way of holding the session in one recovery mode.
type recovery struct {
	name  string
	state string // the connection state it holds the element in
	start func(w *world)
	end   func(w *world)
}

var recoveries = []recovery{
	{
		// Signalling reset, and every later socket silent: each resume
		// attempt waits its 10 s for an answer that never comes.
		name: "resume", state: "resuming",
		start: func(w *world) { w.proxy.DropAll(true); w.proxy.ResetAll() },
		end:   func(w *world) { w.proxy.DropAll(false); w.proxy.ResetAll() },
	},
	{
		// Leave{RECONNECT}, then every join refused with 503.
		name: "full", state: "reconnecting",
		start: func(w *world) {
			w.proxy.RejectNext(503, 1000)
			w.proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
		},
		end: func(w *world) { w.proxy.RejectNext(503, 0) },
	},
}

func forEachRecovery(t *testing.T, f func(t *testing.T, r recovery, version string)) {
	for _, r := range recoveries {
		t.Run(r.name, func(t *testing.T) {
			for _, v := range harness.Versions() {
				t.Run(v, func(t *testing.T) { f(t, r, v) })
			}
		})
	}
}

// hold starts the recovery and waits until the element reports it.
func (w *world) hold(r recovery) {
	w.t.Helper()
	n := w.drv.count()
	r.start(w)
	w.drv.waitState(r.state, n, 15*time.Second)
	time.Sleep(500 * time.Millisecond) // into the attempt (resume) or its backoff (full)
}

// publications is the subscriber's view of the participant with that SID:
// its track publications by name.
func (w *world) publications(sid string) map[string]*lksdk.RemoteTrackPublication {
	out := map[string]*lksdk.RemoteTrackPublication{}
	for _, rp := range w.sub.Room().GetRemoteParticipants() {
		if rp.SID() != sid {
			continue
		}
		for _, p := range rp.TrackPublications() {
			if rpub, ok := p.(*lksdk.RemoteTrackPublication); ok {
				out[rpub.Name()] = rpub
			}
		}
	}
	return out
}

// eventually polls cond until it holds or timeout passes; it returns the
// last description cond gave.
func eventually(timeout time.Duration, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok || time.Now().After(deadline) {
			return ok, desc
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describe(pubs map[string]*lksdk.RemoteTrackPublication) string {
	var b strings.Builder
	for name, p := range pubs {
		ti := p.TrackInfo()
		fmt.Fprintf(&b, "%s(%s muted=%v %dx%d) ", name, p.SID(), p.IsMuted(), ti.GetWidth(), ti.GetHeight())
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
