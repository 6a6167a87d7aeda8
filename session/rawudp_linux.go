package session

import (
	"encoding/binary"
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

	// Scratch of sendmsg, which its callers serialise (the sendBatcher's
	// lock), and of recvfrom, which only ICE's read loop calls: kept here
	// with the callbacks bound once, so that a send or receive allocates
	// nothing.
	out     sockaddr
	iov     unix.Iovec
	msg     unix.Msghdr
	sendErr syscall.Errno
	send    func(fd uintptr) bool

	in      unix.RawSockaddrAny
	inBuf   []byte
	inN     uintptr
	recvErr syscall.Errno
	recv    func(fd uintptr) bool
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
	r := &rawSocket{rc: rc, family: family}
	r.send, r.recv = r.sendOnce, r.recvOnce
	return r
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
		*sa = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(port), Addr: ip.Unmap().As4()}
		s.n = unix.SizeofSockaddrInet4
	case family == unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&s.buf[0]))
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(port), Addr: ip.As16()}
		s.n = unix.SizeofSockaddrInet6
	default:
		return false
	}
	return true
}

// sendmsg sends buf (with control data oob, e.g. a GSO segment size) to
// addr; handled is false when addr needs net's own path. Callers serialise
// their calls.
func (r *rawSocket) sendmsg(buf, oob []byte, addr netip.AddrPort) (handled bool, err error) {
	if len(buf) == 0 || !r.out.set(r.family, addr) {
		return false, nil
	}
	r.iov = unix.Iovec{Base: &buf[0]}
	r.iov.SetLen(len(buf))
	r.msg = unix.Msghdr{Name: &r.out.buf[0], Namelen: r.out.n, Iov: &r.iov, Iovlen: 1}
	if len(oob) > 0 {
		r.msg.Control = &oob[0]
		r.msg.SetControllen(len(oob))
	}
	r.sendErr = 0
	err = r.rc.Write(r.send)
	r.iov, r.msg = unix.Iovec{}, unix.Msghdr{} // hold no caller buffer
	if err != nil {
		return true, err
	}
	if r.sendErr != 0 {
		return true, r.sendErr
	}
	return true, nil
}

func (r *rawSocket) sendOnce(fd uintptr) bool {
	_, _, r.sendErr = syscall.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&r.msg)), 0)
	return r.sendErr != unix.EAGAIN
}

// recvfrom reads one datagram into p. Only one goroutine calls it.
func (r *rawSocket) recvfrom(p []byte) (int, netip.AddrPort, error) {
	r.inBuf, r.inN, r.recvErr = p, 0, 0
	err := r.rc.Read(r.recv)
	r.inBuf = nil
	if err != nil {
		return 0, netip.AddrPort{}, err
	}
	if r.recvErr != 0 {
		return 0, netip.AddrPort{}, r.recvErr
	}
	return int(r.inN), addrPortFromRaw(&r.in), nil
}

func (r *rawSocket) recvOnce(fd uintptr) bool {
	var base unsafe.Pointer
	if len(r.inBuf) > 0 {
		base = unsafe.Pointer(&r.inBuf[0])
	}
	fromLen := uint32(unix.SizeofSockaddrAny)
	r.inN, _, r.recvErr = syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(base), uintptr(len(r.inBuf)), 0,
		uintptr(unsafe.Pointer(&r.in)), uintptr(unsafe.Pointer(&fromLen)))
	return r.recvErr != unix.EAGAIN
}

func addrPortFromRaw(rsa *unix.RawSockaddrAny) netip.AddrPort {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), htons(sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		ip := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			// As net does: a link-local address carries its interface's name.
			if ifi, err := net.InterfaceByIndex(int(sa.Scope_id)); err == nil {
				ip = ip.WithZone(ifi.Name)
			}
		}
		return netip.AddrPortFrom(ip, htons(sa.Port))
	}
	return netip.AddrPort{}
}

// htons swaps a port between host and network byte order (either way: the
// swap is its own inverse), as the sockaddr structs hold it.
func htons(port uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], port)
	return binary.NativeEndian.Uint16(b[:])
}
