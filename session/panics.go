package session

import (
	"fmt"
	"runtime/debug"
)

// A panic on any goroutine kills the host process (gst-launch, a Python
// application). Every goroutine the session starts goes through spawn, which
// turns a panic into the end of this session instead.
// Close waits for them: each ends with its socket, peer connection or the
// session's context.
func (s *Session) spawn(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.recoverPanic()
		f()
	}()
}

func (s *Session) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("internal error: %v", r)
	s.log.Errorf("%v\n%s", err, debug.Stack())
	s.cancel()
	s.disp.post(func() { s.h.OnFatal(err) })
}
