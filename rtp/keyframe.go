package rtp

// IsKeyframe reports whether frame (in the input format Packetize expects for
// c) is a keyframe, i.e. a point where a decoder can start:
//
//   - H.264: the access unit contains an IDR slice (NAL type 5).
//   - H.265: the access unit contains an IRAP picture (NAL types 16..21).
//   - VP8: the frame tag says key frame and the key frame start code follows
//     (RFC 6386 §9.1).
//   - VP9: the uncompressed header has frame_type KEY_FRAME (VP9 bitstream
//     spec §6.2). For a superframe this is the first frame, which starts at
//     offset 0.
//   - AV1: the temporal unit contains a sequence header OBU. Encoders
//     (libaom, SVT-AV1, rav1e, hardware) emit one on every keyframe, and a
//     decoder cannot start without it; parsing the frame header for
//     frame_type would need the sequence header's fields anyway.
//   - Opus: always true, every packet decodes on its own.
//
// It never panics on malformed input and reports false for CodecUnknown.
func IsKeyframe(c Codec, frame []byte) bool {
	switch c {
	case CodecH264:
		return h264HasIDR(frame)
	case CodecH265:
		return h265HasIRAP(frame)
	case CodecVP8:
		return vp8IsKeyframe(frame)
	case CodecVP9:
		return vp9IsKeyframe(frame)
	case CodecAV1:
		return av1HasSequenceHeader(frame)
	case CodecOpus:
		return true
	}
	return false
}

// vp8IsKeyframe: the 3-byte frame tag's bit 0 is 0 for key frames (RFC 6386
// §9.1), and key frames continue with the start code 9d 01 2a plus 4 bytes of
// dimensions. Checking the start code too keeps garbage from passing as a
// keyframe half the time.
func vp8IsKeyframe(f []byte) bool {
	return len(f) >= 10 && f[0]&0x01 == 0 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a
}

// vp9IsKeyframe parses the start of the VP9 uncompressed header (VP9
// bitstream spec §6.2): frame_marker(2)=2, profile_low_bit, profile_high_bit,
// [reserved_zero if profile 3], show_existing_frame, frame_type (0 = key),
// show_frame, error_resilient_mode, then frame_sync_code 49 83 42.
func vp9IsKeyframe(f []byte) bool {
	r := bitReader{b: f}
	if r.bits(2) != 2 {
		return false
	}
	profile := r.bits(1) | r.bits(1)<<1
	if profile == 3 && r.bits(1) != 0 {
		return false
	}
	if r.bits(1) == 1 { // show_existing_frame: repeats a decoded frame
		return false
	}
	if r.bits(1) != 0 { // frame_type NON_KEY_FRAME
		return false
	}
	r.bits(2) // show_frame, error_resilient_mode
	return r.bits(24) == 0x498342 && !r.overrun
}

// bitReader reads big-endian bit fields; reads past the end yield zeros and
// set overrun.
type bitReader struct {
	b       []byte
	pos     int // in bits
	overrun bool
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		i := r.pos >> 3
		bit := uint32(0)
		if i < len(r.b) {
			bit = uint32(r.b[i]>>(7-r.pos&7)) & 1
		} else {
			r.overrun = true
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}
