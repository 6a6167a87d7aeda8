package rtp

// AV1 OBU types (AV1 spec §6.2.2).
const (
	av1OBUSequenceHeader = 1
)

// av1HasSequenceHeader reports whether a temporal unit in low-overhead
// bitstream format (AV1 spec §5.2, what av1parse emits as
// stream-format=obu-stream) contains a sequence header OBU. Malformed input
// ends the walk and reports what was found so far.
func av1HasSequenceHeader(tu []byte) bool {
	for len(tu) > 0 {
		h := tu[0]
		if h&0x80 != 0 { // obu_forbidden_bit
			return false
		}
		typ := (h >> 3) & 0x0f
		if typ == av1OBUSequenceHeader {
			return true
		}
		n := 1
		if h&0x04 != 0 { // obu_extension_flag
			n++
		}
		if h&0x02 == 0 { // no obu_has_size_field: the OBU runs to the end
			return false
		}
		if n > len(tu) {
			return false
		}
		size, m, ok := readLEB128(tu[n:])
		if !ok || size > uint64(len(tu)-n-m) {
			return false
		}
		tu = tu[n+m+int(size):] //nolint:gosec // size <= len(tu) checked above
	}
	return false
}

// readLEB128 decodes an unsigned LEB128 value (AV1 spec §4.10.5, at most 8
// bytes) and returns it with the number of bytes it took.
func readLEB128(b []byte) (v uint64, n int, ok bool) {
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1, true
		}
	}
	return 0, 0, false
}
