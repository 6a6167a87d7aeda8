package e2e

import (
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// A wss server whose certificate the system does not trust: the pipeline
// ends with one ERROR that names certificate verification, the server and
// SSL_CERT_FILE, after a single attempt, and no request ever reaches the
// server (no fallback to an unverified connection).
func TestUntrustedServerCertificateIsAnError(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	hostPort := strings.TrimPrefix(srv.URL, "https://")

	start := time.Now()
	p := harness.RunPipeline(t, "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! golivekitsink "+
		`signaller::ws-url="wss://`+hostPort+`/?access_token=TOKEN4799" signaller::api-key=key signaller::secret-key=SECRET4798 signaller::room-name=r`)
	if code := p.Wait(20 * time.Second); code == 0 {
		t.Fatalf("gst-launch exited 0; output:\n%s", p.Output())
	}
	took := time.Since(start)
	errText := firstError(t, p)
	mustContain(t, "the ERROR", errText, "certificate verification failed", "wss://"+hostPort, "SSL_CERT_FILE")
	for _, secret := range []string{"TOKEN4799", "SECRET4798"} {
		if strings.Contains(p.Output(), secret) {
			t.Errorf("the output shows %q", secret)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached the server over an unverified connection", n)
	}
	// One attempt, no backoff: the retries would come after 1 s and more.
	if took > 5*time.Second {
		t.Errorf("the ERROR came after %s", took)
	}
	t.Logf("ERROR after %s: %s", took.Round(time.Millisecond), errText)

	// The advice works: with SSL_CERT_FILE naming the server's certificate
	// the element gets through TLS and asks the server (which is no
	// LiveKit, so it keeps retrying).
	certFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(certFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	p = harness.RunPipeline(t, "videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! golivekitsink "+
		`signaller::ws-url="wss://`+hostPort+`" signaller::api-key=key signaller::secret-key=secret signaller::room-name=r`,
		"SSL_CERT_FILE="+certFile)
	for deadline := time.Now().Add(10 * time.Second); requests.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if requests.Load() == 0 {
		t.Errorf("with SSL_CERT_FILE the server was never reached; output:\n%s", p.Output())
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("with SSL_CERT_FILE: %q", errs)
	}
}
