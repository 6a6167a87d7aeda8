package rtp

// Synthetic, real-shaped frames for the tests, fuzz seeds and benchmarks.

// fill returns n bytes that never contain 00 00 (so no accidental start
// codes or emulation-prevention issues) and differ per seed.
func fill(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7+int(seed))%251) + 1
	}
	return b
}

func annexB(nalus ...[]byte) []byte {
	var au []byte
	for i, n := range nalus {
		if i == 0 {
			au = append(au, 0, 0, 0, 1) // 4-byte start code first, as x264 does
		} else {
			au = append(au, 0, 0, 1)
		}
		au = append(au, n...)
	}
	return au
}

func nal(header []byte, size int, seed byte) []byte {
	n := append([]byte{}, header...)
	return append(n, fill(size-len(header), seed)...)
}

// Real SPS/PPS from a 1080p x264 stream (profile High, level 4.0).
var (
	h264SPS = []byte{0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58}
	h264PPS = []byte{0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0}
	h264AUD = []byte{0x09, 0xf0}
	h264SEI = nal([]byte{0x06, 0x05}, 40, 3)
)

func h264IDR(size int) []byte   { return nal([]byte{0x65, 0x88}, size, 5) } // nal_ref_idc 3, type 5
func h264Slice(size int) []byte { return nal([]byte{0x41, 0x9a}, size, 1) } // nal_ref_idc 2, type 1

func h264KeyAU(idrSize int) []byte {
	return annexB(h264AUD, h264SPS, h264PPS, h264SEI, h264IDR(idrSize))
}
func h264DeltaAU(size int) []byte { return annexB(h264AUD, h264Slice(size)) }

// Real VPS/SPS/PPS from an x265 stream.
var (
	h265VPS = []byte{0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0x95, 0x98, 0x09}
	h265SPS = []byte{0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a, 0x70, 0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x04}
	h265PPS = []byte{0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40}
	h265AUD = []byte{0x46, 0x01, 0x10}
)

func h265IDR(size int) []byte   { return nal([]byte{0x26, 0x01}, size, 9) } // IDR_W_RADL (19)
func h265CRA(size int) []byte   { return nal([]byte{0x2a, 0x01}, size, 9) } // CRA_NUT (21)
func h265Trail(size int) []byte { return nal([]byte{0x02, 0x01}, size, 2) } // TRAIL_R (1)

func h265KeyAU(idrSize int) []byte {
	return annexB(h265AUD, h265VPS, h265SPS, h265PPS, h265IDR(idrSize))
}

// vp8Frame builds a VP8 frame (RFC 6386 §9.1): 3-byte frame tag
// (key_frame bit 0 = key, version, show_frame, first_part_size), and for key
// frames the start code 9d 01 2a and 14-bit width/height.
func vp8Frame(key bool, size int) []byte {
	const firstPart = 100
	tag := uint32(firstPart)<<5 | 1<<4 // show_frame
	if !key {
		tag |= 1
	}
	f := []byte{byte(tag), byte(tag >> 8), byte(tag >> 16)}
	if key {
		f = append(f, 0x9d, 0x01, 0x2a, 0x80, 0x07, 0x38, 0x04) // 1920x1080
	}
	return append(f, fill(size-len(f), 7)...)
}

// bitWriter packs big-endian bit fields.
type bitWriter struct {
	b []byte
	n int
}

func (w *bitWriter) put(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte((v>>i)&1) << (7 - w.n%8)
		w.n++
	}
}

// vp9Frame builds a VP9 profile-0 frame whose uncompressed header (VP9
// bitstream spec §6.2) is valid as far as pion's parser and IsKeyframe read.
func vp9Frame(key bool, size int) []byte {
	var w bitWriter
	w.put(2, 2) // frame_marker
	w.put(0, 2) // profile 0
	w.put(0, 1) // show_existing_frame
	if key {
		w.put(0, 1)         // frame_type KEY_FRAME
		w.put(1, 1)         // show_frame
		w.put(0, 1)         // error_resilient_mode
		w.put(0x498342, 24) // frame_sync_code
		w.put(2, 3)         // color_space BT.709
		w.put(0, 1)         // color_range
		w.put(1280-1, 16)   // frame_width_minus_1
		w.put(720-1, 16)    // frame_height_minus_1
		w.put(0, 1)         // render_and_frame_size_different
	} else {
		w.put(1, 1) // frame_type NON_KEY_FRAME
		w.put(1, 1) // show_frame
		w.put(0, 1) // error_resilient_mode
	}
	return append(w.b, fill(size-len(w.b), 11)...)
}

// av1OBU builds an OBU with obu_has_size_field set (low-overhead format).
func av1OBU(typ byte, payload []byte) []byte {
	o := []byte{typ<<3 | 0x02}
	n := len(payload)
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			o = append(o, b)
			break
		}
		o = append(o, b|0x80)
	}
	return append(o, payload...)
}

const (
	av1TemporalDelimiter = 2
	av1Frame             = 6
)

func av1TU(key bool, frameSize int) []byte {
	tu := av1OBU(av1TemporalDelimiter, nil)
	if key {
		// A real 1080p main-profile sequence header payload.
		tu = append(tu, av1OBU(av1OBUSequenceHeader, []byte{0x00, 0x00, 0x00, 0x0a, 0x7f, 0x8e, 0x1f, 0xd3, 0x80, 0x80, 0x80})...)
	}
	return append(tu, av1OBU(av1Frame, fill(frameSize, 13))...)
}

// opusPacket: TOC config 31 (CELT FB 20 ms), mono, code 0.
func opusPacket(size int) []byte {
	return append([]byte{0xf8}, fill(size-1, 17)...)
}
