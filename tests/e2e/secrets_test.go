package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Secrets set on the element never come back out: not through
// g_object_get, not in a DOT dump (GST_DEBUG_DUMP_DOT_DIR and
// gst_debug_bin_to_dot_data), not in the bus message's url, not in the
// debug log. The pipeline still publishes with them.
func TestSecretsNeverReadBack(t *testing.T) {
	const (
		urlPass   = "URLPASS4711"
		urlToken  = "URLTOKEN4712"
		turnPass  = "TURNPASS4713"
		authToken = "AUTHTOKEN4714"
	)
	srv := harness.StartServer(t, harness.ServerOptions{Version: harness.Versions()[len(harness.Versions())-1]})
	room := "secrets-room"
	hostPort := strings.TrimPrefix(srv.URL(), "ws://")
	wsURL := "ws://alice:" + urlPass + "@" + hostPort + "/?access_token=" + urlToken
	launch := fmt.Sprintf("videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! golivekitsink name=lk "+
		`signaller::ws-url="%s" signaller::api-key=%s signaller::secret-key=%s signaller::room-name=%s signaller::identity=pub `+
		`turn-servers="<\"turn://bob:%s@127.0.0.1:3478\">"`,
		wsURL, srv.APIKey(), srv.Secret(), room, turnPass)

	dir := t.TempDir()
	dotDir := filepath.Join(dir, "dot")
	if err := os.Mkdir(dotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("testdata/secrets.py")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, launch, authToken, dotDir)
	debugLog := filepath.Join(dir, "gst.log")
	cmd.Env = append(os.Environ(),
		"GST_PLUGIN_PATH="+harness.PluginDir(t),
		"GST_REGISTRY="+filepath.Join(dir, "registry.bin"),
		"GST_DEBUG=golivekit*:6", "GST_DEBUG_FILE="+debugLog,
		"GST_DEBUG_DUMP_DOT_DIR="+dotDir)
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("secrets.py: %v\n%s", err, text)
	}

	read := map[string]string{}
	var msgs, dot []string
	for _, l := range strings.Split(text, "\n") {
		if kv, ok := strings.CutPrefix(l, "READ "); ok {
			k, v, _ := strings.Cut(kv, "=")
			read[k] = v
		} else if m, ok := strings.CutPrefix(l, "MSG "); ok {
			msgs = append(msgs, m)
		} else if d, ok := strings.CutPrefix(l, "DOT "); ok {
			dot = append(dot, d)
		}
	}
	// Set secrets read back masked, not as NULL: the application can still
	// tell they are set.
	for prop, want := range map[string]string{
		"signaller::secret-key":       "xxxxx",
		"other:signaller::auth-token": "xxxxx",
		"signaller::ws-url":           "ws://alice:xxxxx@" + hostPort + "/?access_token=xxxxx",
		"turn-servers":                "['turn://bob:xxxxx@127.0.0.1:3478']",
	} {
		if got, ok := read[prop]; !ok || got != want {
			t.Errorf("%s reads back as %q, want %q", prop, got, want)
		}
	}
	if read["signaller::auth-token"] != "None" {
		t.Errorf("unset auth-token reads back as %q, want NULL", read["signaller::auth-token"])
	}
	if len(dot) < 10 || !strings.Contains(strings.Join(dot, "\n"), "turn-servers") {
		t.Fatalf("no usable DOT dump (%d lines):\n%s", len(dot), text)
	}
	dotFiles, _ := filepath.Glob(filepath.Join(dotDir, "*secrets.dot"))
	if len(dotFiles) != 1 {
		t.Fatalf("GST_DEBUG_DUMP_DOT_DIR holds %v, want one *secrets.dot", dotFiles)
	}
	dotFile, _ := os.ReadFile(dotFiles[0])
	connected := false
	for _, m := range msgs {
		f := harness.ParseStructure(m)
		if !strings.Contains(f["url"], hostPort) {
			t.Errorf("connection message url %q does not name the server", f["url"])
		}
		connected = connected || f["state"] == "connected"
	}
	if !connected {
		t.Fatalf("never connected:\n%s", text)
	}
	logText, err := os.ReadFile(debugLog)
	if err != nil || len(logText) == 0 {
		t.Fatalf("no debug log: %v", err)
	}

	for what, s := range map[string]string{"script output": text, "DOT file": string(dotFile), "debug log": string(logText)} {
		for _, secret := range []string{urlPass, urlToken, turnPass, authToken, srv.Secret()} {
			if strings.Contains(s, secret) {
				t.Errorf("the %s shows the secret %q", what, secret)
			}
		}
	}
}
