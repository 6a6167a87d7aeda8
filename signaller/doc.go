// Package signaller speaks LiveKit's v0 signalling protocol (/rtc over a
// WebSocket) for a publish-only participant: URL and token building, one
// signalling connection with its ping/liveness loop, and the region list used
// for full reconnects. It holds no reconnect policy; the session package owns
// that and drives one Conn per connection attempt.
//
// It deliberately imports no pion package: it is pure signalling.
package signaller

// Logger is the logging surface the package needs. Nothing logged here ever
// contains a token or an API secret.
type Logger interface {
	Debugf(format string, args ...any)
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}

func orNop(l Logger) Logger {
	if l == nil {
		return nopLogger{}
	}
	return l
}
