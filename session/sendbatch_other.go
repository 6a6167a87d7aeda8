//go:build !linux

package session

import (
	"net"
	"net/netip"
)

// Elsewhere the queue goes out one datagram at a time.
const gsoSupported = false

func writeGSO(*net.UDPConn, *rawSocket, []byte, int, netip.AddrPort) error { return nil }

// rawSocket exists on Linux only (rawudp_linux.go): elsewhere net's own
// calls do the work.
type rawSocket struct{}

func newRawSocket(*net.UDPConn) *rawSocket { return nil }

func (*rawSocket) sendmsg([]byte, []byte, netip.AddrPort) (bool, error) { return false, nil }

func (*rawSocket) recvfrom([]byte) (int, netip.AddrPort, error) { return 0, netip.AddrPort{}, nil }

func gsoRefused(error) bool { return true }
