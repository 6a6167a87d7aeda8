package session

import (
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSocket sends and receives on a UDP socket with RawSyscall, which the Go
// scheduler does not see. Every syscall it sees wakes its monitor thread
// (sysmon) when that sleeps, and sysmon then polls every 20 µs for as long
// as the send path runs: per frame that cost more than the sends
// (tests/bench/README.md, "CPU"). The socket is non-blocking (Go's net
// package made it), so these calls return at once; EAGAIN waits in the
// netpoller as net's own calls do.
type rawSocket struct {
	rc     syscall.RawConn
	family int
}

func newRawSocket(c *net.UDPConn) *rawSocket {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil
	}
	family := -1
	if err := rc.Control(func(fd uintptr) {
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); err == nil {
			family = v
		}
	}); err != nil || (family != unix.AF_INET && family != unix.AF_INET6) {
		return nil
	}
	return &rawSocket{rc: rc, family: family}
}

// sockaddr is a sockaddr_in or sockaddr_in6 for addr on a socket of the
// given family; ok is false when the socket cannot reach addr this way
// (an IPv6 address on an IPv4 socket, or a zone, which needs a lookup).
type sockaddr struct {
	buf [unix.SizeofSockaddrInet6]byte
	n   uint32
}

func (s *sockaddr) set(family int, addr netip.AddrPort) bool {
	ip := addr.Addr()
	if ip.Zone() != "" {
		return false
	}
	port := addr.Port()
	switch {
	case family == unix.AF_INET && ip.Unmap().Is4():
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&s.buf[0]))
		*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: ip.Unmap().As4()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		s.n = unix.SizeofSockaddrInet4
	case family == unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.buf[0]))
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: ip.As16()}
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		s.n = unix.SizeofSockaddrInet6
	default:
		return false
	}
	return true
}

// sendmsg sends buf (with control data oob, e.g. a GSO segment size) to
// addr; handled is false when addr needs net's own path.
func (r *rawSocket) sendmsg(buf, oob []byte, addr netip.AddrPort) (handled bool, err error) {
	var sa sockaddr
	if len(buf) == 0 || !sa.set(r.family, addr) {
		return false, nil
	}
	iov := unix.Iovec{Base: &buf[0]}
	iov.SetLen(len(buf))
	msg := unix.Msghdr{Name: &sa.buf[0], Namelen: sa.n, Iov: &iov, Iovlen: 1}
	if len(oob) > 0 {
		msg.Control = &oob[0]
		msg.SetControllen(len(oob))
	}
	var errno syscall.Errno
	if err := r.rc.Write(func(fd uintptr) bool {
		_, _, errno = syscall.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&msg)), 0)
		return errno != unix.EAGAIN
	}); err != nil {
		return true, err
	}
	if errno != 0 {
		return true, errno
	}
	return true, nil
}

// recvfrom reads one datagram into p.
func (r *rawSocket) recvfrom(p []byte) (int, netip.AddrPort, error) {
	var from unix.RawSockaddrAny
	var n uintptr
	var errno syscall.Errno
	var base unsafe.Pointer
	if len(p) > 0 {
		base = unsafe.Pointer(&p[0])
	}
	if err := r.rc.Read(func(fd uintptr) bool {
		fromLen := uint32(unix.SizeofSockaddrAny)
		n, _, errno = syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(base), uintptr(len(p)), 0,
			uintptr(unsafe.Pointer(&from)), uintptr(unsafe.Pointer(&fromLen)))
		return errno != unix.EAGAIN
	}); err != nil {
		return 0, netip.AddrPort{}, err
	}
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return int(n), addrPortFromRaw(&from), nil
}

func addrPortFromRaw(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			// As net does: a link-local address carries its interface's name.
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				ip = ip.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(ip, uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}
