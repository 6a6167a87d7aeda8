package e2ee

import (
	"crypto/cipher"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// A WebRTC receiver parses the start of every H.264/H.265 slice header in
// the RTP payload, before its decrypt transform runs: the first-slice flag
// (H.265 first_slice_segment_in_pic_flag) to find where frames start, and
// the PPS id of key frames, without which it drops the key frame and asks
// for another (libwebrtc's H.264/H.265 SPS/PPS tracking). livekit-client
// leaves only the NAL header plus one byte in clear, so these fields are
// partly (H.264 IDR: the PPS id) or wholly (H.265) ciphertext, and half the
// H.264 key frames and most H.265 frames were lost in a browser (measured
// with tests/viewer TestE2EEBrowserDecrypts: H.264 decoded 4 of 8 key
// frames, with a PLI for each lost one).
//
// The IV is the sender's to choose and travels in the trailer, so the
// encryptor tries IVs (each from the next frame counter, so still unique)
// until the encrypted slice header reads the same to such a parser as the
// clear one. The first ciphertext bytes are the plaintext XOR the first
// AES-CTR block of GCM (counter IV || 2), so a try costs one AES block.
// Receivers decrypt the result exactly as before.

// maxIVTries bounds the search; each try matches with probability 2^-bits
// of the fields in ciphertext (H.265 key frames: about 3 bits).
const maxIVTries = 256

// predictedLen is how many ciphertext bytes are predicted: one AES block
// covers the fields for any PPS id below 2^7.
const predictedLen = 16

// sliceHeaderKept reports whether encrypting frame[clear:] with iv keeps
// the slice header fields a receiver parses from the slice NAL unit that
// starts at clear-2.
func sliceHeaderKept(block cipher.Block, codec rtp.Codec, frame []byte, clear int, iv []byte) bool {
	nalu := frame[clear-2:]
	want, ok := sliceFields(codec, nalu)
	if !ok {
		return true // nothing a parser could read; no IV does better
	}
	n := min(predictedLen, len(frame)-clear)
	var counter, stream [16]byte
	copy(counter[:], iv)
	counter[15] = 2
	block.Encrypt(stream[:], counter[:])
	predicted := make([]byte, 0, 2+2*n)
	predicted = append(predicted, nalu[:2]...)
	for i := range n {
		predicted = append(predicted, frame[clear+i]^stream[i])
	}
	predicted = append(predicted[:2], escapeRBSP(predicted[2:])...)
	got, ok := sliceFields(codec, predicted)
	return ok && got == want
}

// sliceFields reads what libwebrtc's depacketizers read of a slice header
// (after removing emulation prevention bytes): H.264 first_mb_in_slice,
// slice_type and pic_parameter_set_id; H.265 first_slice_segment_in_pic_flag,
// no_output_of_prior_pics_flag (IRAP pictures) and slice_pic_parameter_set_id.
func sliceFields(codec rtp.Codec, nalu []byte) ([3]uint32, bool) {
	var f [3]uint32
	if codec == rtp.CodecH265 {
		r := bitReader{b: unescapeRBSP(nalu[2:])}
		f[0] = r.bits(1)
		if t := (nalu[0] >> 1) & 0x3f; t >= 16 && t <= 23 { // IRAP
			f[1] = r.bits(1)
		}
		f[2] = r.ue()
		return f, r.ok()
	}
	r := bitReader{b: unescapeRBSP(nalu[1:])}
	f[0], f[1], f[2] = r.ue(), r.ue(), r.ue()
	return f, r.ok()
}

// bitReader reads big-endian bits; reading past the end sets a flag.
type bitReader struct {
	b    []byte
	pos  int
	fail bool
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		if r.pos >= 8*len(r.b) {
			r.fail = true
			return 0
		}
		v = v<<1 | uint32(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

// ue reads an unsigned Exp-Golomb code (H.264 §9.1), up to 31 leading zeros.
func (r *bitReader) ue() uint32 {
	zeros := 0
	for r.bits(1) == 0 && !r.fail {
		if zeros++; zeros > 31 {
			r.fail = true
			return 0
		}
	}
	return (1<<zeros - 1) + r.bits(zeros)
}

func (r *bitReader) ok() bool { return !r.fail }
