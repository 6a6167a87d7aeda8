package session

import (
	"errors"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (Linux ≥ 4.18): one sendmsg carries
// equal-sized datagrams, split by the kernel (or the NIC) after routing and
// filtering ran once for all of them.
const gsoSupported = true

func writeGSO(conn *net.UDPConn, raw *rawSocket, buf []byte, seg int, addr netip.AddrPort) error {
	var oob [unix.SizeofCmsghdr + 8]byte // CmsgSpace(2) on every Linux ABI
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level = unix.IPPROTO_UDP
	h.Type = unix.UDP_SEGMENT
	h.SetLen(unix.CmsgLen(2))
	*(*uint16)(unsafe.Pointer(&oob[unix.CmsgLen(0)])) = uint16(seg)
	if raw != nil {
		if handled, err := raw.sendmsg(buf, oob[:unix.CmsgSpace(2)], addr); handled {
			return err
		}
	}
	_, _, err := conn.WriteMsgUDPAddrPort(buf, oob[:unix.CmsgSpace(2)], addr)
	return err
}

// gsoRefused is true for the errors of a kernel or device without UDP GSO
// (rather than of a path that drops the packets).
func gsoRefused(err error) bool {
	return errors.Is(err, unix.EIO) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOPROTOOPT) || errors.Is(err, unix.EOPNOTSUPP)
}
