package rtp

// ParameterSets puts the last H.264 SPS and PPS in front of every IDR access
// unit that comes without them, which is what h264parse config-interval=-1
// does. A subscriber that joins later, or one whose decoder the SFU restarts
// after a PLI, can only start decoding at an IDR that carries them, and an
// upstream h264parse converting from avc, or an encoder, sends them once.
// The element lets AUs that are already parsed through without a second
// h264parse of its own (plugin/chain.go), so the session does it here.
//
// It keeps the latest SPS and the latest PPS, each whole: streams with
// several parameter set ids at once need h264parse (raw and avc input
// still go through it). The zero value is ready; not safe for concurrent use.
type ParameterSets struct {
	sps, pps []byte // NAL units without start code, copied
}

// Fill returns au, or a new slice with the stored SPS and PPS (each after a
// 4-byte start code) in front of au when au is an IDR access unit that lacks
// either of them and both are known. Parameter sets in au replace the
// stored ones.
func (c *ParameterSets) Fill(au []byte) []byte {
	var sps, pps, idr bool
	forEachNALU(au, func(nalu []byte) bool {
		if len(nalu) == 0 {
			return true
		}
		switch h264NALType(nalu) {
		case h264NALSPS:
			sps = true
			c.sps = append(c.sps[:0], nalu...)
		case h264NALPPS:
			pps = true
			c.pps = append(c.pps[:0], nalu...)
		case 1, 2, 3, 4, h264NALIDR:
			// The first slice says whether this is an IDR picture (an AU
			// does not mix the two), and parameter sets after it do not help
			// a decoder that starts here: the scan stops.
			idr = h264NALType(nalu) == h264NALIDR
			return false
		}
		return true
	})
	if !idr || (sps && pps) || c.sps == nil || c.pps == nil {
		return au
	}
	out := make([]byte, 0, 8+len(c.sps)+len(c.pps)+len(au))
	out = append(append(out, 0, 0, 0, 1), c.sps...)
	out = append(append(out, 0, 0, 0, 1), c.pps...)
	return append(out, au...)
}
