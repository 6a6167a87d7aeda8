package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// pion's own log lines (ICE, DTLS, peer connection) reach GST_DEBUG in the
// golivekit-pion category, not the process's stderr.
func TestPionLogsGoToGstDebug(t *testing.T) {
	vs := harness.Versions()
	srv := harness.StartServer(t, harness.ServerOptions{Version: vs[len(vs)-1]})
	p := harness.RunPipeline(t, "videotestsrc is-live=true num-buffers=60 ! video/x-raw,width=160,height=120,framerate=30/1 ! "+
		"vp8enc deadline=1 ! golivekitsink "+sinkProps(srv, "pionlog", "pub"),
		"GST_DEBUG=golivekit-pion:7")
	requireCleanExit(t, p, 30*time.Second)
	b, err := os.ReadFile(p.DebugLogPath())
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{"golivekit-pion", "> ice: ", "> pc: "} {
		if !strings.Contains(log, want) {
			t.Errorf("the debug log has no %q line; tail:\n%s", want, p.DebugLogTail(20))
		}
	}
	if strings.Contains(p.Stderr(), "pion") {
		t.Errorf("pion still writes to stderr:\n%s", p.Stderr())
	}
}
