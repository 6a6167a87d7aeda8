package harness

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func TestServerStartStopEachVersion(t *testing.T) {
	for _, v := range Versions() {
		t.Run(v, func(t *testing.T) {
			start := time.Now()
			s := StartServer(t, ServerOptions{Version: v})
			t.Logf("livekit-server %s ready at %s in %v", v, s.URL(), time.Since(start).Round(time.Millisecond))
			if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") {
				t.Errorf("URL() = %q", s.URL())
			}
			cfg, err := os.ReadFile(s.ConfigPath())
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"enable_loopback_candidate: true", "use_external_ip: false", "127.0.0.1/32", "auto_create: true"} {
				if !strings.Contains(string(cfg), want) {
					t.Errorf("config lacks %q:\n%s", want, cfg)
				}
			}
			s.Stop()
			if s.Running() {
				t.Fatal("still running after Stop")
			}
			if _, err := http.Get(s.HTTPURL()); err == nil {
				t.Fatal("HTTP still answers after Stop")
			}
		})
	}
}

func TestServerKillRestart(t *testing.T) {
	s := StartServer(t, ServerOptions{})
	port, pid := s.Port, s.PID()
	s.Kill()
	if s.Running() {
		t.Fatal("running after Kill")
	}
	start := time.Now()
	s.Restart()
	t.Logf("restart took %v", time.Since(start).Round(time.Millisecond))
	if s.Port != port || s.PID() == pid || s.PID() == 0 {
		t.Fatalf("after restart port %d->%d pid %d->%d", port, s.Port, pid, s.PID())
	}
	if !strings.Contains(s.LogTail(200), "starting LiveKit server") {
		t.Logf("log tail:\n%s", s.LogTail(20))
	}
}

func TestServerExtraYAMLAndTURN(t *testing.T) {
	s := StartServer(t, ServerOptions{TURN: true, ExtraYAML: "room:\n  empty_timeout: 7\nrtc:\n  tcp_port: 0\n"})
	cfg, _ := os.ReadFile(s.ConfigPath())
	for _, want := range []string{"empty_timeout: 7", "auto_create: true", "tls_port:", "cert_file:"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}
