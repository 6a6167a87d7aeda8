package rtp

import "bytes"

// H.264 NAL unit types (ITU-T H.264 Table 7-1, RFC 6184 §1.3).
const (
	h264NALIDR    = 5
	h264NALSPS    = 7
	h264NALPPS    = 8
	h264NALAUD    = 9
	h264NALFiller = 12
)

// H.265 NAL unit types (ITU-T H.265 Table 7-1, RFC 7798 §1.1.4).
const (
	h265NALBLAWLP   = 16 // first IRAP type
	h265NALCRA      = 21 // last IRAP type
	h265NALVPS      = 32
	h265NALSPS      = 33
	h265NALPPS      = 34
	stapAHeaderSize = 1 + 2 + 2 // STAP-A NAL header + two 16-bit NALU sizes (RFC 6184 §5.7.1)
)

var startCode3 = []byte{0, 0, 1}

// forEachNALU calls fn for each NAL unit of an Annex-B byte stream until fn
// returns false. It splits exactly like pion's payloaders (codecs.emitNalus):
// on 00 00 01, dropping one zero before a start code as part of a 4-byte start
// code, and treating a buffer without any start code as a single NAL unit.
// Matching pion matters for h264StapASafe, which predicts what the
// H264Payloader will do with the same NAL units. fn may receive empty slices.
func forEachNALU(b []byte, fn func(nalu []byte) bool) {
	start := bytes.Index(b, startCode3)
	if start < 0 {
		if len(b) > 0 {
			fn(b)
		}
		return
	}
	offset := 3
	for start < len(b) {
		end := bytes.Index(b[start+offset:], startCode3)
		if end < 0 {
			fn(b[start+offset:])
			return
		}
		next := start + offset + end
		is4 := b[next-1] == 0
		if is4 {
			next--
		}
		if !fn(b[start+offset : next]) {
			return
		}
		start = next
		offset = 3
		if is4 {
			offset = 4
		}
	}
}

// ForEachNALU calls fn for each NAL unit of an Annex-B access unit until fn
// returns false, split exactly as the Packetizer's H.264 and H.265 payloaders
// split it. Each nalu is a subslice of au; fn may receive empty slices.
func ForEachNALU(au []byte, fn func(nalu []byte) bool) { forEachNALU(au, fn) }

func h264NALType(nalu []byte) int { return int(nalu[0] & 0x1f) }

func h265NALType(nalu []byte) int { return int(nalu[0]>>1) & 0x3f }

// h264StapASafe reports whether pion's H264Payloader, fresh for this access
// unit and with STAP-A enabled, would send every SPS and PPS in au.
//
// The payloader holds back the last SPS and PPS and emits them as one STAP-A
// (RFC 6184 §5.7.1) in front of the next other NAL unit. It silently loses
// parameter sets when a second SPS or PPS overwrites a held one, when they are
// the last NAL units of the buffer (nothing follows to flush them; keeping
// them for the next call would also alias the caller's buffer), or when the
// STAP-A would exceed the MTU. In those cases the caller disables STAP-A and
// each parameter set goes out as its own packet instead.
func h264StapASafe(au []byte, mtu int) bool {
	sps, pps := -1, -1
	ok := true
	forEachNALU(au, func(nalu []byte) bool {
		if len(nalu) == 0 {
			return true
		}
		switch h264NALType(nalu) {
		case h264NALAUD, h264NALFiller:
		case h264NALSPS:
			ok = sps < 0
			sps = len(nalu)
		case h264NALPPS:
			ok = pps < 0
			pps = len(nalu)
		default:
			if sps >= 0 && pps >= 0 {
				ok = stapAHeaderSize+sps+pps <= mtu
				sps, pps = -1, -1
			}
		}
		return ok
	})
	return ok && sps < 0 && pps < 0
}

// HasParameterSets reports whether frame carries the parameter sets a decoder
// needs to start: SPS and PPS for H.264 (RFC 6184), VPS, SPS and PPS for H.265
// (RFC 7798), a sequence header OBU for AV1. VP8, VP9 and Opus have no
// separate parameter sets, so it reports true for them: a caller can gate on
// IsKeyframe(c, f) && HasParameterSets(c, f) for any codec. It reports false
// for CodecUnknown.
func HasParameterSets(c Codec, frame []byte) bool {
	switch c {
	case CodecH264:
		var sps, pps bool
		forEachNALU(frame, func(nalu []byte) bool {
			if len(nalu) > 0 {
				switch h264NALType(nalu) {
				case h264NALSPS:
					sps = true
				case h264NALPPS:
					pps = true
				}
			}
			return !(sps && pps)
		})
		return sps && pps
	case CodecH265:
		var vps, sps, pps bool
		forEachNALU(frame, func(nalu []byte) bool {
			if len(nalu) >= 2 {
				switch h265NALType(nalu) {
				case h265NALVPS:
					vps = true
				case h265NALSPS:
					sps = true
				case h265NALPPS:
					pps = true
				}
			}
			return !(vps && sps && pps)
		})
		return vps && sps && pps
	case CodecAV1:
		return av1HasSequenceHeader(frame)
	case CodecVP8, CodecVP9, CodecOpus:
		return true
	}
	return false
}

// h264HasIDR reports whether an H.264 access unit contains an IDR slice.
func h264HasIDR(au []byte) bool {
	found := false
	forEachNALU(au, func(nalu []byte) bool {
		found = len(nalu) > 0 && h264NALType(nalu) == h264NALIDR
		return !found
	})
	return found
}

// h265HasIRAP reports whether an H.265 access unit contains an IRAP picture
// (BLA, IDR or CRA, NAL types 16..21): a decoder can start there.
func h265HasIRAP(au []byte) bool {
	found := false
	forEachNALU(au, func(nalu []byte) bool {
		if len(nalu) >= 2 {
			t := h265NALType(nalu)
			found = t >= h265NALBLAWLP && t <= h265NALCRA
		}
		return !found
	})
	return found
}
