package cluster

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The balancer terminates TLS with a certificate of a CA the test made; the
// element is given wss:// and trusts the CA through SSL_CERT_FILE. Join,
// resume (the balancer restarts: every socket is reset, the node keeps the
// session) and full reconnect (the room's node crashes: the session is gone
// with it) must all work over wss.
func TestWSS(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{tls: true, envCA: true})
		if !strings.HasPrefix(w.c.URL(), "wss://") {
			t.Fatalf("balancer URL %s is not wss", w.c.URL())
		}
		joined := w.connectedAfter(0, time.Second)
		sid := joined["participant-sid"]
		t.Logf("joined over %s as %s", joined["url"], sid)

		// Resume: the same participant on the same node, over a new wss socket.
		n := w.messageCount()
		reset := time.Now()
		w.c.RestartBalancer()
		f := w.connectedAfter(n, 10*time.Second)
		if f["participant-sid"] != sid {
			t.Errorf("after the socket reset the element is %s, want the resumed %s", f["participant-sid"], sid)
		}
		if first := firstVideoAfter(w.sub, reset, 5*time.Second); first.IsZero() {
			t.Fatalf("no video after the resume")
		}
		t.Logf("resumed over wss %s after the reset", time.Since(reset).Round(time.Millisecond))

		// Full reconnect: node 0 crashes; the element joins node 1 as a new
		// participant, again through the wss balancer.
		n = w.messageCount()
		crash := time.Now()
		w.c.Kill(0)
		sub, _ := w.subscribeAgain(w.sub, 1, n, 20*time.Second)
		f = w.connectedAfter(n, time.Second)
		if f["participant-sid"] == sid {
			t.Errorf("after the crash the element kept SID %s: that was no full reconnect", sid)
		}
		if !strings.HasPrefix(f["url"], "wss://") {
			t.Errorf("reconnected to %q, want the wss balancer", f["url"])
		}
		t.Logf("full reconnect over wss: video %s after the crash", sub.FirstPacketAt("video").Sub(crash).Round(time.Millisecond))
	})
}

var certError = regexp.MustCompile(`(?i)certificate verification`)

// With the test CA not trusted the element must end with an ERROR that names
// certificate verification, and never publish: no fallback to an
// unverified connection.
func TestWSSUntrustedCA(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{tls: true, noWait: true,
			// Only the system's CAs, whatever the caller's environment says.
			env: []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR=/etc/ssl/certs"}})
		w.allowError = true
		deadline := time.Now().Add(15 * time.Second)
		for len(w.pipe.Errors()) == 0 && !w.pipe.Exited() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		errs := w.pipe.Errors()
		if len(errs) == 0 {
			t.Errorf("no ERROR within 15 s with an untrusted CA; warnings:\n%s", strings.Join(w.pipe.Warnings(), "\n"))
		} else if !certError.MatchString(errs[0]) {
			t.Errorf("the ERROR does not name certificate verification:\n%s", errs[0])
		} else {
			t.Logf("ERROR as expected:\n%s", errs[0])
		}
		if msgs := w.pipe.ElementMessages("golivekitsink-connection"); strings.Contains(strings.Join(msgs, "\n"), "state=(string)connected") {
			t.Errorf("the element connected despite the untrusted certificate:\n%s", strings.Join(msgs, "\n"))
		}
		// Whatever the element did, a publisher that fell back to no
		// verification would be in the room by now.
		time.Sleep(3 * time.Second)
		if n := len(w.sub.Tracks()); n > 0 {
			t.Errorf("the subscriber received %d tracks: the element published without verification", n)
		}
		if sids := w.sub.ParticipantSIDs(identity); len(sids) > 0 {
			t.Errorf("the publisher joined the room (%v) despite the untrusted certificate", sids)
		}
	})
}
