package viewer

import (
	"encoding/binary"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// rtpCapture records the RTP headers the SFU sends on loopback (SRTP keeps
// the header in clear): what a browser subscriber receives, in the order it
// arrives. Needs root (a packet socket on lo).
type rtpCapture struct {
	fd      int
	srcPort int
	mu      sync.Mutex
	streams map[streamKey]*streamOrder
	done    chan struct{}
}

type streamKey struct {
	dstPort int
	ssrc    uint32
}

// streamOrder is what arrived on one SSRC to one browser port.
type streamOrder struct {
	payloadType   uint8
	packets       int
	padding       int
	highestSeq    int64 // unwrapped
	wraps         int
	lateMedia     int // media packets arriving after a higher sequence number
	latePadding   int // padding packets arriving after a higher sequence number
	latePaddingAt []time.Duration
	firstSeq      uint16
	firstAt       time.Duration
	wrapAt        []time.Duration
	started       bool
	head          []rtpHead // the first packets, as they arrived
}

// rtpHead is one packet's RTP header fields (the payload is SRTP-encrypted;
// its length still tells key frames from delta frames).
type rtpHead struct {
	seq     uint16
	ts      uint32
	marker  bool
	padding bool
	size    int
	at      time.Duration
}

const headPackets = 80

func startRTPCapture(t *testing.T, srcPort int) *rtpCapture {
	t.Helper()
	const ethPAll = 0x0003
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_RAW, int(htons(ethPAll)))
	if err != nil {
		t.Fatalf("packet socket (needs root): %v", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: htons(ethPAll), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &syscall.Timeval{Usec: 200000})
	c := &rtpCapture{fd: fd, srcPort: srcPort, streams: map[streamKey]*streamOrder{}, done: make(chan struct{})}
	stop := make(chan struct{})
	go c.run(stop)
	t.Cleanup(func() { close(stop); <-c.done; syscall.Close(fd) })
	return c
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (c *rtpCapture) run(stop chan struct{}) {
	defer close(c.done)
	start := time.Now()
	buf := make([]byte, 65536)
	for {
		select {
		case <-stop:
			return
		default:
		}
		n, from, err := syscall.Recvfrom(c.fd, buf, 0)
		if err != nil {
			continue
		}
		if ll, ok := from.(*syscall.SockaddrLinklayer); ok && ll.Pkttype == syscall.PACKET_OUTGOING {
			continue // lo shows each packet twice
		}
		c.packet(buf[:n], time.Since(start))
	}
}

func (c *rtpCapture) packet(b []byte, at time.Duration) {
	if len(b) < 14+20+8+12 || binary.BigEndian.Uint16(b[12:14]) != 0x0800 {
		return
	}
	ip := b[14:]
	ihl := int(ip[0]&0x0f) * 4
	if ip[9] != syscall.IPPROTO_UDP || len(ip) < ihl+8+12 {
		return
	}
	udp := ip[ihl:]
	if int(binary.BigEndian.Uint16(udp[0:2])) != c.srcPort {
		return
	}
	dst := int(binary.BigEndian.Uint16(udp[2:4]))
	r := udp[8:]
	if r[0]>>6 != 2 || (r[1] >= 192 && r[1] <= 223) {
		return // not RTP (STUN, DTLS, RTCP)
	}
	pt := r[1] & 0x7f
	seq := binary.BigEndian.Uint16(r[2:4])
	ssrc := binary.BigEndian.Uint32(r[8:12])
	padding := r[0]&0x20 != 0
	marker := r[1]&0x80 != 0
	ts := binary.BigEndian.Uint32(r[4:8])
	c.mu.Lock()
	defer c.mu.Unlock()
	k := streamKey{dst, ssrc}
	s := c.streams[k]
	if s == nil {
		s = &streamOrder{payloadType: pt}
		c.streams[k] = s
	}
	s.packets++
	if len(s.head) < headPackets {
		s.head = append(s.head, rtpHead{seq, ts, marker, padding, len(r), at})
	}
	if !s.started {
		s.started, s.highestSeq, s.firstSeq, s.firstAt = true, int64(seq), seq, at
		return
	}
	unwrapped := s.highestSeq + int64(int16(seq-uint16(s.highestSeq)))
	late := unwrapped < s.highestSeq
	if padding {
		s.padding++
		if late {
			s.latePadding++
			s.latePaddingAt = append(s.latePaddingAt, at)
		}
	} else if late {
		s.lateMedia++
	}
	if unwrapped > s.highestSeq {
		if unwrapped>>16 != s.highestSeq>>16 {
			s.wraps++
			s.wrapAt = append(s.wrapAt, at)
		}
		s.highestSeq = unwrapped
	}
}

// report describes each stream with packets from the SFU.
func (c *rtpCapture) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []streamKey
	for k := range c.streams {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].dstPort != keys[j].dstPort {
			return keys[i].dstPort < keys[j].dstPort
		}
		return keys[i].ssrc < keys[j].ssrc
	})
	var sb strings.Builder
	for _, k := range keys {
		s := c.streams[k]
		fmt.Fprintf(&sb, "to port %d ssrc %08x pt %d: %d packets, %d padding, %d late padding %v, %d late media, %d wraps %v, first seq %d at %v, highest seq %d\n",
			k.dstPort, k.ssrc, s.payloadType, s.packets, s.padding, s.latePadding, roundAll(s.latePaddingAt), s.lateMedia, s.wraps, roundAll(s.wrapAt), s.firstSeq, s.firstAt.Round(10*time.Millisecond), s.highestSeq)
	}
	return sb.String()
}

func roundAll(ds []time.Duration) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(10*time.Millisecond).String())
	}
	return out
}

// head describes the first packets of the stream with SSRC ssrc (to any
// port), grouped into frames by RTP timestamp: first-last sequence number,
// packets, bytes, P if a packet had the padding bit, M if the last had the
// marker, arrival; the timestamps are relative to the first packet's.
func (c *rtpCapture) head(ssrc uint32) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var sb strings.Builder
	for k, s := range c.streams {
		if k.ssrc != ssrc || len(s.head) == 0 {
			continue
		}
		fmt.Fprintf(&sb, "ssrc %08x to port %d, first %d packets:", ssrc, k.dstPort, len(s.head))
		base := s.head[0].ts
		for i := 0; i < len(s.head); {
			j, bytes, m := i, 0, ""
			for ; j < len(s.head) && s.head[j].ts == s.head[i].ts; j++ {
				bytes += s.head[j].size
				if s.head[j].padding {
					m = "P"
				}
			}
			last := s.head[j-1]
			if last.marker {
				m += "M"
			}
			fmt.Fprintf(&sb, " [%d-%d ts+%d %dp %dB %s %v]", s.head[i].seq, last.seq, s.head[i].ts-base, j-i, bytes, m, s.head[i].at.Round(time.Millisecond))
			i = j
		}
		sb.WriteString("\n")
	}
	return sb.String()
}
