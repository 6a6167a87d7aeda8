package e2ee

import (
	"errors"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// This file mirrors livekit-client's src/e2ee/worker/naluUtils.ts and the
// RBSP helpers of src/e2ee/utils.ts, which decide how many bytes of an
// H.264/H.265 access unit stay clear and escape the rest.

var errNoSlice = errors.New("e2ee: access unit has no slice NAL unit")

// naluIndices returns where each NAL unit starts (after its start code), as
// livekit-client's findNALUIndices does. It fails on data before the first
// start code, as livekit-client does.
func naluIndices(b []byte) ([]int, error) {
	var out []int
	start, pos, search := 0, 0, len(b)-3
	for pos < search {
		for pos < search {
			if pos < search-1 && b[pos] == 0 && b[pos+1] == 0 && b[pos+2] == 0 && b[pos+3] == 1 {
				break
			}
			if b[pos] == 0 && b[pos+1] == 0 && b[pos+2] == 1 {
				break
			}
			pos++
		}
		if pos >= search {
			pos = len(b)
		}
		end := pos
		for end > start && b[end-1] == 0 {
			end--
		}
		if start == 0 {
			if end != start {
				return nil, errors.New("e2ee: access unit has data before its first start code")
			}
		} else {
			out = append(out, start)
		}
		startCode := 3
		if pos < len(b)-3 && b[pos] == 0 && b[pos+1] == 0 && b[pos+2] == 0 && b[pos+3] == 1 {
			startCode = 4
		}
		start = pos + startCode
		pos = start
	}
	return out, nil
}

func isH264Slice(header byte) bool {
	t := header & 0x1f
	return t == 1 || t == 5 // non-IDR, IDR
}

func isH265Slice(header byte) bool {
	t := (header >> 1) & 0x3f
	return t <= 9 || (t >= 16 && t <= 21) // TRAIL_N..RASL_R, BLA_W_LP..CRA_NUT
}

// h26xClearBytes is livekit-client's processNALUsForEncryption: the bytes
// decide between H.264 and H.265 (H.264 slices first), codec only breaks a
// tie, and everything up to the first slice NAL unit's header plus one byte
// stays clear.
func h26xClearBytes(b []byte, codec rtp.Codec) (int, error) {
	indices, err := naluIndices(b)
	if err != nil {
		return 0, err
	}
	isSlice := isH264Slice
	switch {
	case anyNALU(b, indices, isH264Slice):
	case anyNALU(b, indices, isH265Slice):
		isSlice = isH265Slice
	case codec == rtp.CodecH265:
		isSlice = isH265Slice
	}
	for _, i := range indices {
		if isSlice(b[i]) {
			return i + 2, nil
		}
	}
	return 0, errNoSlice
}

func anyNALU(b []byte, indices []int, pred func(byte) bool) bool {
	for _, i := range indices {
		if pred(b[i]) {
			return true
		}
	}
	return false
}

// packetizedForm rewrites an access unit as the receiver's depacketizer will
// rebuild it, up to the first slice: the NAL units the packetizer sends
// (rtp.ForEachNALU; no empty ones, no access unit delimiters or filler data,
// which pion's payloaders drop), each behind a 4-byte start code. From the
// first slice on the bytes are kept as they are: they will be encrypted.
// The clear bytes are AES-GCM additional data, so they must be exactly what
// the subscriber sees.
func packetizedForm(au []byte, codec rtp.Codec) []byte {
	out := make([]byte, 0, len(au)+16)
	rtp.ForEachNALU(au, func(nalu []byte) bool {
		if len(nalu) == 0 || droppedByPayloader(nalu, codec) {
			return true
		}
		out = append(out, 0, 0, 0, 1)
		if isFirstSlice(nalu[0], codec) {
			offset := cap(au) - cap(nalu) // nalu is au[offset:...]
			out = append(out, au[offset:]...)
			return false
		}
		out = append(out, nalu...)
		return true
	})
	return out
}

func isFirstSlice(header byte, codec rtp.Codec) bool {
	if codec == rtp.CodecH265 {
		return isH265Slice(header)
	}
	return isH264Slice(header)
}

// droppedByPayloader reports the NAL units pion's H264Payloader and
// H265Payloader never send.
func droppedByPayloader(nalu []byte, codec rtp.Codec) bool {
	if codec == rtp.CodecH265 {
		t := (nalu[0] >> 1) & 0x3f
		// AUD, FD; aggregation, fragmentation and PACI packets; too short.
		return len(nalu) < 2 || t == 35 || t == 38 || t == 48 || t == 49 || t == 50
	}
	t := nalu[0] & 0x1f
	return t == 9 || t == 12 // AUD, filler data
}

// escapeRBSP is livekit-client's writeRbsp: an emulation prevention byte 03
// goes before any byte <= 03 that follows two zeros.
func escapeRBSP(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(in)/64+4)
	zeros := 0
	for _, c := range in {
		if c <= 3 && zeros >= 2 {
			out = append(out, 3)
			zeros = 0
		}
		out = append(out, c)
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
	}
	return out
}

// needsUnescaping is livekit-client's needsRbspUnescaping (which, like the
// original, does not look at the last three bytes).
func needsUnescaping(b []byte) bool {
	for i := 0; i < len(b)-3; i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 3 {
			return true
		}
	}
	return false
}

// unescapeRBSP is livekit-client's parseRbsp: drops the 03 of every 00 00 03.
func unescapeRBSP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		if len(in)-i >= 3 && in[i] == 0 && in[i+1] == 0 && in[i+2] == 3 {
			out = append(out, 0, 0)
			i += 3
			continue
		}
		out = append(out, in[i])
		i++
	}
	return out
}
