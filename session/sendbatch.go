package session

import (
	"net"
	"net/netip"
	"sync"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
)

// Sending a video frame's packets one sendto at a time was the dearest part
// of the send path: each packet crossed the kernel's UDP/IP stack on its own,
// and each syscall woke the Go runtime's monitor thread
// (tests/bench/README.md, "CPU"). pion's ICE writes one packet per call and
// has no batch API, so the session wraps the UDP sockets pion's ICE agent
// opens: while a frame is being written (cork … uncork) their packets are
// queued, and uncork hands each socket's queue to the kernel in as few
// calls as possible (UDP GSO on Linux: one sendmsg per run of equal-sized
// packets to one address). Outside a frame, writes go straight through.

// Limits of one GSO send (Linux: UDP_MAX_SEGMENTS is 64 on older kernels,
// and the datagram carrying the segments must fit in 64 KiB).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 60000
	// A queue this long is flushed even while corked: a stuck cork must not
	// grow memory, and a keyframe of several hundred packets goes out in
	// a few parts anyway.
	batchMaxQueued = 512
)

// sendBatcher corks the sockets of the peer connections of one session.
type sendBatcher struct {
	mu      sync.Mutex
	corks   int
	pending []*batchConn // sockets with queued packets, in the order they got them
}

// cork starts a frame: writes are queued until the matching uncork. Corks
// nest (the audio and video streaming threads write at the same time); the
// last uncork flushes.
func (b *sendBatcher) cork() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.corks++
	b.mu.Unlock()
}

func (b *sendBatcher) uncork() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.corks--
	if b.corks > 0 {
		return
	}
	// Flushing under the lock keeps the order of each stream's packets: a
	// write that comes meanwhile waits instead of overtaking the queue.
	for _, c := range b.pending {
		c.flushLocked()
	}
	clear(b.pending)
	b.pending = b.pending[:0]
}

// queued is one packet of a batchConn's queue: arena[off:off+n] to addr.
type queued struct {
	off, n int
	addr   netip.AddrPort
}

// batchConn is a UDP socket of pion's ICE agent behind a sendBatcher. It
// implements ice.AddrPortReaderWriter so that ICE keeps its allocation-free
// path.
type batchConn struct {
	transport.UDPConn
	b     *sendBatcher
	udp   *net.UDPConn // nil for a virtual network's socket (tests): no GSO
	raw   *rawSocket   // udp's socket without the scheduler (rawudp_linux.go); nil elsewhere
	noGSO bool         // the kernel refused GSO once on this socket

	// Guarded by b.mu.
	arena []byte
	queue []queued
}

func (c *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	if c.raw != nil {
		return c.raw.recvfrom(p)
	}
	if c.udp != nil {
		return c.udp.ReadFromUDPAddrPort(p)
	}
	n, addr, err := c.UDPConn.ReadFrom(p)
	if err != nil {
		return n, netip.AddrPort{}, err
	}
	return n, addrPortOf(addr), nil
}

func (c *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.corks == 0 {
		return c.writeOne(p, addr)
	}
	if len(c.queue) == 0 {
		b.pending = append(b.pending, c)
	}
	// Copied: pion reuses its buffers once the write returns.
	c.queue = append(c.queue, queued{off: len(c.arena), n: len(p), addr: addr})
	c.arena = append(c.arena, p...)
	if len(c.queue) >= batchMaxQueued {
		c.flushLocked()
	}
	return len(p), nil
}

func (c *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if ap := addrPortOf(addr); ap.IsValid() {
		return c.WriteToAddrPort(p, ap)
	}
	return c.UDPConn.WriteTo(p, addr)
}

func (c *batchConn) writeOne(p []byte, addr netip.AddrPort) (int, error) {
	if c.raw != nil {
		if handled, err := c.raw.sendmsg(p, nil, addr); handled {
			if err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	if c.udp != nil {
		return c.udp.WriteToUDPAddrPort(p, addr)
	}
	return c.UDPConn.WriteTo(p, net.UDPAddrFromAddrPort(addr))
}

// flushLocked sends the queue: each run of packets to one address whose
// sizes are equal (the last may be shorter, as the last fragment of a frame
// is) goes out in one GSO send, everything else one by one. Send errors are
// dropped as a lost packet would be: media is best effort, and a dead path
// is the connection state machine's to find.
func (c *batchConn) flushLocked() {
	q := c.queue
	for i := 0; i < len(q); {
		j := c.gsoRun(q, i)
		if j-i > 1 {
			first, last := q[i], q[j-1]
			if c.sendGSO(c.arena[first.off:last.off+last.n], first.n, first.addr) {
				i = j
				continue
			}
		}
		_, _ = c.writeOne(c.arena[q[i].off:q[i].off+q[i].n], q[i].addr)
		i++
	}
	c.queue = c.queue[:0]
	c.arena = c.arena[:0]
}

// gsoRun is the end of the run of packets starting at i that one GSO send
// can carry (i+1 when GSO is not available).
func (c *batchConn) gsoRun(q []queued, i int) int {
	if c.udp == nil || c.noGSO || !gsoSupported {
		return i + 1
	}
	seg, bytes := q[i].n, q[i].n
	j := i + 1
	for j < len(q) && j-i < gsoMaxSegments && q[j].addr == q[i].addr && q[j].n <= seg && bytes+q[j].n <= gsoMaxBytes {
		bytes += q[j].n
		j++
		if q[j-1].n < seg {
			break // a shorter packet ends a run
		}
	}
	return j
}

// sendGSO sends buf as segments of seg bytes to addr; false when the kernel
// refused GSO (then never tried again on this socket).
func (c *batchConn) sendGSO(buf []byte, seg int, addr netip.AddrPort) bool {
	err := writeGSO(c.udp, c.raw, buf, seg, addr)
	if err != nil && gsoRefused(err) {
		c.noGSO = true
		return false
	}
	return true
}

func addrPortOf(addr net.Addr) netip.AddrPort {
	if u, ok := addr.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	return netip.AddrPort{}
}

// batchNet is the network pion's ICE agent uses: the host's (or a test's
// virtual one) with its UDP sockets behind the session's sendBatcher.
type batchNet struct {
	transport.Net
	b *sendBatcher
}

// newBatchNet wraps inner; nil inner means the host network.
func newBatchNet(inner transport.Net, b *sendBatcher) (transport.Net, error) {
	if inner == nil {
		n, err := stdnet.NewNet()
		if err != nil {
			return nil, err
		}
		inner = hostNet{n}
	}
	return &batchNet{Net: inner, b: b}, nil
}

func (n *batchNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	c := &batchConn{UDPConn: conn, b: n.b}
	if udp, ok := conn.(*net.UDPConn); ok {
		c.udp, c.raw = udp, newRawSocket(udp)
	}
	return c, nil
}

// hostNet is pion's host network, with its interface list read again on
// every gathering as pion does when it builds one per ICE agent itself (a
// session outlives interfaces coming and going). The list is read into a
// new stdnet.Net each time: updating the shared one would race with the
// agents reading it.
type hostNet struct{ *stdnet.Net }

func (n hostNet) Interfaces() ([]*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.Interfaces()
}
