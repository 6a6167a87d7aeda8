package harness

import (
	"strings"
	"time"
)

// isKeyframePacket tells whether an RTP payload starts a decodable picture:
// H264 IDR or SPS (single NAL, STAP-A or the first FU-A fragment, RFC 6184),
// VP8 key frame (RFC 7741 payload descriptor, then the frame tag's P bit),
// VP9 first packet of a picture that is not inter-predicted (RFC 9628 B=1, P=0),
// AV1 first packet of a coded video sequence (aggregation header N bit).
func isKeyframePacket(mime string, p []byte) bool {
	if len(p) < 2 {
		return false
	}
	switch strings.ToLower(mime) {
	case "video/h264":
		switch t := p[0] & 0x1f; t {
		case 5, 7:
			return true
		case 24: // STAP-A: 16-bit sizes, each followed by a NAL
			for i := 1; i+2 < len(p); {
				n := int(p[i])<<8 | int(p[i+1])
				if i+2 < len(p) {
					if nt := p[i+2] & 0x1f; nt == 5 || nt == 7 {
						return true
					}
				}
				i += 2 + n
			}
		case 28: // FU-A: start bit and the fragmented NAL's type
			return p[1]&0x80 != 0 && p[1]&0x1f == 5
		}
	case "video/vp8":
		i := 1
		if p[0]&0x80 != 0 { // X: extension bits follow
			x := p[1]
			i = 2
			if x&0x80 != 0 { // I: picture id, 1 or 2 bytes
				if i < len(p) && p[i]&0x80 != 0 {
					i++
				}
				i++
			}
			if x&0x40 != 0 { // L
				i++
			}
			if x&0x30 != 0 { // T or K
				i++
			}
		}
		start := p[0]&0x10 != 0 && p[0]&0x07 == 0
		return start && i < len(p) && p[i]&0x01 == 0
	case "video/vp9":
		return p[0]&0x08 != 0 && p[0]&0x40 == 0
	case "video/av1":
		return p[0]&0x08 != 0
	}
	return false
}

// FirstKeyframeAfter is when the first keyframe packet of kind arrived after t
// (zero if none did).
func (s *Subscriber) FirstKeyframeAfter(kind string, t time.Time) time.Time {
	return s.firstKeyframe(kind, func(_ *trackRecorder, at time.Time) bool { return at.After(t) })
}

// FirstKeyframeOnNewTrack is when the first keyframe packet of kind arrived
// on a track subscribed after t: after a full reconnect the old track may
// still carry a frame or two, but only the new one shows the new session.
func (s *Subscriber) FirstKeyframeOnNewTrack(kind string, t time.Time) time.Time {
	return s.firstKeyframe(kind, func(tr *trackRecorder, _ time.Time) bool { return tr.rec.SubscribedAt.After(t) })
}

// firstKeyframe is the earliest keyframe packet of kind that keep accepts
// (called with the track's lock held).
func (s *Subscriber) firstKeyframe(kind string, keep func(tr *trackRecorder, at time.Time) bool) time.Time {
	var first time.Time
	for _, tr := range s.recorders(kind) {
		tr.mu.Lock()
		for _, p := range tr.rec.Packets {
			if p.Keyframe && keep(tr, p.At) && (first.IsZero() || p.At.Before(first)) {
				first = p.At
			}
		}
		tr.mu.Unlock()
	}
	return first
}

// LastPacketBefore is when the last packet of kind arrived before t.
func (s *Subscriber) LastPacketBefore(kind string, t time.Time) time.Time {
	var last time.Time
	for _, a := range s.arrivals(kind) {
		if a.Before(t) && a.After(last) {
			last = a
		}
	}
	return last
}
