package e2e

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// sinkProps renders the golivekitsink properties for server s.
func sinkProps(s *harness.Server, room, identity string) string {
	return fmt.Sprintf("signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s signaller::room-name=%s signaller::identity=%s",
		s.URL(), s.APIKey(), s.Secret(), room, identity)
}

// framesAfter is how many of n frames at fps, the first sent at start, were
// sent at or after t (the frames before it are dropped by design while the
// element connects).
func framesAfter(n int, fps float64, start, t time.Time) int {
	before := int(math.Ceil(t.Sub(start).Seconds() * fps))
	if before < 0 {
		before = 0
	}
	if before > n {
		return 0
	}
	return n - before
}

// requireCleanExit waits for the pipeline and fails on a non-zero exit or any ERROR.
func requireCleanExit(t *testing.T, p *harness.Pipeline, timeout time.Duration) {
	t.Helper()
	if code := p.Wait(timeout); code != 0 {
		t.Fatalf("gst-launch exit %d; errors: %q", code, p.Errors())
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Fatalf("pipeline posted errors: %q", errs)
	}
}

// onlyError returns the single ERROR report of p, failing the test unless
// there is at least one.
func firstError(t *testing.T, p *harness.Pipeline) string {
	t.Helper()
	errs := p.Errors()
	if len(errs) == 0 {
		t.Fatalf("no ERROR on the bus; output:\n%s", p.Output())
	}
	return errs[0]
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s does not contain %q:\n%s", what, sub, s)
		}
	}
}

// mediaDir is where the subscriber writes its files: $E2E_MEDIA_DIR/<test>
// when set (kept for a look afterwards), else a temporary directory.
func mediaDir(t *testing.T) string {
	if d := os.Getenv("E2E_MEDIA_DIR"); d != "" {
		dir := filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return filepath.Join(t.TempDir(), "media")
}
