package harness

// Jitter on the publisher's UDP. This kernel has no netem qdisc and its
// nftables no queue expression, so an iptables rule (iptables-nft, through
// the xtables NFQUEUE target) in the publisher namespace hands every UDP
// packet, both ways, to the test process, which accepts each one after its
// own random delay: packets overtake each other, as with netem's jitter.
// The queue protocol is nfnetlink_queue (linux/netfilter/nfnetlink_queue.h).

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	jitterQueue = 7 // queue numbers are per namespace

	nfnlSubsysQueue = 3
	nfqnlMsgPacket  = nfnlSubsysQueue<<8 | 0
	nfqnlMsgVerdict = nfnlSubsysQueue<<8 | 1
	nfqnlMsgConfig  = nfnlSubsysQueue<<8 | 2

	nfqaPacketHdr   = 1
	nfqaVerdictHdr  = 2
	nfqaCfgCmd      = 1
	nfqaCfgParams   = 2
	nfqaCfgMaxLen   = 3
	nfqnlCmdBind    = 1
	nfqnlCopyMeta   = 1
	nfAccept        = 1
	jitterQueueSize = 8192
)

// Jitter holds every UDP packet of a publisher namespace for base±spread
// (uniform) before letting it go.
type Jitter struct {
	tp           *Topology
	conn         *netlink.Conn
	base, spread time.Duration
	rngMu        sync.Mutex
	rng          *rand.Rand
	delayed      atomic.Uint64
	readerDone   chan struct{}
	stopOnce     sync.Once
}

var jitterRules = [][]string{
	{"OUTPUT", "-p", "udp", "-j", "NFQUEUE", "--queue-num", "7"},
	{"PREROUTING", "-p", "udp", "-j", "NFQUEUE", "--queue-num", "7"},
}

// JitterUDP delays each UDP packet of the publisher, both ways, by base±spread,
// until Stop (registered with t.Cleanup too).
func (tp *Topology) JitterUDP(t testing.TB, base, spread time.Duration) *Jitter {
	t.Helper()
	ns, err := os.Open(filepath.Join("/var/run/netns", tp.PubNS))
	if err != nil {
		t.Fatalf("jitter: %v", err)
	}
	conn, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: int(ns.Fd())})
	_ = ns.Close()
	if err != nil {
		t.Fatalf("jitter: netlink: %v", err)
	}
	j := &Jitter{tp: tp, conn: conn, base: base, spread: spread, rng: rand.New(rand.NewPCG(1, 2)), readerDone: make(chan struct{})}
	_ = conn.SetReadBuffer(4 << 20)
	cmd := make([]byte, 4)
	cmd[0] = nfqnlCmdBind
	binary.BigEndian.PutUint16(cmd[2:], unix.AF_INET)
	params := make([]byte, 5)
	params[4] = nfqnlCopyMeta // the packet id is all a verdict needs
	maxLen := binary.BigEndian.AppendUint32(nil, jitterQueueSize)
	for _, attrs := range [][]netlink.Attribute{{{Type: nfqaCfgCmd, Data: cmd}}, {{Type: nfqaCfgParams, Data: params}, {Type: nfqaCfgMaxLen, Data: maxLen}}} {
		if err := j.config(attrs); err != nil {
			_ = conn.Close()
			t.Fatalf("jitter: configuring the queue: %v", err)
		}
	}
	go j.read()
	t.Cleanup(j.Stop)
	for _, r := range jitterRules {
		if _, err := run(append([]string{"ip", "netns", "exec", tp.PubNS, "iptables", "-t", "mangle", "-A"}, r...)...); err != nil {
			t.Fatalf("jitter: %v", err)
		}
	}
	return j
}

// nfgen is the nfgenmsg header of every queue message: AF_UNSPEC, version 0,
// the queue number.
func nfgen() []byte { return []byte{unix.AF_UNSPEC, 0, 0, jitterQueue} }

func (j *Jitter) config(attrs []netlink.Attribute) error {
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		return err
	}
	_, err = j.conn.Execute(netlink.Message{
		Header: netlink.Header{Type: nfqnlMsgConfig, Flags: netlink.Request | netlink.Acknowledge},
		Data:   append(nfgen(), b...),
	})
	return err
}

// read takes each queued packet and schedules its verdict.
func (j *Jitter) read() {
	defer close(j.readerDone)
	for {
		msgs, err := j.conn.Receive()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) || queueClosed(err) {
				return
			}
			continue // ENOBUFS under load: those packets stay queued until the queue is full
		}
		for _, m := range msgs {
			if m.Header.Type != nfqnlMsgPacket || len(m.Data) < 4 {
				continue
			}
			id, ok := packetID(m.Data[4:])
			if !ok {
				continue
			}
			j.delayed.Add(1)
			time.AfterFunc(j.delay(), func() { j.accept(id) })
		}
	}
}

func queueClosed(err error) bool {
	var oe *netlink.OpError
	return errors.As(err, &oe) && (errors.Is(oe.Err, os.ErrClosed) || errors.Is(oe.Err, unix.EBADF))
}

func packetID(b []byte) (uint32, bool) {
	ad, err := netlink.NewAttributeDecoder(b)
	if err != nil {
		return 0, false
	}
	for ad.Next() {
		if ad.Type() == nfqaPacketHdr && len(ad.Bytes()) >= 4 {
			return binary.BigEndian.Uint32(ad.Bytes()), true
		}
	}
	return 0, false
}

func (j *Jitter) delay() time.Duration {
	j.rngMu.Lock()
	defer j.rngMu.Unlock()
	d := j.base - j.spread
	if j.spread > 0 {
		d += time.Duration(j.rng.Int64N(int64(2 * j.spread)))
	}
	return max(d, 0)
}

func (j *Jitter) accept(id uint32) {
	v := make([]byte, 8)
	binary.BigEndian.PutUint32(v, nfAccept)
	binary.BigEndian.PutUint32(v[4:], id)
	b, err := netlink.MarshalAttributes([]netlink.Attribute{{Type: nfqaVerdictHdr, Data: v}})
	if err != nil {
		return
	}
	_, _ = j.conn.Send(netlink.Message{Header: netlink.Header{Type: nfqnlMsgVerdict, Flags: netlink.Request}, Data: append(nfgen(), b...)})
}

// Delayed is how many packets went through the queue.
func (j *Jitter) Delayed() uint64 { return j.delayed.Load() }

// Stop removes the rules, waits until every held packet has gone and closes
// the queue.
func (j *Jitter) Stop() {
	j.stopOnce.Do(func() {
		for _, r := range jitterRules {
			_, _ = run(append([]string{"ip", "netns", "exec", j.tp.PubNS, "iptables", "-t", "mangle", "-D"}, r...)...)
		}
		time.Sleep(j.base + j.spread + 200*time.Millisecond)
		_ = j.conn.Close()
		<-j.readerDone
	})
}
