package session

import (
	"errors"
	"net"
	"syscall"
)

// isUnreachable: the server is not there at all (refused, no route,
// timeout), as opposed to a server that answered badly.
func isUnreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &ne)
}
