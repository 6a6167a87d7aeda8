package harness

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Pipeline is a gst-launch-1.0 process owned by one test.
type Pipeline struct {
	t      testing.TB
	Launch string
	Args   []string
	LogDir string // holds gst-debug.log (GST_DEBUG output) and the private registry

	cmd     *exec.Cmd
	done    chan struct{}
	started time.Time
	exit    int

	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	merged bytes.Buffer
}

type lockedWriter struct {
	mu  *sync.Mutex
	own *bytes.Buffer
	all *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.own.Write(b)
	w.all.Write(b)
	return len(b), nil
}

// RunPipeline starts `gst-launch-1.0 -m -e <launch>` with the built plugin
// (PluginDir) on GST_PLUGIN_PATH. See RunPipelineIn.
func RunPipeline(t testing.TB, launch string, env ...string) *Pipeline {
	t.Helper()
	return RunPipelineIn(t, PluginDir(t), launch, env...)
}

// RunPipelineIn starts `gst-launch-1.0 -m -e <launch>` with GST_PLUGIN_PATH=pluginDir,
// a private registry and GST_DEBUG=golivekit*:5 written to LogDir/gst-debug.log;
// env entries ("K=V") are added last and win. launch is split like a shell
// would split it (quotes group, backslash escapes). The process is killed on
// t.Cleanup; if the test failed, the output and debug log tails are logged.
func RunPipelineIn(t testing.TB, pluginDir, launch string, env ...string) *Pipeline {
	t.Helper()
	return runPipeline(t, pluginDir, nil, launch, env...)
}

// RunPipelineNetns is RunPipeline inside network namespace ns (`ip netns exec`
// execs gst-launch, so signals still reach it directly).
func RunPipelineNetns(t testing.TB, ns, launch string, env ...string) *Pipeline {
	t.Helper()
	return runPipeline(t, PluginDir(t), []string{"ip", "netns", "exec", ns}, launch, env...)
}

func runPipeline(t testing.TB, pluginDir string, prefix []string, launch string, env ...string) *Pipeline {
	t.Helper()
	args, err := SplitArgs(launch)
	if err != nil {
		t.Fatalf("harness: pipeline %q: %v", launch, err)
	}
	return runProgram(t, pluginDir, append(append(prefix, "gst-launch-1.0", "-m", "-e"), args...), launch, env...)
}

// RunAppNetns runs a GStreamer application (argv) in network namespace ns
// with the plugin and debug log set up as for RunPipeline. The application
// reports like gst-launch-1.0 -m: element messages on stdout, "ERROR: from
// element …" on stderr, so the Pipeline methods read it the same way.
func RunAppNetns(t testing.TB, ns string, argv []string, env ...string) *Pipeline {
	t.Helper()
	return runProgram(t, PluginDir(t), append([]string{"ip", "netns", "exec", ns}, argv...), strings.Join(argv, " "), env...)
}

func runProgram(t testing.TB, pluginDir string, argv []string, launch string, env ...string) *Pipeline {
	t.Helper()
	p := &Pipeline{t: t, Launch: launch, Args: argv, LogDir: t.TempDir(), done: make(chan struct{}), exit: -1}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(),
		"GST_PLUGIN_PATH="+pluginDir,
		"GST_REGISTRY="+filepath.Join(p.LogDir, "registry.bin"),
		"GST_REGISTRY_1_0="+filepath.Join(p.LogDir, "registry.bin"),
		"GST_DEBUG=golivekit*:5",
		"GST_DEBUG_FILE="+filepath.Join(p.LogDir, "gst-debug.log"),
		"GST_DEBUG_NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout = lockedWriter{&p.mu, &p.stdout, &p.merged}
	cmd.Stderr = lockedWriter{&p.mu, &p.stderr, &p.merged}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("harness: start %s: %v", argv[0], err)
	}
	p.cmd, p.started = cmd, time.Now()
	go func() {
		err := cmd.Wait()
		code := 0
		if err != nil {
			code = -1
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
		}
		p.mu.Lock()
		p.exit = code
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("pipeline %q exit %d; output tail:\n%s\n--- gst debug log tail (%s):\n%s",
				p.Launch, p.ExitCode(), tailLines(p.Output(), 60), p.DebugLogPath(), p.DebugLogTail(60))
		}
	})
	return p
}

// Wait waits up to timeout for the process to exit and returns its exit code.
// On timeout the process is killed, the test gets an error, and -1 is returned.
func (p *Pipeline) Wait(timeout time.Duration) int {
	select {
	case <-p.done:
		return p.ExitCode()
	case <-time.After(timeout):
		p.t.Errorf("harness: pipeline did not exit within %v; killing it", timeout)
		p.Kill()
		return -1
	}
}

// Exited reports whether the process has ended.
func (p *Pipeline) Exited() bool { return isClosed(p.done) }

// Done is closed when the process has ended.
func (p *Pipeline) Done() <-chan struct{} { return p.done }

// ExitCode is the exit status (-1 while running or when killed by a signal).
func (p *Pipeline) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// StartedAt is when the process was started.
func (p *Pipeline) StartedAt() time.Time { return p.started }

// Interrupt sends SIGINT: gst-launch -e then sends EOS and exits when it drained.
func (p *Pipeline) Interrupt() {
	if !p.Exited() {
		_ = p.cmd.Process.Signal(syscall.SIGINT)
	}
}

// Kill sends SIGKILL to the process group and waits (bounded) for it.
func (p *Pipeline) Kill() {
	if p.cmd == nil || p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	_ = p.cmd.Process.Kill()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("harness: gst-launch pid %d did not die after SIGKILL", p.cmd.Process.Pid)
	}
}

// Output is stdout and stderr interleaved as they arrived.
func (p *Pipeline) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.merged.String()
}

// Stdout is what gst-launch printed on stdout (the -m bus messages).
func (p *Pipeline) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

// Stderr is what gst-launch printed on stderr (ERROR/WARNING reports).
func (p *Pipeline) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// DebugLogPath is the GST_DEBUG_FILE of this run.
func (p *Pipeline) DebugLogPath() string { return filepath.Join(p.LogDir, "gst-debug.log") }

// DebugLogTail returns the last n lines of the GST_DEBUG log.
func (p *Pipeline) DebugLogTail(n int) string { return tailFile(p.DebugLogPath(), n) }

// Errors returns each "ERROR: from element …" report with its "Additional
// debug info" lines, one string per report.
//
// gst-launch prints ERROR reports on stderr and WARNING reports on stdout;
// reading only that stream keeps a report whole when a line on the other
// stream is written at the same moment.
func (p *Pipeline) Errors() []string { return reports(p.Stderr(), "ERROR: from element ") }

// Warnings returns each "WARNING: from element …" report with its debug info.
func (p *Pipeline) Warnings() []string { return reports(p.Stdout(), "WARNING: from element ") }

// gst-launch lines that end a report's debug info.
var launchLine = regexp.MustCompile(`^(ERROR|WARNING|INFO)[: ]|^Got message #|^Setting pipeline|^Execution ended|^Freeing pipeline|^Pipeline is|^Prerolled|^Redistribute latency|^New clock|^Got EOS|^Interrupt|^handling interrupt|^EOS on shutdown|^Waiting for EOS|^Failed to set|^Progress:|^Missing element`)

func reports(out, prefix string) []string {
	lines := strings.Split(out, "\n")
	var res []string
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(lines[i], prefix) {
			continue
		}
		rep := []string{lines[i]}
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "Additional debug info:") {
			rep = append(rep, lines[i+1])
			j := i + 2
			for ; j < len(lines) && j < i+12 && lines[j] != "" && !launchLine.MatchString(lines[j]); j++ {
				rep = append(rep, lines[j])
			}
			i = j - 1
		}
		res = append(res, strings.Join(rep, "\n"))
	}
	return res
}

var elementMsg = regexp.MustCompile(`^Got message #\d+ from element "([^"]*)" \(element\): (.*)$`)

// ElementMessages returns the structures (as printed by -m) of the element
// messages named structName, in order, e.g.
// `golivekitsink-connection, state=(string)connected, …;`.
func (p *Pipeline) ElementMessages(structName string) []string {
	var out []string
	for _, l := range strings.Split(p.Stdout(), "\n") {
		m := elementMsg.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name, _, _ := strings.Cut(m[2], ",")
		name = strings.TrimSuffix(strings.TrimSpace(name), ";")
		if name == structName {
			out = append(out, m[2])
		}
	}
	return out
}

// WaitForElementMessage polls the -m output until an element message named
// structName satisfies match (nil: any), or the timeout passes or the process
// exits. It returns the matching structure and whether one was found.
func (p *Pipeline) WaitForElementMessage(structName string, timeout time.Duration, match func(fields map[string]string) bool) (string, bool) {
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range p.ElementMessages(structName) {
			if match == nil || match(ParseStructure(m)) {
				return m, true
			}
		}
		if time.Now().After(deadline) || p.Exited() {
			if p.Exited() { // one last look after the output was flushed
				for _, m := range p.ElementMessages(structName) {
					if match == nil || match(ParseStructure(m)) {
						return m, true
					}
				}
			}
			return "", false
		}
		time.Sleep(50 * time.Millisecond)
	}
}
