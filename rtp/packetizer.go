package rtp

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

const (
	// DefaultMTU is the packet size budget used when NewPacketizer gets 0. It
	// leaves room below a 1500-byte path MTU for IP/UDP, SRTP auth tag and the
	// RTP header extensions pion's interceptors add after packetization.
	DefaultMTU = 1200
	// MinMTU is the smallest MTU NewPacketizer accepts: below it some
	// payloaders cannot fit their descriptors plus payload.
	MinMTU = 64
	// MaxMTU is the largest MTU NewPacketizer accepts (payloaders take a
	// 16-bit payload size).
	MaxMTU = rtpHeaderSize + 0xffff

	// rtpHeaderSize is the fixed RTP header without CSRCs or extensions
	// (RFC 3550 §5.1); Packetize adds neither.
	rtpHeaderSize = 12
)

// ErrUnknownCodec is returned by NewPacketizer for CodecUnknown or any value
// that is not a known Codec.
var ErrUnknownCodec = errors.New("rtp: unknown codec")

// Packetizer turns encoded frames of one track into RTP packets.
//
// Why not pion's rtp.Packetizer: it advances the timestamp by a sample count
// per call, so rounding accumulates and dropped frames are lost from the
// timeline. Packetizer derives each RTP timestamp from the frame's absolute
// PTS instead, so there is no drift over hours and gaps are kept.
//
// Use one Packetizer for the whole life of a track, across reconnects, so
// sequence numbers and timestamps continue. Packetize is not safe for
// concurrent use; Codec is.
type Packetizer struct {
	codec      Codec
	payloadMTU uint16 // mtu minus the RTP header
	payloader  rtp.Payloader

	// The last call's packets and their payloads, reused by the next call
	// (see Packetize): arena holds the payload bytes, each cuts entry
	// ends one payload, views are the payloads as slices of arena.
	arena []byte
	cuts  []int
	views [][]byte
	pkts  []rtp.Packet
	ptrs  []*rtp.Packet

	seq uint16 // next sequence number

	// vp9PictureID is the next PictureID of PacketizeEncrypted's VP9
	// descriptors (15 bits, random start, as the VP9 payloader's).
	vp9PictureID uint16

	// Timestamp state: ts = anchorTS + ticks(pts - anchorPTS).
	anchored  bool
	anchorPTS time.Duration
	anchorTS  uint32
	started   bool   // lastTS is valid
	lastTS    uint32 // timestamp of the previous frame
}

// NewPacketizer returns a Packetizer for codec with random initial sequence
// number and timestamp (RFC 3550 §5.1). mtu bounds the marshalled size of each
// packet (RTP header included), except that an Opus packet larger than the
// MTU is still sent whole since RFC 7587 has no fragmentation (at most 1275
// bytes per Opus frame); 0 means DefaultMTU. It fails for CodecUnknown
// and for an mtu outside [MinMTU, MaxMTU].
func NewPacketizer(codec Codec, mtu int) (*Packetizer, error) {
	if mtu == 0 {
		mtu = DefaultMTU
	}
	if mtu < MinMTU || mtu > MaxMTU {
		return nil, fmt.Errorf("rtp: mtu %d outside [%d, %d]", mtu, MinMTU, MaxMTU)
	}
	p := &Packetizer{
		codec:      codec,
		payloadMTU: uint16(mtu - rtpHeaderSize), //nolint:gosec // range checked above
		seq:        uint16(rand.Uint32()),       //nolint:gosec // truncation intended
		anchorTS:   rand.Uint32(),
	}
	switch codec {
	case CodecH264:
		// RFC 6184, payloaded in Packetize (payloadH264).
	case CodecH265:
		// RFC 7798. The payloader copies its input and caches parameter sets
		// by id (copied too), so keeping it across calls is safe. Parameter
		// sets at the very end of an AU go out with the next AU's first NAL.
		p.payloader = &codecs.H265Payloader{}
	case CodecVP8:
		// RFC 7741. The 15-bit PictureID lets SFUs detect frame loss; the
		// payloader increments it per frame, so it must live as long as the track.
		p.payloader = &codecs.VP8Payloader{EnablePictureID: true}
	case CodecVP9:
		// RFC 9628. Non-flexible mode (FlexibleMode false, as pion's
		// MediaEngine and LiveKit's Go SDK use): the payloader parses the
		// uncompressed header, sets P for inter frames and sends the
		// scalability structure with the resolution on keyframes. PictureID is
		// 15 bits, random start, +1 per frame. Frames whose header does not
		// parse yield no packets.
		p.payloader = &codecs.VP9Payloader{
			InitialPictureIDFn: func() uint16 { return uint16(rand.N(0x8000)) }, //nolint:gosec // < 0x8000
		}
		p.vp9PictureID = uint16(rand.N(0x8000)) //nolint:gosec // < 0x8000
	case CodecAV1:
		// AV1 RTP spec (https://aomediacodec.github.io/av1-rtp-spec/). The
		// payloader reads exactly the low-overhead bitstream format av1parse
		// emits (OBUs with obu_has_size_field), strips sizes, temporal
		// delimiters, tile lists and padding, and sets N on a new sequence.
		p.payloader = &codecs.AV1Payloader{}
	case CodecOpus:
		// RFC 7587: one Opus packet per RTP packet, never fragmented.
		// Packetize copies it itself (see there), no payloader needed.
	default:
		return nil, fmt.Errorf("%w: %d", ErrUnknownCodec, int(codec))
	}
	return p, nil
}

// Codec returns the codec the Packetizer was created for.
func (p *Packetizer) Codec() Codec { return p.codec }

// Packetize packetizes one frame and returns its RTP packets in sequence
// order, or nil if the frame yields none (empty, only access unit delimiters,
// unparseable VP9 header, ...). No sequence numbers are used up then.
//
// frame is one access unit in Annex-B byte-stream format for H.264
// (RFC 6184) and H.265 (RFC 7798); one frame for VP8 (RFC 7741) and VP9
// (RFC 9628); one temporal unit in low-overhead bitstream format for AV1; one
// packet for Opus (RFC 7587).
//
// pts is the frame's presentation time (GStreamer running time). The RTP
// timestamp is base + (pts - firstPTS) * clockRate / 1s, rounded to the
// nearest tick, computed exactly for any run length. A negative pts means "no
// PTS": the timestamp then advances by one frame (1/30 s video, 20 ms Opus)
// from the previous one.
//
// PayloadType and SSRC are 0 (pion's TrackLocalStaticRTP sets them per
// binding). Every packet fits the MTU except an oversized Opus packet, which
// is sent whole (see NewPacketizer). Marker is set on the last packet of a
// video frame and never for Opus.
//
// The packets share no memory with frame: the caller may reuse frame's
// buffer at once. They are the Packetizer's own, valid until its next
// Packetize or PacketizeEncrypted call, which reuses their memory: a
// caller that keeps packets longer copies them. (Everything after the
// session's WriteRTP copies what it keeps: SRTP encrypts into its own
// buffer, pion's NACK responder keeps a copy.)
func (p *Packetizer) Packetize(frame []byte, pts time.Duration) []*rtp.Packet {
	ts := p.timestamp(pts)
	if len(frame) == 0 {
		return nil
	}
	p.resetArena()
	switch p.codec {
	case CodecH264:
		// h264StapASafe decides whether STAP-A aggregation would lose
		// parameter sets in this AU; they then go out one per packet.
		p.payloadH264(frame, int(p.payloadMTU), h264StapASafe(frame, int(p.payloadMTU)))
		return p.packets(p.arenaViews(), ts)
	case CodecOpus:
		// What OpusPayloader does (copy, no fragmentation), into the arena.
		p.arena = append(p.arena, frame...)
		p.cut()
		return p.packets(p.arenaViews(), ts)
	default:
		// pion's payloaders allocate each payload themselves.
		return p.packets(p.payloader.Payload(p.payloadMTU, frame), ts)
	}
}

// maxKeptArena: an arena grown beyond this by one huge frame is not kept.
const maxKeptArena = 4 << 20

func (p *Packetizer) resetArena() {
	if cap(p.arena) > maxKeptArena {
		p.arena = nil
	}
	p.arena, p.cuts = p.arena[:0], p.cuts[:0]
}

// cut ends the payload being written into the arena.
func (p *Packetizer) cut() { p.cuts = append(p.cuts, len(p.arena)) }

// arenaViews are the payloads cut so far, as slices of the arena (made
// once the arena no longer grows).
func (p *Packetizer) arenaViews() [][]byte {
	p.views = p.views[:0]
	start := 0
	for _, end := range p.cuts {
		p.views = append(p.views, p.arena[start:end:end])
		start = end
	}
	return p.views
}

// packets wraps payloads of one frame into RTP packets, in the storage the
// previous call's packets used.
func (p *Packetizer) packets(payloads [][]byte, ts uint32) []*rtp.Packet {
	n := len(payloads)
	if n == 0 {
		return nil
	}
	if cap(p.pkts) < n {
		p.pkts = make([]rtp.Packet, n)
		p.ptrs = make([]*rtp.Packet, n)
	}
	pkts, ptrs := p.pkts[:n], p.ptrs[:n]
	video := p.codec.IsVideo()
	for i, payload := range payloads {
		// Reset whole, header extensions included (a session may have set
		// some on the previous frame's packets), keeping their capacity.
		ext := pkts[i].Extensions[:0]
		pkts[i] = rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				Marker:         video && i == n-1,
				SequenceNumber: p.seq,
				Timestamp:      ts,
				Extensions:     ext,
			},
			Payload: payload,
		}
		p.seq++ // wraps at 65535 as RFC 3550 requires
		ptrs[i] = &pkts[i]
	}
	return ptrs
}

// timestamp maps pts to an RTP timestamp and records it as the last one.
func (p *Packetizer) timestamp(pts time.Duration) uint32 {
	var ts uint32
	switch {
	case pts < 0:
		ts = p.anchorTS // first frame ever: start at the random base
		if p.started {
			ts = p.lastTS + fallbackFrameTicks(p.codec)
		}
	case !p.anchored:
		// The first frame with a PTS anchors the timeline. If frames without
		// PTS came before, continue from them rather than jumping back.
		if p.started {
			p.anchorTS = p.lastTS + fallbackFrameTicks(p.codec)
		}
		p.anchorPTS, p.anchored = pts, true
		ts = p.anchorTS
	default:
		ts = p.anchorTS + ptsTicks(pts-p.anchorPTS, p.codec.ClockRate())
	}
	p.lastTS, p.started = ts, true
	return ts
}
