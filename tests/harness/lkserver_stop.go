package harness

import (
	"syscall"
	"time"
)

// Kill sends SIGKILL (kill -9) and waits for the process to go.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("harness: livekit-server pid %d did not die after SIGKILL", cmd.Process.Pid)
	}
}

// Stop asks the server to shut down (SIGTERM; a second SIGTERM after 1 s forces it past
// waiting for participants) and SIGKILLs it if it takes longer than ~7 s.
func (s *Server) Stop() {
	if s.signalAndWait(1*time.Second) || s.signalAndWait(5*time.Second) {
		return
	}
	s.Kill()
}

// Drain sends the first SIGTERM, as a rolling deploy does: the node stops
// taking new rooms and waits for its participants to leave. It returns at once.
func (s *Server) Drain() { s.signalAndWait(0) }

// ForceStop sends the second SIGTERM after Drain, which closes every room
// (Leave{DISCONNECT, SERVER_SHUTDOWN}), and waits for the process to exit;
// SIGKILL after 10 s.
func (s *Server) ForceStop() {
	if !s.signalAndWait(10 * time.Second) {
		s.t.Errorf("harness: livekit-server still running 10 s after the forcing SIGTERM")
		s.Kill()
	}
}

// signalAndWait sends SIGTERM to a running server and waits up to wait for it
// to exit; it reports whether the server is gone (or was never running).
func (s *Server) signalAndWait(wait time.Duration) bool {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || isClosed(done) {
		return true
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if wait == 0 {
		return false
	}
	select {
	case <-done:
		return true
	case <-time.After(wait):
		return false
	}
}

// Restart stops the server if it runs (gracefully: use Kill first for a crash)
// and starts it again with the same ports and config.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

func isClosed(c chan struct{}) bool {
	if c == nil {
		return true
	}
	select {
	case <-c:
		return true
	default:
		return false
	}
}
