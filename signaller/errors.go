package signaller

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/livekit/protocol/livekit"
)

var (
	// ErrFirstFrameTimeout: the upgrade succeeded but the server sent no
	// first SignalResponse within DialOptions.Timeout.
	ErrFirstFrameTimeout = errors.New("signaller: no first message from the server in time")
	// ErrPingTimeout: nothing was received for the ping timeout; the socket
	// counts as dead (docs/protocol.md, "Ping, pong and liveness": resume with RR_SIGNAL_DISCONNECTED).
	ErrPingTimeout = errors.New("signaller: ping timeout: nothing received from the server")
	// ErrMessageTooLarge: the server sent a frame over MaxMessageSize; the
	// connection is closed (a resume or reconnect follows).
	ErrMessageTooLarge = fmt.Errorf("signaller: the server sent a message larger than the %d MiB read limit", MaxMessageSize>>20)
	// ErrClosedByUs: Close or Leave was called.
	ErrClosedByUs = errors.New("signaller: connection closed by us")
)

// HTTPError is a refused WebSocket upgrade (or a failed HTTP request such as
// /settings/regions). Message is the server's reason when it gave one.
type HTTPError struct {
	StatusCode int
	Message    string
}

func (e *HTTPError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("signaller: server answered HTTP %d: %s", e.StatusCode, msg)
}

// IsAuth reports a token problem (401/403): retrying with the same token is
// pointless, a freshly minted one may help.
func (e *HTTPError) IsAuth() bool {
	return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
}

// LeaveError is a LeaveRequest received as the first frame of a join or resume.
// Leave.Action tells the caller what to do (DISCONNECT: give up; RECONNECT: full
// reconnect).
type LeaveError struct {
	Leave *livekit.LeaveRequest
}

func (e *LeaveError) Error() string {
	return fmt.Sprintf("signaller: server sent leave as first message: action=%s reason=%s",
		e.Leave.GetAction(), e.Leave.GetReason())
}

// CloseError is a WebSocket close frame sent by the server. Code 1000 is not
// "clean, stop": the server closes with 1000 after a RESUME leave too (docs/protocol.md, "Leave").
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("signaller: server closed the websocket: code %d %q", e.Code, e.Text)
}

// CertificateError is a server certificate that did not verify (unknown
// CA, wrong name, expired). Retrying cannot fix it: it is a configuration
// problem, and there is no fallback to an unverified connection.
type CertificateError struct {
	URL string // redacted
	Err error  // the x509 error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("signaller: TLS certificate verification failed for %s: %v "+
		"(for a server whose certificate comes from a private CA, point SSL_CERT_FILE at that CA's PEM file)", e.URL, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// certificateVerification returns the x509 error when err is a failed
// verification of the server's certificate, else nil.
func certificateVerification(err error) error {
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return tlsErr.Err
	}
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &unknownCA):
		return unknownCA
	case errors.As(err, &hostname):
		return hostname
	case errors.As(err, &invalid):
		return invalid
	}
	return nil
}
