package session

import (
	"errors"
	"net"
	"strings"
	"syscall"
)

// normalizeURL makes URLs comparable for the failed-region set.
func normalizeURL(u string) string {
	u = strings.TrimRight(strings.ToLower(u), "/")
	for _, p := range [][2]string{{"https://", "wss://"}, {"http://", "ws://"}} {
		if strings.HasPrefix(u, p[0]) {
			u = p[1] + u[len(p[0]):]
		}
	}
	return u
}

// isUnreachable: the server is not there at all (refused, no route,
// timeout), as opposed to a server that answered badly.
func isUnreachable(err error) bool {
	var ne net.Error
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.As(err, &ne)
}
