package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// Fixed development credentials every test server accepts.
const (
	DevKey    = "devkey"
	DevSecret = "golivekitsink-dev-secret-0123456789abcdef" // >= 32 chars, newer servers insist
)

// DefaultVersions are the pinned livekit-server versions (docs/architecture.md, "The test world").
var DefaultVersions = []string{"v1.9.11", "v1.13.5"}

// Versions returns the server versions to test: $LIVEKIT_VERSIONS (space or
// comma separated) or DefaultVersions.
func Versions() []string {
	if v := strings.Fields(strings.ReplaceAll(os.Getenv("LIVEKIT_VERSIONS"), ",", " ")); len(v) > 0 {
		return v
	}
	return DefaultVersions
}

// CacheDir is $GOLIVEKIT_CACHE or ~/.cache/golivekitsink.
func CacheDir() string {
	if d := os.Getenv("GOLIVEKIT_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "golivekitsink")
}

// ServerBinary is where scripts/setup.sh installs livekit-server version v.
func ServerBinary(version string) string {
	return filepath.Join(CacheDir(), "livekit-server", version, "server")
}

// ServerOptions configures StartServer.
type ServerOptions struct {
	Version   string            // e.g. "v1.13.5"; default: the last of Versions()
	Host      string            // bind address and node IP; default 127.0.0.1
	Netns     string            // run inside `ip netns exec Netns` when set
	Keys      map[string]string // API key -> secret; default {DevKey: DevSecret}
	ExtraYAML string            // YAML deep-merged over the generated config
	TURN      bool              // enable the embedded TURN server (UDP + TLS, self-signed cert)

	// Redis makes the server a cluster node: redis.address in its config.
	Redis string
	// Fixed ports (signalling, ICE/TCP, ICE/UDP); 0 picks a free one. A
	// balancer in front of cluster nodes needs them before the node starts.
	Port, TCPPort, UDPPort int
}

// Server is a running livekit-server process owned by one test.
type Server struct {
	t        testing.TB
	opts     ServerOptions
	bin      string
	dir      string
	cfgPath  string
	logPath  string
	certPath string // TURN/TLS certificate, when TURN

	Port     int // HTTP / WebSocket signalling
	TCPPort  int // ICE/TCP
	UDPPort  int // ICE/UDP (single muxed port)
	TURNPort int // TURN/UDP, when TURN
	TLSPort  int // TURN/TLS, when TURN

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// StartServer writes a config, starts livekit-server and waits until its HTTP
// endpoint answers. The server is stopped on t.Cleanup; if the test failed the
// tail of its log is printed first. A missing binary skips the test unless $CI
// is set, where it is a failure.
func StartServer(t testing.TB, o ServerOptions) *Server {
	t.Helper()
	if o.Version == "" {
		vs := Versions()
		o.Version = vs[len(vs)-1]
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if len(o.Keys) == 0 {
		o.Keys = map[string]string{DevKey: DevSecret}
	}
	bin := ServerBinary(o.Version)
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("livekit-server %s not built at %s: run scripts/setup.sh", o.Version, bin)
		if os.Getenv("CI") != "" {
			t.Fatal("harness: " + msg)
		}
		t.Skip("harness: " + msg)
	}
	s := &Server{t: t, opts: o, bin: bin, dir: t.TempDir()}
	// In a namespace the host is not an address of ours: pick ports on
	// loopback (the namespace is fresh, so they are free there too).
	portHost := o.Host
	if o.Netns != "" {
		portHost = "127.0.0.1"
	}
	s.cfgPath = filepath.Join(s.dir, "livekit.yaml")
	s.logPath = filepath.Join(s.dir, fmt.Sprintf("livekit-%s.log", o.Version))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("livekit-server %s log tail (%s):\n%s", o.Version, s.logPath, s.LogTail(60))
		}
		s.Stop()
	})
	// A port found free can be taken by another process before the server
	// binds it; then the server exits at once, and new ports are tried.
	var err error
	for try := 0; try < 3; try++ {
		pick := func(fixed int) int {
			if fixed != 0 {
				return fixed
			}
			return FreePort(t, portHost)
		}
		s.Port, s.TCPPort, s.UDPPort = pick(o.Port), pick(o.TCPPort), pick(o.UDPPort)
		if o.TURN {
			s.TURNPort = FreePort(t, portHost)
			// LiveKit advertises its TURN/TLS as turns:<domain>:443 whatever
			// port it listens on (it expects a TLS load balancer there), so
			// the test server listens on 443 itself (tests run as root).
			s.TLSPort = 443
		}
		cfg, cerr := s.config()
		if cerr != nil {
			t.Fatalf("harness: livekit config: %v", cerr)
		}
		if werr := os.WriteFile(s.cfgPath, cfg, 0o600); werr != nil {
			t.Fatal(werr)
		}
		if err = s.tryStart(); err == nil {
			return s
		}
		t.Logf("harness: livekit-server %s did not start (%v), trying other ports", o.Version, err)
	}
	t.Fatalf("harness: livekit-server %s not ready: %v\nlog tail:\n%s", o.Version, err, s.LogTail(40))
	return nil
}

// config builds the YAML config; ExtraYAML is deep-merged over it.
func (s *Server) config() ([]byte, error) {
	o := s.opts
	rtc := map[string]any{
		"tcp_port":                  s.TCPPort,
		"udp_port":                  s.UDPPort,
		"node_ip":                   o.Host,
		"use_external_ip":           false,
		"enable_loopback_candidate": strings.HasPrefix(o.Host, "127."),
		"ips":                       map[string]any{"includes": []string{o.Host + "/32"}},
		// Without its own STUN servers LiveKit hands out Google's, and clients
		// would try to reach them: keep every packet on the test's addresses.
		"stun_servers": []string{o.Host + ":3478"},
	}
	cfg := map[string]any{
		"port":           s.Port,
		"bind_addresses": []string{o.Host},
		"rtc":            rtc,
		"keys":           o.Keys,
		"logging":        map[string]any{"level": "info", "pion_level": "warn"},
		"room":           map[string]any{"auto_create": true},
	}
	if o.Redis != "" {
		cfg["redis"] = map[string]any{"address": o.Redis}
	}
	if o.TURN {
		cert, key, err := selfSignedCert(s.dir, o.Host)
		if err != nil {
			return nil, err
		}
		s.certPath = cert
		cfg["turn"] = map[string]any{
			"enabled":   true,
			"domain":    o.Host,
			"udp_port":  s.TURNPort,
			"tls_port":  s.TLSPort,
			"cert_file": cert,
			"key_file":  key,
		}
		// Newer servers refuse to relay to loopback and private addresses,
		// which is where the test server lives (older ones reject the key).
		if o.Version != "v1.9.11" {
			cfg["turn"].(map[string]any)["allow_restricted_peer_cidrs"] = []string{o.Host + "/32"}
		}
	}
	if strings.TrimSpace(o.ExtraYAML) != "" {
		var extra map[string]any
		if err := yaml.Unmarshal([]byte(o.ExtraYAML), &extra); err != nil {
			return nil, fmt.Errorf("ExtraYAML: %w", err)
		}
		mergeMaps(cfg, extra)
	}
	return yaml.Marshal(cfg)
}

// mergeMaps copies src into dst, recursing where both hold maps.
func mergeMaps(dst, src map[string]any) {
	for k, v := range src {
		sm, sok := v.(map[string]any)
		dm, dok := dst[k].(map[string]any)
		if sok && dok {
			mergeMaps(dm, sm)
			continue
		}
		dst[k] = v
	}
}

func (s *Server) start() {
	s.t.Helper()
	if err := s.tryStart(); err != nil {
		s.t.Fatalf("harness: livekit-server %s not ready: %v\nlog tail:\n%s", s.opts.Version, err, s.LogTail(40))
	}
}

// tryStart starts the process and waits until it answers; on failure the
// process is gone again.
func (s *Server) tryStart() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{s.bin, "--config", s.cfgPath}
	if s.opts.Netns != "" {
		args = append([]string{"ip", "netns", "exec", s.opts.Netns}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start livekit-server: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	if err := s.waitReady(30*time.Second, done); err != nil {
		s.Kill()
		return err
	}
	return nil
}

// waitReady polls GET / until it returns 200 "OK".
func (s *Server) waitReady(timeout time.Duration, done <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("process exited")
		default:
		}
		if last = s.probe(); last == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("timeout after %v: %v", timeout, last)
}

func (s *Server) probe() error {
	if s.opts.Netns != "" {
		// The test process may have no route into the namespace: probe from inside.
		script := fmt.Sprintf(`exec 3<>/dev/tcp/%s/%d && printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && timeout 2 cat <&3`, s.opts.Host, s.Port)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", s.opts.Netns, "bash", "-c", script).Output()
		if err != nil {
			return err
		}
		if !bytes.Contains(out, []byte(" 200 ")) || !bytes.HasSuffix(bytes.TrimSpace(out), []byte("OK")) {
			return fmt.Errorf("unexpected answer %q", out)
		}
		return nil
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(s.HTTPURL() + "/")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != "OK" {
		return fmt.Errorf("GET / = %d %q", resp.StatusCode, b)
	}
	return nil
}

// URL is the signalling URL, ws://host:port.
func (s *Server) URL() string { return "ws://" + net.JoinHostPort(s.opts.Host, fmt.Sprint(s.Port)) }

// HTTPURL is http://host:port (for the server API clients).
func (s *Server) HTTPURL() string {
	return "http://" + net.JoinHostPort(s.opts.Host, fmt.Sprint(s.Port))
}

// Host is the address the server binds and announces.
func (s *Server) Host() string { return s.opts.Host }

// Version is the server version running.
func (s *Server) Version() string { return s.opts.Version }

// APIKey and Secret are the first configured credentials.
func (s *Server) APIKey() string { k, _ := s.firstKey(); return k }
func (s *Server) Secret() string { _, v := s.firstKey(); return v }

func (s *Server) firstKey() (string, string) {
	if v, ok := s.opts.Keys[DevKey]; ok {
		return DevKey, v
	}
	for _, k := range slices.Sorted(maps.Keys(s.opts.Keys)) {
		return k, s.opts.Keys[k]
	}
	return "", ""
}

// ConfigPath and LogPath locate the generated config and the server log.
func (s *Server) ConfigPath() string { return s.cfgPath }
func (s *Server) LogPath() string    { return s.logPath }

// CertFile is the TURN/TLS server's self-signed certificate (when TURN): a
// client trusts it through SSL_CERT_FILE.
func (s *Server) CertFile() string { return s.certPath }

// LogTail returns the last n lines of the server log.
func (s *Server) LogTail(n int) string { return tailFile(s.logPath, n) }

// PID is the server's process id, 0 when not running.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil || isClosed(s.done) {
		return 0
	}
	return s.cmd.Process.Pid
}

// Running reports whether the server process is alive.
func (s *Server) Running() bool { return s.PID() != 0 }

var nodeIDRE = regexp.MustCompile(`starting LiveKit server.*"nodeID": "([^"]+)"`)

// NodeID is the cluster node id the running process announced in its log
// ("" before it started). A restarted node has a new id.
func (s *Server) NodeID() string {
	b, _ := os.ReadFile(s.logPath)
	m := nodeIDRE.FindAllSubmatch(b, -1)
	if len(m) == 0 {
		return ""
	}
	return string(m[len(m)-1][1])
}
