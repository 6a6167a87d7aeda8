package plugin

import (
	"strings"
	"testing"
	"time"
)

// A panic inside a GStreamer callback becomes a CORE/FAILED ERROR on the
// bus naming the callback (docs/properties.md, "Errors on the bus"), not a
// crash: the host sets the pipeline to NULL and exits normally. The
// element's test hook GOLIVEKIT_TEST_PANIC (plugin/testhook.go) makes the
// named callback panic once.
func TestPanicBecomesBusError(t *testing.T) {
	cases := []struct {
		callback string
		trigger  func(t *testing.T, h *host)
	}{
		{"change-state", func(t *testing.T, h *host) {
			if rest := h.do("set PLAYING", "SET PLAYING ", 10*time.Second); !strings.Contains(rest, "ret=failure") {
				t.Errorf("set PLAYING: %s, want a failure", rest)
			}
		}},
		{"request-new-pad", func(t *testing.T, h *host) {
			n := h.send("branch a audio " + opusBranch)
			if _, ok := h.waitLine("FAILED ", n, 10*time.Second); !ok {
				t.Errorf("a pad was requested although request-new-pad panicked")
			}
		}},
		{"set-property", func(t *testing.T, h *host) {
			h.setState("READY")
			if got := h.do("new-signaller", "NEW-SIGNALLER ", 10*time.Second); got != "False" {
				t.Errorf("the signaller was replaced although set-property panicked")
			}
		}},
		{"caps event", func(t *testing.T, h *host) {
			h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
			h.setState("PLAYING")
		}},
		{"new-sample", func(t *testing.T, h *host) {
			h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
			h.setState("PLAYING")
		}},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.callback, " ", "-"), func(t *testing.T) {
			srv := fakeServer(t)
			h := startHost(t, elementLaunch(srv, ""), "GOLIVEKIT_TEST_PANIC="+c.callback)
			c.trigger(t, h)
			var panicErr string
			deadline := time.Now().Add(10 * time.Second)
			for panicErr == "" && time.Now().Before(deadline) {
				for _, e := range h.errors() {
					if strings.Contains(e, "internal error") {
						panicErr = e
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			text, debug, _ := strings.Cut(panicErr, " | ")
			switch {
			case panicErr == "":
				t.Fatalf("no ERROR for a panic in %s; errors: %v", c.callback, h.errors())
			case !strings.HasPrefix(text, "core failed "):
				t.Errorf("ERROR %q, want CORE/FAILED", text)
			case !strings.Contains(debug, c.callback+": goroutine "):
				t.Errorf("ERROR debug string does not name %s with the stack: %q", c.callback, debug)
			}
			t.Logf("ERROR %s", text)
			if code := h.quit(); code != 0 {
				t.Errorf("host exit code %d after a panic in %s", code, c.callback)
			}
			if _, ok := h.waitLine("BYE success", 0, time.Second); !ok {
				t.Errorf("setting NULL after the panic did not succeed")
			}
			if crash := h.linesWith("STDERR panic", 0); len(crash) > 0 {
				t.Errorf("the panic reached the runtime: %v", crash)
			}
		})
	}
}
