package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// proc is a publisher process (gst-launch-1.0 or sdkpub) whose stdout lines
// are timestamped on arrival and whose CPU time is read from wait4's rusage.
type proc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	usage   *syscall.Rusage
	exitErr error

	mu      sync.Mutex
	lines   []line
	out     bytes.Buffer // stdout and stderr
	peakRSS int64        // VmHWM of the running process, bytes
}

type line struct {
	at   time.Time
	text string
}

// gstEnv is what gst-launch needs to find the bench's copy of the element
// (snapshotPlugin); the registry is warmed once, so a scan never runs inside
// a measured process.
func gstEnv() []string { return mainEnv }

var mainEnv []string // set by prepare

// snapshotPlugin copies the plugin built in src into dst, warms a registry
// of its own there and returns the environment that uses both.
func snapshotPlugin(src, dst string) ([]string, error) {
	if err := copyFile(filepath.Join(src, harness.PluginFile), filepath.Join(dst, harness.PluginFile)); err != nil {
		return nil, err
	}
	reg := filepath.Join(dst, "registry.bin")
	env := []string{"GST_PLUGIN_PATH=" + dst, "GST_REGISTRY=" + reg, "GST_REGISTRY_1_0=" + reg, "GST_DEBUG=0"}
	cmd := exec.Command("gst-inspect-1.0", "golivekitsink")
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gst-inspect-1.0 golivekitsink with the plugin of %s: %v\n%s", src, err, b)
	}
	fmt.Printf("plugin: %s (copied from %s)\n", dst, src)
	return env, nil
}

// startGst runs `gst-launch-1.0 -m -e launch`, inside netns when set.
func startGst(t *benchTB, netns, launch string) *proc {
	return startGstEnv(t, netns, launch, gstEnv())
}

// startGstEnv is startGst with env instead of gstEnv (another build of the plugin).
func startGstEnv(t *benchTB, netns, launch string, env []string) *proc {
	args, err := harness.SplitArgs(launch)
	if err != nil {
		t.Fatalf("launch line: %v", err)
	}
	return startProc(t, netns, append([]string{"gst-launch-1.0", "-m", "-e"}, args...), env)
}

// variantEnv is gstEnv for the plugin built in dir (cpu publisher
// golivekitsink@dir), snapshotted once.
func variantEnv(dir string) ([]string, error) {
	if env, ok := variants[dir]; ok {
		return env, nil
	}
	env, err := snapshotPlugin(dir, filepath.Join(cacheDir, "variants", roomSafe(dir)))
	if err != nil {
		return nil, err
	}
	variants[dir] = env
	return env, nil
}

var variants = map[string][]string{}

func startProc(t *benchTB, netns string, argv, env []string) *proc {
	if netns != "" {
		argv = append([]string{"ip", "netns", "exec", netns}, argv...)
	}
	p := &proc{done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.out.Write(b)
	})
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	p.started = time.Now()
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			now := time.Now()
			p.mu.Lock()
			p.lines = append(p.lines, line{now, sc.Text()})
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.exitErr = p.cmd.Wait()
		if ps := p.cmd.ProcessState; ps != nil {
			p.usage, _ = ps.SysUsage().(*syscall.Rusage)
		}
		close(p.done)
	}()
	go p.sampleRSS()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("%s output tail:\n%s", argv[0], p.tail(40))
		}
	})
	return p
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(b []byte) (int, error) { return w(b) }

// lineAt is the arrival time of the first stdout line starting with prefix.
func (p *proc) lineAt(prefix string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.HasPrefix(l.text, prefix) {
			return l.at, true
		}
	}
	return time.Time{}, false
}

func (p *proc) tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ls := strings.Split(strings.TrimRight(p.out.String(), "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits up to timeout for the process to end by itself.
func (p *proc) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.exitErr
	case <-time.After(timeout):
		return fmt.Errorf("did not exit within %v", timeout)
	}
}

// cpu is user+system CPU time of the ended process (and of children it reaped).
func (p *proc) cpu() time.Duration {
	if p.usage == nil {
		return 0
	}
	return time.Duration(p.usage.Utime.Nano() + p.usage.Stime.Nano())
}

// maxRSS is the process' peak resident set in bytes, as last sampled. Not
// rusage's ru_maxrss: the child starts on the bench process' memory (Go forks
// with CLONE_VM) and Linux folds that into ru_maxrss at exec.
func (p *proc) maxRSS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peakRSS
}

// sampleRSS records VmHWM (the peak RSS of the process' current program,
// monotonic) until the process ends.
func (p *proc) sampleRSS() {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
			if kb := statusKB(p.cmd.Process.Pid, "VmHWM:"); kb > 0 {
				p.mu.Lock()
				p.peakRSS = kb * 1024
				p.mu.Unlock()
			}
		}
	}
}

// statusKB reads one "<field> <n> kB" line of /proc/<pid>/status (0 if none).
func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == field {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// stop interrupts (gst-launch -e drains, sdkpub leaves), then kills after grace.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// kill SIGKILLs the process group and waits (bounded) for the process.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		fmt.Fprintf(os.Stderr, "benchtables: pid %d did not die after SIGKILL\n", p.cmd.Process.Pid)
	}
}

// lineContaining is the arrival time of the first stdout line containing s.
func (p *proc) lineContaining(s string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l.text, s) {
			return l.at, true
		}
	}
	return time.Time{}, false
}
