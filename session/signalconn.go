package session

import (
	"context"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

// SignalConn is the signalling connection as the session uses it;
// *signaller.Conn implements it.
type SignalConn interface {
	// Start begins reading and pinging with the JoinResponse's intervals.
	Start(pingInterval, pingTimeout time.Duration)
	// Messages delivers server messages in order; closed when the socket is.
	Messages() <-chan *livekit.SignalResponse
	// Err tells why the socket closed (nil while open).
	Err() error
	Send(req *livekit.SignalRequest) error
	// Leave tells the server we go, then closes.
	Leave(reason livekit.DisconnectReason)
	Close() error
}

// Dialer opens a signalling connection and returns it with the server's
// first message, as signaller.Dial does (the default).
type Dialer func(ctx context.Context, o signaller.DialOptions) (SignalConn, *livekit.SignalResponse, error)

// dialSignaller is the default Dialer.
func dialSignaller(ctx context.Context, o signaller.DialOptions) (SignalConn, *livekit.SignalResponse, error) {
	c, first, err := signaller.Dial(ctx, o)
	if err != nil {
		return nil, nil, err // a nil *Conn must not become a non-nil SignalConn
	}
	return c, first, nil
}

var _ SignalConn = (*signaller.Conn)(nil)
