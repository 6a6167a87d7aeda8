package session

import (
	"crypto/x509"
	"errors"
	"fmt"
	"testing"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

func TestKindOfEveryEnd(t *testing.T) {
	for _, c := range []struct {
		err  error
		want EndKind
	}{
		{&AuthError{Status: 401}, EndUnauthorized},
		{fmt.Errorf("wrapped: %w", &AuthError{Status: 403}), EndUnauthorized},
		{&DisconnectError{Reason: livekit.DisconnectReason_ROOM_DELETED}, EndDisconnected},
		{&signaller.CertificateError{URL: "wss://x", Err: x509.UnknownAuthorityError{}}, EndUntrusted},
		{fmt.Errorf("%w: still not connected", ErrBudgetSpent), EndUnreachable},
		{errors.New("creating the peer connection: boom"), EndOther},
		{nil, EndOther},
	} {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
