package rtp

import (
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs/vp9"
)

// PacketizeEncrypted packetizes frame, the end-to-end encrypted form of
// clear (see the e2ee package). Only VP9 needs clear: livekit-client
// encrypts VP9 frames whole, and the payload descriptor (RFC 9628) is made
// from the uncompressed header, exactly as VP9Payloader makes it from a
// clear frame (non-flexible mode, 15-bit PictureID, scalability structure
// with the resolution on key frames). Other codecs keep what their
// payloader reads in clear and go through Packetize.
func (p *Packetizer) PacketizeEncrypted(frame, clear []byte, pts time.Duration) []*rtp.Packet {
	if p.codec != CodecVP9 {
		return p.Packetize(frame, pts)
	}
	ts := p.timestamp(pts)
	var h vp9.Header
	if len(frame) == 0 || h.Unmarshal(clear) != nil {
		return nil // as VP9Payloader: no packets for an unparsable header
	}
	payloads := vp9NonFlexible(int(p.payloadMTU), p.vp9PictureID, h, frame)
	p.vp9PictureID = (p.vp9PictureID + 1) & 0x7fff
	return p.packets(payloads, ts)
}

// vp9NonFlexible is VP9Payloader's non-flexible mode with the header given:
// descriptor I|P|L|F|B|E|V|Z with I and Z set, P on inter frames, B and E
// on the first and last packet; the PictureID with M set; on the first
// packet of a key frame V and the scalability structure (one spatial layer
// with its resolution, one picture group entry).
func vp9NonFlexible(mtu int, pictureID uint16, h vp9.Header, data []byte) [][]byte {
	var payloads [][]byte
	for index := 0; index < len(data); {
		ss := !h.NonKeyFrame && index == 0
		headerSize := 3
		if ss {
			headerSize += 8
		}
		size := min(mtu-headerSize, len(data)-index)
		if size <= 0 {
			return nil
		}
		out := make([]byte, headerSize+size)
		out[0] = 0x80 | 0x01 // I, Z
		if h.NonKeyFrame {
			out[0] |= 0x40 // P
		}
		if index == 0 {
			out[0] |= 0x08 // B
		}
		if index+size == len(data) {
			out[0] |= 0x04 // E
		}
		out[1], out[2] = byte(pictureID>>8)|0x80, byte(pictureID)
		if ss {
			out[0] |= 0x02 // V
			w, ht := h.Width(), h.Height()
			// N_S=0, Y=1, G=1; WIDTH, HEIGHT; N_G=1; TID=0, U=1, R=1; P_DIFF=1
			copy(out[3:], []byte{0x18, byte(w >> 8), byte(w), byte(ht >> 8), byte(ht), 0x01, 1<<4 | 1<<2, 0x01})
		}
		copy(out[headerSize:], data[index:index+size])
		payloads = append(payloads, out)
		index += size
	}
	return payloads
}
