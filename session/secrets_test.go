package session

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

// logCollector keeps every log line of a session.
type logCollector struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCollector) add(f string, a ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(f, a...))
	l.mu.Unlock()
}
func (l *logCollector) Debugf(f string, a ...any) { l.add(f, a...) }
func (l *logCollector) Infof(f string, a ...any)  { l.add(f, a...) }
func (l *logCollector) Warnf(f string, a ...any)  { l.add(f, a...) }
func (l *logCollector) Errorf(f string, a ...any) { l.add(f, a...) }

// Credentials written into ws-url never reach a StateChange (the bus
// message's url), a warning or a log line.
func TestURLCredentialsNeverShown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there: the session retries and warns

	const userPass, queryToken = "pw-in-userinfo", "token-in-query"
	logs := &logCollector{}
	rec := newRecorder()
	s, err := New(Config{
		URL:    "ws://alice:" + userPass + "@" + addr + "/?access_token=" + queryToken,
		APIKey: "k", APISecret: "s", Room: "r", Identity: "i", Logger: logs,
	}, rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-rec.warned:
	case <-time.After(5 * time.Second):
		t.Fatal("no warning about the unreachable server")
	}
	s.Close()

	var shown []string
	rec.mu.Lock()
	for _, sc := range rec.states {
		if !strings.Contains(sc.URL, addr) {
			t.Errorf("StateChange.URL %q does not name the server %s", sc.URL, addr)
		}
		shown = append(shown, sc.URL, sc.Reason)
	}
	for _, w := range rec.warnings {
		shown = append(shown, w.Error())
	}
	rec.mu.Unlock()
	logs.mu.Lock()
	shown = append(shown, logs.lines...)
	logs.mu.Unlock()
	for _, text := range shown {
		if strings.Contains(text, userPass) || strings.Contains(text, queryToken) {
			t.Errorf("a credential of the URL is shown: %q", text)
		}
	}
}

// A server certificate that does not verify ends the session at once with
// the signaller's CertificateError: retrying cannot fix it.
func TestUntrustedCertificateEndsTheSession(t *testing.T) {
	handshakes := 0
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			handshakes++
			mu.Unlock()
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	rec := newRecorder()
	s, err := New(Config{URL: srv.URL, APIKey: "k", APISecret: "s", Room: "r", Identity: "i"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Close)
	var fatal error
	for deadline := time.Now().Add(5 * time.Second); fatal == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		rec.mu.Lock()
		fatal = rec.fatal
		rec.mu.Unlock()
	}
	var certErr *signaller.CertificateError
	if !errors.As(fatal, &certErr) {
		t.Fatalf("session ended with %v, want a *signaller.CertificateError", fatal)
	}
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(fatal, &unknownCA) {
		t.Errorf("%v does not wrap the x509 error", fatal)
	}
	if host := strings.TrimPrefix(srv.URL, "https://"); !strings.Contains(fatal.Error(), host) {
		t.Errorf("%q does not name the server %s", fatal, host)
	}
	time.Sleep(500 * time.Millisecond) // a retry would come now
	mu.Lock()
	defer mu.Unlock()
	if handshakes != 1 {
		t.Errorf("%d connections to the server, want 1 (no retry)", handshakes)
	}
}

// Region lists (a Leave's or /settings/regions) that would take a wss
// session to ws are not followed, and the skipped region is logged.
func TestFullReconnectNeverDowngradesToPlainWebSocket(t *testing.T) {
	logs := &logCollector{}
	s, err := New(Config{URL: "wss://proj.example", AuthToken: "tok", RegionFailover: true, Logger: logs}, newRecorder())
	if err != nil {
		t.Fatal(err)
	}
	s.fetched = []*livekit.RegionInfo{{Region: "plain", Url: "ws://plain.example"}, {Region: "tls", Url: "wss://tls.example"}}
	s.leaveRegion = &livekit.RegionSettings{Regions: []*livekit.RegionInfo{{Region: "leave-plain", Url: "http://leave.example"}}}
	var tried []string
	for range 4 {
		u := s.nextURL()
		tried = append(tried, u)
		s.failedURLs[signaller.NormalizeURL(u)] = true
	}
	for _, u := range tried {
		if !strings.HasPrefix(u, "wss://") {
			t.Errorf("full reconnect to %s (plan %q): TLS dropped", u, tried)
		}
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	all := strings.Join(logs.lines, "\n")
	for _, region := range []string{"region plain skipped", "region leave-plain skipped"} {
		if !strings.Contains(all, region) {
			t.Errorf("no log line %q in:\n%s", region, all)
		}
	}
}
