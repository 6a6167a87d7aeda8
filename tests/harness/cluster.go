package harness

// A LiveKit cluster as a real deployment runs it, inside one Topology's
// server namespace:
//
//	publisher ──ws(s)──► haproxy (balance first, TCP checks every 250 ms)
//	                       ├─► livekit-server node 0 ─┐
//	                       ├─► livekit-server node 1 ─┼─► redis-server
//	                       └─► …                      ┘
//
// Every process binds the topology's ServerAddr on its own ports (never the
// machine's defaults) and is stopped by PID on t.Cleanup. Media goes from
// the publisher straight to the room's node (each node has its own ICE/TCP
// and ICE/UDP ports); only signalling passes the balancer.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	Version string // livekit-server version of every node; default: the last of Versions()
	Nodes   int    // livekit-server nodes; default 2
	// Started is how many nodes StartCluster starts (the first ones); the
	// others wait for StartNode. A room is placed on a random available
	// node, so a test that must know the room's node starts one node, joins,
	// then starts the rest. Default: all.
	Started int
	// TLS makes the balancer terminate TLS with a certificate of a test CA
	// (Cluster.CA); the URL is then wss://.
	TLS bool
}

// Cluster is redis-server, livekit-server nodes and an HAProxy balancer in
// the server namespace of a Topology.
type Cluster struct {
	t        testing.TB
	opts     ClusterOptions
	Topo     *Topology
	Redis    *Daemon
	Balancer *Daemon
	CA       *TestCA // when TLS

	mu        sync.Mutex
	nodes     []*Server       // nil until started
	nodeOpts  []ServerOptions // fixed ports per node
	redisPort int
	lbPort    int
}

// StartCluster starts Redis, the first o.Started nodes and the balancer in
// tp's server namespace. Everything is stopped on t.Cleanup.
func StartCluster(t testing.TB, tp *Topology, o ClusterOptions) *Cluster {
	t.Helper()
	if o.Version == "" {
		vs := Versions()
		o.Version = vs[len(vs)-1]
	}
	if o.Nodes == 0 {
		o.Nodes = 2
	}
	if o.Started == 0 {
		o.Started = o.Nodes
	}
	for _, bin := range []string{"redis-server", "redis-cli", "haproxy"} {
		if _, err := exec.LookPath(bin); err != nil {
			skipOrFail(t, "cluster tests need %s (scripts/setup.sh installs it): %v", bin, err)
		}
	}
	c := &Cluster{t: t, opts: o, Topo: tp}
	// The namespace is fresh: ports free on the host's loopback are free there.
	c.redisPort = FreePort(t, "127.0.0.1")
	c.lbPort = FreePort(t, "127.0.0.1")
	redisAddr := net.JoinHostPort(tp.ServerAddr, fmt.Sprint(c.redisPort))
	for range o.Nodes {
		c.nodeOpts = append(c.nodeOpts, ServerOptions{
			Version: o.Version, Host: tp.ServerAddr, Netns: tp.SrvNS, Redis: redisAddr,
			Port: FreePort(t, "127.0.0.1"), TCPPort: FreePort(t, "127.0.0.1"), UDPPort: FreePort(t, "127.0.0.1"),
		})
	}
	c.nodes = make([]*Server, o.Nodes)

	dir := t.TempDir()
	c.Redis = StartDaemon(t, DaemonOptions{
		Name: "redis-server", Netns: tp.SrvNS, Dir: dir,
		// RDB saved on a graceful shutdown and loaded at start, as a packaged
		// redis-server does: a restart keeps the room -> node map.
		Args: []string{"redis-server", "--bind", tp.ServerAddr, "--port", fmt.Sprint(c.redisPort),
			"--dir", dir, "--dbfilename", "cluster.rdb", "--save", "3600 1", "--appendonly", "no",
			"--protected-mode", "no", "--daemonize", "no"},
		Ready: func() error { _, err := c.redisCLI("PING"); return err },
	})
	for i := range o.Started {
		c.StartNode(i)
	}
	if o.TLS {
		ca, err := NewTestCA(dir, tp.ServerAddr)
		if err != nil {
			t.Fatalf("harness: test CA: %v", err)
		}
		c.CA = ca
	}
	cfg := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(c.haproxyConfig()), 0o600); err != nil {
		t.Fatal(err)
	}
	lbAddr := net.JoinHostPort(tp.ServerAddr, fmt.Sprint(c.lbPort))
	c.Balancer = StartDaemon(t, DaemonOptions{
		Name: "haproxy", Netns: tp.SrvNS, Dir: dir,
		Args:  []string{"haproxy", "-db", "-f", cfg},
		Ready: func() error { return dialOnce(lbAddr) },
	})
	return c
}

// haproxyConfig is the balancer of a typical LiveKit deployment: HTTP mode
// (WebSocket upgrades become tunnels), timeouts long enough for signalling
// sockets that live for hours, TCP health checks that take a dead node out
// within a quarter second, and `balance first` so every new socket goes to
// the first live node (deterministic for tests).
func (c *Cluster) haproxyConfig() string {
	var b strings.Builder
	b.WriteString(`global
    nbthread 1
    log stderr format raw daemon notice

defaults
    mode http
    log global
    option redispatch
    retries 2
    timeout connect 1s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    timeout http-request 10s

frontend livekit
`)
	bind := fmt.Sprintf("    bind %s:%d", c.Topo.ServerAddr, c.lbPort)
	if c.CA != nil {
		bind += " ssl crt " + c.CA.BundleFile
	}
	b.WriteString(bind + "\n    default_backend nodes\n\nbackend nodes\n    balance first\n")
	for i, o := range c.nodeOpts {
		fmt.Fprintf(&b, "    server node%d %s:%d check inter 250 fall 1 rise 1\n", i, c.Topo.ServerAddr, o.Port)
	}
	return b.String()
}

// URL is the balancer's signalling URL: the one URL a publisher is given.
func (c *Cluster) URL() string {
	scheme := "ws"
	if c.CA != nil {
		scheme = "wss"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(c.Topo.ServerAddr, fmt.Sprint(c.lbPort)))
}

// Version is the livekit-server version of the nodes.
func (c *Cluster) Version() string { return c.opts.Version }

// APIKey and Secret are the credentials every node accepts.
func (c *Cluster) APIKey() string { return DevKey }
func (c *Cluster) Secret() string { return DevSecret }

// Node returns node i (nil when it was never started).
func (c *Cluster) Node(i int) *Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// NodeURL is node i's own signalling URL, bypassing the balancer (plain ws).
func (c *Cluster) NodeURL(i int) string {
	return "ws://" + net.JoinHostPort(c.Topo.ServerAddr, fmt.Sprint(c.nodeOpts[i].Port))
}

// StartNode starts node i, or restarts it with its ports and config when it
// was stopped, drained or killed.
func (c *Cluster) StartNode(i int) *Server {
	c.t.Helper()
	if n := c.Node(i); n != nil {
		n.Restart()
		return n
	}
	n := StartServer(c.t, c.nodeOpts[i])
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return n
}

// Drain sends node i the first SIGTERM (see Server.Drain).
func (c *Cluster) Drain(i int) { c.Node(i).Drain() }

// ForceStop sends node i the second SIGTERM and waits for it to exit.
func (c *Cluster) ForceStop(i int) { c.Node(i).ForceStop() }

// Kill kills node i with SIGKILL: a crash. The other nodes keep its room in
// Redis until its stats are older than 5 s.
func (c *Cluster) Kill(i int) { c.Node(i).Kill() }

// RestartBalancer kills HAProxy (every socket through it is cut at once) and
// starts it again on the same address.
func (c *Cluster) RestartBalancer() {
	c.t.Helper()
	c.Balancer.Kill()
	c.Balancer.Start()
}

// RestartRedis restarts redis-server as a service manager does (SIGTERM:
// it saves its data and exits), keeps it down for outage, starts it again
// and returns once it answers.
func (c *Cluster) RestartRedis(outage time.Duration) {
	c.t.Helper()
	c.Redis.Stop()
	time.Sleep(outage)
	c.Redis.Start()
}

// DaemonOptions configures StartDaemon.
type DaemonOptions struct {
	Name  string   // for logs and errors
	Args  []string // the command; run inside Netns when set
	Netns string
	Dir   string       // working directory, and where <Name>.log goes
	Ready func() error // nil once the daemon serves; polled after each start
}

// Daemon is a long-running helper process (redis-server, haproxy) owned by
// one test, restartable with the same command line.
type Daemon struct {
	t       testing.TB
	opts    DaemonOptions
	logPath string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartDaemon starts the process, waits until Ready and registers its
// stop with t.Cleanup (the log tail is printed when the test failed).
func StartDaemon(t testing.TB, o DaemonOptions) *Daemon {
	t.Helper()
	d := &Daemon{t: t, opts: o, logPath: filepath.Join(o.Dir, o.Name+".log")}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log tail (%s):\n%s", o.Name, d.logPath, tailFile(d.logPath, 30))
		}
		d.Kill()
	})
	d.Start()
	return d
}

// Start starts the process (again) and waits up to 10 s until it is ready.
func (d *Daemon) Start() {
	d.t.Helper()
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	args := d.opts.Args
	if d.opts.Netns != "" {
		args = append([]string{"ip", "netns", "exec", d.opts.Netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, d.opts.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		d.t.Fatalf("harness: start %s: %v", d.opts.Name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	d.mu.Lock()
	d.cmd, d.done = cmd, done
	d.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if isClosed(done) {
			d.t.Fatalf("harness: %s exited at start; log tail:\n%s", d.opts.Name, tailFile(d.logPath, 20))
		}
		err := d.opts.Ready()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.Kill()
			d.t.Fatalf("harness: %s not ready within 10 s: %v; log tail:\n%s", d.opts.Name, err, tailFile(d.logPath, 20))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PID is the process id, 0 when not running.
func (d *Daemon) PID() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil || isClosed(d.done) {
		return 0
	}
	return d.cmd.Process.Pid
}

// Stop sends SIGTERM and waits for the exit (SIGKILL after 10 s).
func (d *Daemon) Stop() { d.signalAndWait(syscall.SIGTERM) }

// Kill sends SIGKILL and waits for the exit.
func (d *Daemon) Kill() { d.signalAndWait(syscall.SIGKILL) }

func (d *Daemon) signalAndWait(sig syscall.Signal) {
	d.mu.Lock()
	cmd, done := d.cmd, d.done
	d.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return
	case <-time.After(10 * time.Second):
	}
	d.t.Errorf("harness: %s pid %d did not exit after %v", d.opts.Name, cmd.Process.Pid, sig)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}
