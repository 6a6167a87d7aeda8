package rtp

import "time"

// ptsTicks converts a PTS difference d into RTP clock ticks at clockRate,
// rounded to the nearest tick, modulo 2^32 (the RTP timestamp is 32 bits and
// wraps, RFC 3550 §5.1).
//
// Why not int64(d)*clockRate/1e9: at 90 kHz that product overflows int64 after
// ~28 hours. Splitting d into whole seconds and a sub-second remainder keeps
// every intermediate in range (remainder*clockRate < 1e9*2^32 < 2^63), and the
// whole-second product may wrap in two's complement without harm because only
// its value mod 2^32 is kept.
//
// Why round to nearest instead of truncating: GStreamer quantises PTS to whole
// nanoseconds (usually rounding down), so a 29.97 fps frame at exactly 3003n
// ticks arrives as 3003n - 0.00006 ticks; truncation would turn that into
// 3003n-1 and make the frame interval jitter between 3002 and 3003.
//
// Each timestamp is computed from the absolute distance to the anchor, never
// by accumulating per-frame increments, so there is no cumulative drift.
func ptsTicks(d time.Duration, clockRate uint32) uint32 {
	const nsPerSec = int64(time.Second)
	q, r := int64(d)/nsPerSec, int64(d)%nsPerSec
	if r < 0 { // floor division, so the rounding below is symmetric for d < 0
		r += nsPerSec
		q--
	}
	rate := int64(clockRate)
	return uint32(q*rate + (r*rate+nsPerSec/2)/nsPerSec) //nolint:gosec // wrap mod 2^32 is intended
}

// fallbackFrameTicks is how far the timestamp advances for a frame without a
// PTS: one frame at 30 fps for video, one 20 ms Opus frame (RFC 7587's usual
// ptime) for audio. It is only a guess; frames without PTS are rare and the
// next frame with a PTS puts the timeline back on its anchor.
func fallbackFrameTicks(c Codec) uint32 {
	if c == CodecOpus {
		return c.ClockRate() / 50
	}
	return c.ClockRate() / 30
}
