package harness

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The self-tests re-exec this test binary inside a namespace (ip netns exec
// <ns> <binary> -test.run=^TestNetnsHelperProcess$) rather than depending on
// python3, nc or bash /dev/udp being installed. The helper is selected by
// GLK_HELPER; without it TestNetnsHelperProcess is a no-op.
const helperEnv = "GLK_HELPER"

func TestNetnsHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		return
	case "listen":
		helperListen(os.Getenv("GLK_ADDR"))
	case "send":
		if err := helperSend(os.Getenv("GLK_NET"), os.Getenv("GLK_ADDR"), os.Getenv("GLK_DATA")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Exit(0)
}

// helperListen prints "ready <tcpport> <udpport>", then one "tcp <data>" or
// "udp <data>" line per received connection or datagram, until killed.
func helperListen(addr string) {
	tl, err := net.Listen("tcp4", net.JoinHostPort(addr, "0"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	ul, err := net.ListenPacket("udp4", net.JoinHostPort(addr, "0"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var mu sync.Mutex
	say := func(s string) { mu.Lock(); fmt.Println(s); mu.Unlock() }
	say(fmt.Sprintf("ready %d %d", tl.Addr().(*net.TCPAddr).Port, ul.LocalAddr().(*net.UDPAddr).Port))
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := ul.ReadFrom(buf)
			if err != nil {
				return
			}
			say("udp " + strings.TrimSpace(string(buf[:n])))
		}
	}()
	for {
		c, err := tl.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			say("tcp " + strings.TrimSpace(line))
		}()
	}
}

func helperSend(network, addr, data string) error {
	c, err := net.DialTimeout(network, addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(data + "\n"))
	return err
}

func helperCmd(t *testing.T, prefix []string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append(append([]string{}, prefix...), exe, "-test.run=^TestNetnsHelperProcess$")
	cmd := exec.Command(args[0], args[1:]...)
	// The race runtime sleeps 1 s at exit by default; helpers exit a lot.
	cmd.Env = append(append(os.Environ(), "GORACE=atexit_sleep_ms=0"), env...)
	return cmd
}

type listener struct {
	tcpPort, udpPort string
	lines            chan string
}

// startListener runs helperListen in a namespace; the process and the
// goroutine reading its output end in t.Cleanup.
func startListener(t *testing.T, prefix []string, addr string) *listener {
	t.Helper()
	cmd := helperCmd(t, prefix, helperEnv+"=listen", "GLK_ADDR="+addr)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &listener{lines: make(chan string, 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case l.lines <- sc.Text():
			default: // test stopped listening; never block the reader
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
	})
	select {
	case line := <-l.lines:
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "ready" {
			t.Fatalf("listener: %q", line)
		}
		l.tcpPort, l.udpPort = f[1], f[2]
	case <-time.After(10 * time.Second):
		t.Fatal("listener did not start")
	}
	return l
}

func (l *listener) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(3 * time.Second)
	for {
		select {
		case got := <-l.lines:
			if got == want {
				return
			}
			t.Logf("listener: ignoring %q while waiting for %q", got, want)
		case <-deadline:
			t.Fatalf("listener never saw %q", want)
		}
	}
}

func (l *listener) expectNone(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case got := <-l.lines:
		t.Fatalf("listener got %q, want nothing", got)
	case <-time.After(d):
	}
}

// sendFrom sends one line over tcp/udp from inside a namespace.
func sendFrom(t *testing.T, prefix []string, network, addr, data string) error {
	t.Helper()
	out, err := helperCmd(t, prefix, helperEnv+"=send", "GLK_NET="+network, "GLK_ADDR="+addr, "GLK_DATA="+data).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func mustSendFrom(t *testing.T, prefix []string, network, addr, data string) {
	t.Helper()
	if err := sendFrom(t, prefix, network, addr, data); err != nil {
		t.Fatalf("send %s %s from ns: %v", network, addr, err)
	}
}

func TestTopologyConnectivity(t *testing.T) {
	tp := NewTopology(t)
	l := startListener(t, tp.SrvExec(), tp.ServerAddr)
	tcpAddr := net.JoinHostPort(tp.ServerAddr, l.tcpPort)
	udpAddr := net.JoinHostPort(tp.ServerAddr, l.udpPort)
	pub := tp.PubExec()

	mustSendFrom(t, pub, "tcp", tcpAddr, "pub-tcp-1")
	l.expect(t, "tcp pub-tcp-1")
	mustSendFrom(t, pub, "udp", udpAddr, "pub-udp-1")
	l.expect(t, "udp pub-udp-1")
	// The test process (subscriber side) reaches ServerAddr via the host route.
	mustSendFrom(t, nil, "tcp", tcpAddr, "host-tcp-1")
	l.expect(t, "tcp host-tcp-1")
	mustSendFrom(t, nil, "udp", udpAddr, "host-udp-1")
	l.expect(t, "udp host-udp-1")

	tp.BlockUDP(t)
	tp.BlockUDP(t) // idempotent
	// A blackhole, not a rejection: the publisher's send still succeeds.
	mustSendFrom(t, pub, "udp", udpAddr, "pub-udp-2")
	l.expectNone(t, 500*time.Millisecond)
	if n := tp.DroppedPackets(t); n == 0 {
		t.Error("BlockUDP: drop counters are zero after a blocked send")
	}
	mustSendFrom(t, pub, "tcp", tcpAddr, "pub-tcp-2")
	l.expect(t, "tcp pub-tcp-2")
	mustSendFrom(t, nil, "udp", udpAddr, "host-udp-2") // only the publisher is cut
	l.expect(t, "udp host-udp-2")
	tp.UnblockUDP(t)
	tp.UnblockUDP(t)
	mustSendFrom(t, pub, "udp", udpAddr, "pub-udp-3")
	l.expect(t, "udp pub-udp-3")

	tp.BlockAll(t)
	if err := sendFrom(t, pub, "tcp", tcpAddr, "pub-tcp-3"); err == nil {
		t.Error("BlockAll: TCP from pub ns still connects")
	}
	mustSendFrom(t, nil, "tcp", tcpAddr, "host-tcp-3")
	l.expect(t, "tcp host-tcp-3")
	tp.UnblockAll(t)
	mustSendFrom(t, pub, "tcp", tcpAddr, "pub-tcp-4")
	l.expect(t, "tcp pub-tcp-4")
}

func TestTopologyPubToHost(t *testing.T) {
	tp := NewTopology(t)
	ln, err := net.Listen("tcp4", net.JoinHostPort(tp.HostAddr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	// Without forwarding the publisher reaches only the srv ns: contained.
	if err := sendFrom(t, tp.PubExec(), "tcp", addr, "x"); err == nil {
		t.Fatal("pub ns reached the host before AllowPubToHost")
	}
	tp.AllowPubToHost(t)
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	mustSendFrom(t, tp.PubExec(), "tcp", addr, "x")
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
}

func TestTopologyCleanup(t *testing.T) {
	var tp *Topology
	t.Run("build", func(t *testing.T) { tp = NewTopology(t) })
	if tp == nil || t.Skipped() {
		t.Skip("no topology")
	}
	assertGone(t, tp.ID)
	if out, _ := run("ip", "-4", "-o", "route", "show"); strings.Contains(out, strings.TrimSuffix(tp.ServerAddr, ".1")+".0/24") {
		t.Errorf("host route to %s left behind:\n%s", tp.ServerAddr, out)
	}
}

func TestNetnsCleanupStale(t *testing.T) {
	live := NewTopology(t)
	dead := deadPid(t)
	id := fmt.Sprintf("%s%sx0", NamePrefix, strconv.FormatInt(int64(dead), 36))
	t.Cleanup(func() { _, _ = run("ip", "link", "del", id+"h"); _, _ = run("ip", "netns", "del", id+"-srv") })
	for _, s := range [][]string{
		{"ip", "netns", "add", id + "-srv"},
		{"ip", "link", "add", id + "h", "type", "veth", "peer", "name", id + "s"},
	} {
		if _, err := run(s...); err != nil {
			t.Fatal(err)
		}
	}
	CleanupStale()
	assertGone(t, id)
	// A topology of a live process (this one) must survive.
	out, _ := run("ip", "netns", "list")
	if !strings.Contains(out, live.SrvNS) {
		t.Errorf("CleanupStale removed a live topology %s", live.SrvNS)
	}
}

// assertGone checks that no namespace or host link with this id is left.
func assertGone(t *testing.T, id string) {
	t.Helper()
	ns, _ := run("ip", "netns", "list")
	links, _ := run("ip", "-o", "link", "show")
	for _, s := range []string{ns, links} {
		if strings.Contains(s, id) {
			t.Errorf("%s left behind:\n%s", id, s)
		}
	}
}

func deadPid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	max, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for pid := max - 1; pid > max-1000 && pid > 1; pid-- {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return pid
		}
	}
	t.Fatal("no free pid found")
	return 0
}

// JitterUDP holds the publisher's UDP for base±spread, and Stop lets it go
// at once again.
func TestTopologyJitterUDP(t *testing.T) {
	tp := NewTopology(t)
	l := startListener(t, tp.SrvExec(), tp.ServerAddr)
	udpAddr := net.JoinHostPort(tp.ServerAddr, l.udpPort)
	// late is how long after the sending process ended its datagram arrived.
	late := func(data string) time.Duration {
		mustSendFrom(t, tp.PubExec(), "udp", udpAddr, data)
		sent := time.Now()
		l.expect(t, "udp "+data)
		return time.Since(sent)
	}
	j := tp.JitterUDP(t, 300*time.Millisecond, 100*time.Millisecond)
	for i := range 5 {
		// Held 200..400 ms; the sender exits a few ms after its sendto.
		if d := late(fmt.Sprintf("held-%d", i)); d < 150*time.Millisecond || d > time.Second {
			t.Errorf("datagram %d arrived %s after it was sent, want 200..400 ms", i, d)
		}
	}
	if j.Delayed() < 5 {
		t.Errorf("%d packets went through the queue, want 5", j.Delayed())
	}
	j.Stop()
	if d := late("free"); d > 150*time.Millisecond {
		t.Errorf("after Stop a datagram arrived %s after it was sent, want at once", d)
	}
}
