package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// switch-candidate-tls through the element's simulate-scenario action
// signal: the server then prefers TURN/TLS and sets force_relay for this
// participant; after the (client-side) full reconnect the element must
// publish through the server's TURN/TLS relay, relay candidates only.
func TestForceRelayOverTURNTLS(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatalf("python3 with PyGObject is needed (scripts/setup.sh installs python3-gi): %v", err)
	}
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v, TURN: true})
		room := "faults-relay-" + strings.ReplaceAll(v, ".", "-")
		sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
		line := launchLine(srv.URL(), srv.APIKey(), srv.Secret(), room, "", "", "")
		script, _ := filepath.Abs("testdata/simulate.py")
		cmd := exec.Command("/usr/bin/python3", script, "switch-candidate-tls", "8", line)
		dir := t.TempDir()
		t.Cleanup(func() {
			if t.Failed() {
				log, _ := os.ReadFile(filepath.Join(dir, "gst.log"))
				t.Logf("debug log tail:\n%s", tailString(string(log), 60))
			}
		})
		cmd.Env = append(os.Environ(),
			"GST_PLUGIN_PATH="+harness.PluginDir(t),
			"GST_REGISTRY="+filepath.Join(dir, "registry.bin"),
			"GST_DEBUG=golivekit*:5", "GST_DEBUG_FILE="+filepath.Join(dir, "gst.log"),
			// pion verifies the TURN server's certificate: trust the test's own.
			"SSL_CERT_FILE="+srv.CertFile())
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("simulate.py did not finish:\n%s", out)
		}
		text := string(out)
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "gst.log"))
			t.Fatalf("simulate.py: %v\n%s\n--- debug log tail:\n%s", err, text, tailString(string(log), 40))
		}
		var connected []map[string]string
		for _, l := range strings.Split(text, "\n") {
			if m, ok := strings.CutPrefix(l, "MSG "); ok {
				if f := harness.ParseStructure(m); f["state"] == "connected" {
					connected = append(connected, f)
				}
			}
		}
		if !strings.Contains(text, "SIMULATE switch-candidate-tls True") {
			t.Fatalf("the action signal did not run:\n%s", text)
		}
		if len(connected) < 2 {
			t.Fatalf("no reconnect after the scenario:\n%s", text)
		}
		last := connected[len(connected)-1]
		t.Logf("before: %s, after: %s", connected[0]["transport"], last["transport"])
		if !strings.HasSuffix(last["transport"], "/relay") {
			t.Errorf("media path after switch-candidate-tls is %q, want a relay candidate", last["transport"])
		}
		if last["participant-sid"] == connected[0]["participant-sid"] {
			t.Errorf("switch-candidate-tls should end in a full reconnect (new participant)")
		}
		if n := len(sub.TracksOf("video")); n < 2 {
			t.Errorf("subscriber saw %d video tracks, want the republished one too", n)
		} else if tr := sub.TracksOf("video")[n-1]; len(tr.Packets) < 30 {
			t.Errorf("only %d video packets arrived over the relay", len(tr.Packets))
		}
	})
}

func tailString(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
