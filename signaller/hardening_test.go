package signaller

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
)

// bigUpdate is a valid SignalResponse of about size bytes.
func bigUpdate(size int) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_Update{Update: &livekit.ParticipantUpdate{
		Participants: []*livekit.ParticipantInfo{{Sid: "PA_big", Metadata: strings.Repeat("m", size)}}}}}
}

func TestFrameOverReadLimitEndsTheConnection(t *testing.T) {
	f := newFake(t, joinResp())
	c, _, err := f.dial(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)

	// Just under the limit is a legit (large) message.
	mustSend(t, fc, bigUpdate(MaxMessageSize-100))
	select {
	case m := <-c.Messages():
		if m.GetUpdate().GetParticipants()[0].GetSid() != "PA_big" {
			t.Fatalf("got %v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a message under the limit was not delivered: %v", c.Err())
	}
	// One byte over ends this connection with an error naming the limit.
	_ = fc.WriteRaw(websocket.BinaryMessage, make([]byte, MaxMessageSize+1))
	waitDone(t, c, 5*time.Second)
	if !errors.Is(c.Err(), ErrMessageTooLarge) || !strings.Contains(c.Err().Error(), "4 MiB read limit") {
		t.Fatalf("Err() = %v, want ErrMessageTooLarge naming the limit", c.Err())
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}

func TestFirstFrameOverReadLimitFailsTheDial(t *testing.T) {
	f := newFake(t, bigUpdate(MaxMessageSize+1))
	c, _, err := f.dial(t, 5*time.Second)
	if err == nil {
		c.Close()
		t.Fatal("dial succeeded with a first frame over the read limit")
	}
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("dial error %v, want ErrMessageTooLarge", err)
	}
	assertNoConnGoroutines(t)
}

// panicLogger panics when a message containing trigger is logged: a way to
// make the conn's own goroutines panic without a hook in the code.
type panicLogger struct {
	testLogger
	trigger string
}

func (l panicLogger) Warnf(f string, a ...any) {
	l.log(f, a...)
	if strings.Contains(f, l.trigger) {
		panic("injected: " + l.trigger)
	}
}

func dialWithLogger(t *testing.T, f *fakeLK, log Logger) *Conn {
	t.Helper()
	c, _, err := Dial(context.Background(), DialOptions{URL: f.url(t), Token: testToken, Timeout: 2 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReaderPanicEndsTheConnectionNotTheProcess(t *testing.T) {
	f := newFake(t, joinResp())
	c := dialWithLogger(t, f, panicLogger{testLogger{t}, "undecodable"})
	fc := f.conn(t)
	c.Start(time.Second, 5*time.Second)
	fc.WriteRaw(websocket.BinaryMessage, []byte{0xff, 0xff, 0xff}) // logged as undecodable: panics
	waitDone(t, c, 2*time.Second)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "internal error in the reader") {
		t.Fatalf("Err() = %v, want the reader's internal error", err)
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}

func TestPingerPanicEndsTheConnectionNotTheProcess(t *testing.T) {
	f := newFake(t, joinResp())
	f.mutePings()
	c := dialWithLogger(t, f, panicLogger{testLogger{t}, "nothing received"})
	f.conn(t)
	c.Start(20*time.Millisecond, 100*time.Millisecond) // the liveness warning panics
	waitDone(t, c, 2*time.Second)
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "internal error in the pinger") {
		t.Fatalf("Err() = %v, want the pinger's internal error", err)
	}
	drainClosed(t, c)
	assertNoConnGoroutines(t)
}

// A server whose certificate does not verify is a typed error naming the
// server and SSL_CERT_FILE, wrapping the x509 error; nothing is upgraded.
func TestUntrustedCertificate(t *testing.T) {
	upgrades := make(chan struct{}, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrades <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	u, err := BuildURL(srv.URL+"/?access_token=QSECRET", URLParams{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Dial(context.Background(), DialOptions{URL: u, Token: testToken, Timeout: 2 * time.Second, Logger: testLogger{t}})
	var certErr *CertificateError
	if !errors.As(err, &certErr) {
		t.Fatalf("dial error %v (%T), want *CertificateError", err, err)
	}
	var unknownCA x509.UnknownAuthorityError
	if !errors.As(err, &unknownCA) {
		t.Errorf("%v does not wrap x509.UnknownAuthorityError", err)
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	for _, want := range []string{"certificate verification failed", "wss://" + host, "SSL_CERT_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "QSECRET") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q shows a credential", err)
	}
	select {
	case <-upgrades:
		t.Error("the request reached the server over an unverified connection")
	default:
	}
}

// A server that accepts the TCP connection and never answers the upgrade
// does not hold a cancelled Dial for its timeout.
func TestDialHonoursCancelDuringTheUpgrade(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case c := <-accepted:
			c.Close()
		default:
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, _, err = Dial(ctx, DialOptions{URL: "ws://" + ln.Addr().String() + "/rtc", Token: testToken, Timeout: 10 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if el := time.Since(start); el > 3*time.Second { // the handshake timeout is 10 s
		t.Fatalf("cancel took %v", el)
	}
}
