package session

import (
	"errors"
	"fmt"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

var (
	// ErrClosed is returned by calls on a closed session or track.
	ErrClosed = errors.New("session closed")
	// ErrBudgetSpent ends a recovery that lasted longer than Config.ReconnectBudget.
	ErrBudgetSpent = errors.New("reconnect budget spent")
	// ErrUnknownScenario is returned by Simulate for a name it does not know.
	ErrUnknownScenario = errors.New("unknown scenario")
)

// DisconnectError is the end of a session the server asked for.
type DisconnectError struct {
	Reason livekit.DisconnectReason
}

func (e *DisconnectError) Error() string {
	return fmt.Sprintf("server asked to leave the room (action DISCONNECT, reason %s)", e.Reason)
}

// AuthError is a (re)connect the server refused for the credentials.
type AuthError struct {
	Status  int
	Message string
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("server refused the credentials (HTTP %d", e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg + "); check signaller::api-key, signaller::secret-key or signaller::auth-token"
}

// EndKind sorts the errors a session ends with, for applications that act on
// them: the plugin maps each onto a GStreamer error domain and code
// (docs/properties.md, "Errors on the bus").
type EndKind int

const (
	EndOther        EndKind = iota // anything else (e.g. a peer connection that cannot be made)
	EndUnauthorized                // the server refused the credentials (401/403)
	EndUnreachable                 // reconnect-budget spent without a working connection
	EndUntrusted                   // the server's TLS certificate did not verify
	EndDisconnected                // the server ended the participant (Leave, see docs/leave-policy.md)
)

// KindOf tells which kind of end err is.
func KindOf(err error) EndKind {
	var auth *AuthError
	var leave *DisconnectError
	var cert *signaller.CertificateError
	switch {
	case errors.As(err, &auth):
		return EndUnauthorized
	case errors.As(err, &leave):
		return EndDisconnected
	case errors.As(err, &cert):
		return EndUntrusted
	case errors.Is(err, ErrBudgetSpent):
		return EndUnreachable
	}
	return EndOther
}
