package session

import (
	"errors"
	"fmt"

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
