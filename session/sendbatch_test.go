package session

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// batchPair is a batchConn (as pion's ICE agent gets it) and a plain UDP
// socket receiving what it sends, both on loopback.
func batchPair(t *testing.T, network, loop string) (*sendBatcher, *batchConn, *net.UDPConn) {
	t.Helper()
	b := &sendBatcher{}
	n, err := newBatchNet(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(loop)})
	if err != nil {
		t.Skipf("%s on %s: %v", network, loop, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	peer, err := net.ListenUDP(network, &net.UDPAddr{IP: net.ParseIP(loop)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	return b, c.(*batchConn), peer
}

// receive reads n datagrams, failing after a second without one.
func receive(t *testing.T, peer *net.UDPConn, n int) [][]byte {
	t.Helper()
	var got [][]byte
	buf := make([]byte, 65536)
	for len(got) < n {
		_ = peer.SetReadDeadline(time.Now().Add(time.Second))
		m, err := peer.Read(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		got = append(got, bytes.Clone(buf[:m]))
	}
	return got
}

// nothingPending fails when a datagram arrives within 50 ms.
func nothingPending(t *testing.T, peer *net.UDPConn, what string) {
	t.Helper()
	_ = peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := peer.Read(make([]byte, 65536)); err == nil {
		t.Fatalf("%s: a %d-byte datagram arrived", what, n)
	}
}

func packet(i, size int) []byte {
	p := bytes.Repeat([]byte{byte(i)}, size)
	copy(p, fmt.Sprintf("#%03d", i))
	return p
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func TestBatchConnSendsAFramesPacketsAtUncorkInOrder(t *testing.T) {
	for _, tc := range []struct{ network, loop string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
		t.Run(tc.network, func(t *testing.T) {
			b, c, peer := batchPair(t, tc.network, tc.loop)
			to := addrOf(peer)

			// Outside a frame a write goes out at once.
			if _, err := c.WriteToAddrPort(packet(0, 100), to); err != nil {
				t.Fatal(err)
			}
			if got := receive(t, peer, 1); !bytes.Equal(got[0], packet(0, 100)) {
				t.Fatalf("uncorked write: got %q", got[0][:4])
			}

			// A keyframe-like frame: two small packets (SPS, PPS), a run of
			// full fragments, a shorter last one; then a nested cork (the
			// other streaming thread) that must not flush.
			var want [][]byte
			sizes := []int{30, 12}
			for range 70 { // more than one GSO send carries
				sizes = append(sizes, 1200)
			}
			sizes = append(sizes, 700)
			b.cork()
			for i, n := range sizes {
				p := packet(i+1, n)
				want = append(want, bytes.Clone(p))
				if _, err := c.WriteToAddrPort(p, to); err != nil {
					t.Fatal(err)
				}
				p[0] = 'X' // the caller reuses its buffer: the queue has a copy
			}
			b.cork()
			b.uncork()
			nothingPending(t, peer, "still corked once")
			b.uncork()
			got := receive(t, peer, len(want))
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("datagram %d: got %d bytes starting %q, want %d bytes starting %q", i, len(got[i]), got[i][:4], len(want[i]), want[i][:4])
				}
			}
			nothingPending(t, peer, "after the frame")
		})
	}
}

func TestBatchConnFlushesALongQueueWhileCorked(t *testing.T) {
	b, c, peer := batchPair(t, "udp4", "127.0.0.1")
	to := addrOf(peer)
	b.cork()
	for i := range batchMaxQueued {
		if _, err := c.WriteToAddrPort(packet(i, 200), to); err != nil {
			t.Fatal(err)
		}
	}
	b.mu.Lock()
	queued := len(c.queue)
	b.mu.Unlock()
	if queued != 0 {
		t.Fatalf("%d packets still queued after %d writes", queued, batchMaxQueued)
	}
	// Sent before the uncork (the receiving socket's buffer may drop some
	// of a burst this long: the test only needs the first).
	if got := receive(t, peer, 1); !bytes.HasPrefix(got[0], []byte("#0")) {
		t.Fatalf("first datagram starts %q", got[0][:4])
	}
	b.uncork()
}

func TestBatchConnReadsWithTheSendersAddress(t *testing.T) {
	for _, tc := range []struct{ network, loop string }{{"udp4", "127.0.0.1"}, {"udp6", "::1"}} {
		t.Run(tc.network, func(t *testing.T) {
			_, c, peer := batchPair(t, tc.network, tc.loop)
			if _, err := peer.WriteToUDPAddrPort([]byte("stun"), c.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1500)
			n, from, err := c.ReadFromAddrPort(buf)
			if err != nil || string(buf[:n]) != "stun" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			if from != addrOf(peer) {
				t.Fatalf("from %v, want %v", from, addrOf(peer))
			}
			// Closing unblocks a pending read with net.ErrClosed, which
			// pion's read loop takes as the end.
			errc := make(chan error, 1)
			go func() { _, _, err := c.ReadFromAddrPort(buf); errc <- err }()
			time.Sleep(20 * time.Millisecond)
			_ = c.Close()
			select {
			case err := <-errc:
				if !errors.Is(err, net.ErrClosed) {
					t.Fatalf("read after close: %v, want net.ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("read still blocked after close")
			}
		})
	}
}

func TestGSORunsAreEqualSizedPacketsToOneAddressEndingInAShorterOne(t *testing.T) {
	a := netip.MustParseAddrPort("192.0.2.1:5000")
	other := netip.MustParseAddrPort("192.0.2.2:5000")
	q := func(specs ...any) []queued {
		var out []queued
		off := 0
		for i := 0; i < len(specs); i += 2 {
			n := specs[i].(int)
			out = append(out, queued{off: off, n: n, addr: specs[i+1].(netip.AddrPort)})
			off += n
		}
		return out
	}
	c := &batchConn{udp: &net.UDPConn{}}
	for _, tc := range []struct {
		name  string
		queue []queued
		from  int
		want  int
	}{
		{"fragments and a shorter last", q(1200, a, 1200, a, 1200, a, 300, a), 0, 4},
		{"a shorter packet ends the run", q(1200, a, 300, a, 300, a), 0, 2},
		{"a longer packet is not in the run", q(300, a, 1200, a), 0, 1},
		{"another address ends the run", q(1200, a, 1200, a, 1200, other), 0, 2},
		{"from the middle", q(30, a, 12, a, 1200, a, 1200, a, 500, a, 90, a), 2, 5},
		{"single", q(100, a), 0, 1},
	} {
		if got := c.gsoRun(tc.queue, tc.from); got != tc.want {
			t.Errorf("%s: run [%d, %d), want [%d, %d)", tc.name, tc.from, got, tc.from, tc.want)
		}
	}
	var long []any
	for range gsoMaxSegments + 10 {
		long = append(long, 900, a)
	}
	if got := c.gsoRun(q(long...), 0); got != min(gsoMaxSegments, gsoMaxBytes/900) {
		t.Errorf("long run ends at %d, want %d", got, min(gsoMaxSegments, gsoMaxBytes/900))
	}
	c.noGSO = true
	if got := c.gsoRun(q(1200, a, 1200, a), 0); got != 1 {
		t.Errorf("after the kernel refused GSO: run of %d", got)
	}
}
