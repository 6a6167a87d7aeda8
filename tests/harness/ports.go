package harness

import (
	"fmt"
	"net"
	"sync"
	"testing"
)

// Ports handed out by this process; a port is never handed out twice, so
// servers started by parallel tests in one test binary cannot collide.
var (
	portsMu  sync.Mutex
	portsOut = map[int]bool{}
)

// FreePort returns a port on host that is free for both TCP and UDP at the
// time of the call and has not been returned before by this process.
func FreePort(t testing.TB, host string) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			t.Fatalf("harness: listen on %s: %v", host, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, uerr := net.ListenPacket("udp", net.JoinHostPort(host, fmt.Sprint(port)))
		l.Close()
		if uerr != nil {
			continue
		}
		u.Close()
		portsMu.Lock()
		taken := portsOut[port]
		portsOut[port] = true
		portsMu.Unlock()
		if !taken {
			return port
		}
	}
	t.Fatalf("harness: no free port on %s after 50 tries", host)
	return 0
}

// ClosedPort returns a TCP port on host with nothing listening on it (for
// "server unreachable" tests).
func ClosedPort(t testing.TB, host string) int {
	t.Helper()
	return FreePort(t, host)
}
