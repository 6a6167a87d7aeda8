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

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// appError runs launch in an application (python3-gi) and returns the first
// ERROR as the application sees it: domain, code, text and debug string.
func appError(t *testing.T, launch string, timeout time.Duration) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", filepath.Join("testdata", "errors.py"), launch,
		fmt.Sprint(timeout.Seconds()))
	cmd.Env = append(os.Environ(), "GST_PLUGIN_PATH="+harness.PluginDir(t),
		"GST_REGISTRY="+filepath.Join(t.TempDir(), "registry.bin"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("no ERROR within %s (%v):\n%s", timeout, err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && (k == "DOMAIN" || k == "CODE" || k == "TEXT" || k == "DEBUG") {
			got[k] = v
		}
	}
	return got
}

func wantDomain(t *testing.T, got map[string]string, domain, code string) {
	t.Helper()
	if got["DOMAIN"] != domain || got["CODE"] != code {
		t.Fatalf("ERROR is %s/%s, want %s/%s (%s; %s)", got["DOMAIN"], got["CODE"], domain, code, got["TEXT"], got["DEBUG"])
	}
}

// Applications switch on the ERROR's domain and code (docs/properties.md,
// "Errors on the bus"); each way the element can end has its own.
func TestErrorDomains(t *testing.T) {
	t.Run("missing setting is RESOURCE/SETTINGS", func(t *testing.T) {
		got := appError(t, smallH264+" ! golivekitsink signaller::ws-url=ws://127.0.0.1:9 signaller::api-key=k signaller::secret-key=s signaller::identity=x", 10*time.Second)
		wantDomain(t, got, "resource", "settings")
	})
	t.Run("unreachable with the budget spent is RESOURCE/OPEN_WRITE", func(t *testing.T) {
		got := appError(t, smallH264+" ! golivekitsink reconnect-budget=1 signaller::ws-url=ws://127.0.0.1:9 signaller::api-key=k signaller::secret-key=s signaller::room-name=r signaller::identity=x", 10*time.Second)
		wantDomain(t, got, "resource", "open-write")
	})
	vs := harness.Versions()
	srv := harness.StartServer(t, harness.ServerOptions{Version: vs[len(vs)-1]})
	t.Run("refused credentials are RESOURCE/NOT_AUTHORIZED", func(t *testing.T) {
		got := appError(t, smallH264+" ! golivekitsink "+strings.Replace(sinkProps(srv, "errs", "pub"),
			"secret-key="+srv.Secret(), "secret-key=wrong-secret-value-0123456789-abcdefghij", 1), 15*time.Second)
		wantDomain(t, got, "resource", "not-authorized")
	})
	t.Run("Leave DISCONNECT is RESOURCE/WRITE with the reason", func(t *testing.T) {
		rs := lksdk.NewRoomServiceClient(srv.HTTPURL(), srv.APIKey(), srv.Secret())
		go func() {
			// Remove the participant once it is in the room.
			for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				_, err := rs.RemoveParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: "errs-leave", Identity: "pub"})
				if err == nil {
					return
				}
			}
		}()
		got := appError(t, "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "+
			"x264enc tune=zerolatency key-int-max=30 speed-preset=ultrafast ! golivekitsink "+sinkProps(srv, "errs-leave", "pub"), 20*time.Second)
		wantDomain(t, got, "resource", "write")
		if !strings.Contains(got["DEBUG"], "PARTICIPANT_REMOVED") {
			t.Fatalf("the debug string %q does not name the reason", got["DEBUG"])
		}
	})
}
