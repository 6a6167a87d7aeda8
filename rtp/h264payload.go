package rtp

import "encoding/binary"

// RFC 6184 packet types and header bits the H.264 payloading writes.
const (
	h264STAPAIndicator = 0x78 // F=0, NRI=3, type 24 (STAP-A), as pion writes it
	h264FUAType        = 28
	h264FUAHeaderSize  = 2
	h264FUStart        = 0x80
	h264FUEnd          = 0x40
	h264RefIdcMask     = 0x60
)

// payloadH264 writes the RTP payloads of access unit au into the
// Packetizer's arena, exactly as pion's codecs.H264Payloader would produce
// them for a fresh payloader (single NAL unit packets, FU-A for NAL units
// above mtu, and with stapA the last SPS and PPS aggregated into one STAP-A
// in front of the next NAL unit); TestH264PayloadsMatchPion checks that
// byte for byte.
//
// Why not the payloader itself: it allocates every payload (at 4 Mbit/s
// about 350 a second), which was 2–3 % of the element's CPU with the
// garbage collections it caused (tests/bench/README.md, "Tenth session").
// The arena is reused from one frame to the next.
func (p *Packetizer) payloadH264(au []byte, mtu int, stapA bool) {
	var sps, pps []byte
	forEachNALU(au, func(nalu []byte) bool {
		if len(nalu) == 0 {
			return true
		}
		typ := h264NALType(nalu)
		switch {
		case typ == h264NALAUD || typ == h264NALFiller:
			return true
		case typ == h264NALSPS && stapA:
			sps = nalu
			return true
		case typ == h264NALPPS && stapA:
			pps = nalu
			return true
		case stapA && sps != nil && pps != nil:
			if stapAHeaderSize+len(sps)+len(pps) <= mtu {
				p.arena = append(p.arena, h264STAPAIndicator)
				p.arena = binary.BigEndian.AppendUint16(p.arena, uint16(len(sps))) //nolint:gosec // < mtu
				p.arena = append(p.arena, sps...)
				p.arena = binary.BigEndian.AppendUint16(p.arena, uint16(len(pps))) //nolint:gosec // < mtu
				p.arena = append(p.arena, pps...)
				p.cut()
			}
			sps, pps = nil, nil
		}
		if len(nalu) <= mtu {
			p.arena = append(p.arena, nalu...)
			p.cut()
			return true
		}
		// FU-A (RFC 6184 §5.8): the NAL header byte becomes the FU indicator
		// (F, NRI, type 28) and the FU header (S, E, type).
		maxFragment := mtu - h264FUAHeaderSize
		if maxFragment <= 0 {
			return true
		}
		rest := nalu[1:]
		for first := true; len(rest) > 0; first = false {
			n := min(maxFragment, len(rest))
			header := byte(typ)
			switch {
			case first:
				header |= h264FUStart
			case n == len(rest):
				header |= h264FUEnd
			}
			p.arena = append(p.arena, h264FUAType|nalu[0]&h264RefIdcMask, header)
			p.arena = append(p.arena, rest[:n]...)
			p.cut()
			rest = rest[n:]
		}
		return true
	})
}
