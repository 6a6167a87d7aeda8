package session

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// TrackStats is what one track has sent and what the SFU reported about it.
type TrackStats struct {
	FramesSent, FramesDropped uint64 // WriteFrame outcomes (dropped: no transport up)
	FramesMuted               uint64 // not sent because the track is muted
	PacketsSent, BytesSent    uint64 // RTP packets handed to the peer connection, headers included
	NACKs, PLIs, FIRs         uint64 // feedback packets from the SFU
	// From the SFU's latest receiver report for this track, its lowest
	// layer for simulcast (zero before one):
	RTT          time.Duration
	FractionLost float64 // 0..1
	// Layers: each layer of a simulcast track, low to high (nil otherwise).
	Layers []LayerStats
}

// trackCounters are updated from the streaming thread (sent) and the RTCP
// reader (feedback), and read by Stats from anywhere.
type trackCounters struct {
	framesSent, framesDropped atomic.Uint64
	framesMuted               atomic.Uint64
	packetsSent, bytesSent    atomic.Uint64
	nacks, plis, firs         atomic.Uint64
	rtcpIn                    atomic.Uint64 // any RTCP from the SFU: the path is alive (deadpath.go)
	rtt                       atomic.Int64  // nanoseconds
	fractionLost              atomic.Uint32 // RTCP units of 1/256
}

// Stats returns the track's counters now.
func (t *Track) Stats() TrackStats {
	c := &t.stats
	st := TrackStats{
		FramesSent: c.framesSent.Load(), FramesDropped: c.framesDropped.Load(), FramesMuted: c.framesMuted.Load(),
		PacketsSent: c.packetsSent.Load(), BytesSent: c.bytesSent.Load(),
		NACKs: c.nacks.Load(), PLIs: c.plis.Load(), FIRs: c.firs.Load(),
		RTT: time.Duration(c.rtt.Load()), FractionLost: float64(c.fractionLost.Load()) / 256,
	}
	if t.Simulcast() {
		st.Layers = t.LayerStats()
	}
	return st
}

// onReceiverReport takes the report block about ssrc, if the RR has one.
func (c *trackCounters) onReceiverReport(rr *rtcp.ReceiverReport, ssrc uint32, now time.Time) {
	for _, r := range rr.Reports {
		if r.SSRC != ssrc {
			continue
		}
		c.fractionLost.Store(uint32(r.FractionLost))
		if rtt, ok := rttFromReport(now, r.LastSenderReport, r.Delay); ok {
			c.rtt.Store(int64(rtt))
		}
	}
}

// rttFromReport is RFC 3550 §6.4.1: RTT = A - LSR - DLSR, all in the middle
// 32 bits of NTP time (1/65536 s). No SR seen yet (LSR 0) or a negative
// result (clock step) gives no RTT.
func rttFromReport(arrival time.Time, lsr, dlsr uint32) (time.Duration, bool) {
	if lsr == 0 {
		return 0, false
	}
	rtt := ntpMiddle32(arrival) - lsr - dlsr
	if int32(rtt) < 0 {
		return 0, false
	}
	return time.Duration(uint64(rtt) * uint64(time.Second) >> 16), true
}

// ntpMiddle32 is t as the middle 32 bits of a 64-bit NTP timestamp, the
// form of LSR; pion's sender reports use the same wall clock.
func ntpMiddle32(t time.Time) uint32 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := (uint64(t.Nanosecond()) << 32) / uint64(time.Second)
	return uint32(secs<<16 | frac>>16)
}
