package rtp

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// exactTicks is floor(d*rate/1e9 + 1/2) mod 2^32 in big.Int arithmetic: the
// reference ptsTicks must match exactly.
func exactTicks(d time.Duration, rate uint32) uint32 {
	num := new(big.Int).Mul(big.NewInt(int64(d)), big.NewInt(int64(rate)))
	num.Mul(num, big.NewInt(2))
	num.Add(num, big.NewInt(1e9))
	q := new(big.Int)
	q.Div(num, big.NewInt(2e9)) // Euclidean division: floor for a positive divisor
	return uint32(new(big.Int).Mod(q, new(big.Int).Lsh(big.NewInt(1), 32)).Uint64())
}

func TestPTSTicks(t *testing.T) {
	cases := []struct {
		d    time.Duration
		rate uint32
		want uint32
	}{
		{0, 90000, 0},
		{time.Second, 90000, 90000},
		{time.Second, 48000, 48000},
		{20 * time.Millisecond, 48000, 960},
		{33_366_666, 90000, 3003}, // 1001/30000 s truncated to ns: rounds up to the exact tick
		{33_366_667, 90000, 3003},
		{5_555, 90000, 0}, // 0.49995 ticks
		{5_556, 90000, 1}, // 0.50004 ticks
		{-33_366_666, 90000, uint32(1<<32 - 3003)},
		{-time.Second, 48000, uint32(1<<32 - 48000)},
		{48 * time.Hour, 90000, uint32(48 * 3600 * 90000 % (1 << 32))},
		{100 * 24 * time.Hour, 90000, uint32(uint64(100*24*3600) * 90000 % (1 << 32))},
	}
	for _, c := range cases {
		if got := ptsTicks(c.d, c.rate); got != c.want {
			t.Errorf("ptsTicks(%d ns, %d) = %d, want %d", int64(c.d), c.rate, got, c.want)
		}
		if got := exactTicks(c.d, c.rate); got != c.want {
			t.Errorf("exactTicks(%d ns, %d) = %d, want %d (test table wrong?)", int64(c.d), c.rate, got, c.want)
		}
	}
}

func TestPTSTicksMatchesBigInt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	extremes := []time.Duration{math.MaxInt64, math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 499_999_999, 1, -1}
	for _, rate := range []uint32{90000, 48000, 8000, 1, math.MaxUint32} {
		for _, d := range extremes {
			if got, want := ptsTicks(d, rate), exactTicks(d, rate); got != want {
				t.Errorf("ptsTicks(%d, %d) = %d, want %d", int64(d), rate, got, want)
			}
		}
		for range 20000 {
			d := time.Duration(r.Int64())
			switch r.IntN(3) {
			case 0:
				d = time.Duration(r.Int64N(int64(72 * time.Hour)))
			case 1:
				d = -d
			}
			if got, want := ptsTicks(d, rate), exactTicks(d, rate); got != want {
				t.Fatalf("ptsTicks(%d, %d) = %d, want %d", int64(d), rate, got, want)
			}
		}
	}
}

// TestNoDrift48h feeds 48 hours of 29.97 fps PTS values (1001/30000 s steps,
// truncated to whole ns like GStreamer's gst_util_uint64_scale), starting at
// an arbitrary running time, and compares every RTP timestamp with exact
// rational math, both of the ns PTS and of the true frame time.
func TestNoDrift48h(t *testing.T) {
	const frames = 48 * 3600 * 30000 / 1001
	start := 3*time.Hour + 123_456_789
	for _, c := range []Codec{CodecH264, CodecOpus} {
		rate := c.ClockRate()
		p := mustPacketizer(t, c, 0)
		base := p.anchorTS
		step := 1
		if testing.Short() {
			step = 101
		}
		for n := int64(0); n < frames; n += int64(step) {
			pts := start + time.Duration(n*1001*int64(time.Second)/30000)
			got := p.timestamp(pts) - base
			// True frame time n*1001/30000 s in ticks, rounded to nearest (at
			// 48 kHz it is k*1601.6, never a half): exact in int64 here.
			num := n * 1001 * int64(rate)
			trueTicks := uint32((2*num + 30000) / 60000) //nolint:gosec
			if got != trueTicks {
				t.Fatalf("%v frame %d: ts-base %d, exact frame time gives %d", c, n, got, trueTicks)
			}
			if n%31 == 0 { // big.Int on the ns PTS itself, sampled to keep -race fast
				if want := exactTicks(pts, rate) - exactTicks(start, rate); got != want {
					t.Fatalf("%v frame %d: ts-base %d, exact PTS math gives %d", c, n, got, want)
				}
			}
		}
		if c == CodecH264 {
			last := p.timestamp(start+time.Duration(int64(frames)*1001*int64(time.Second)/30000)) - base
			if want := uint32(uint64(frames) * 3003 % (1 << 32)); last != want {
				t.Errorf("after 48 h: %d, want %d", last, want)
			}
		}
	}
}

func TestTimestampFromPTS(t *testing.T) {
	p := mustPacketizer(t, CodecH264, 0)
	base := p.anchorTS
	at := func(pts time.Duration) uint32 { return p.Packetize(h264DeltaAU(100), pts)[0].Timestamp - base }
	steps := []struct {
		pts  time.Duration
		want uint32
	}{
		{10 * time.Second, 0}, // first PTS anchors at the random base
		{10*time.Second + 40*time.Millisecond, 3600},
		{11 * time.Second, 90000},                      // dropped frames: the gap is kept
		{10*time.Second + 960*time.Millisecond, 86400}, // PTS may go back (B-frames)
	}
	for _, s := range steps {
		if got := at(s.pts); got != s.want {
			t.Errorf("pts %v: ts-base %d, want %d", s.pts, got, s.want)
		}
	}
}

func TestTimestampWithoutPTS(t *testing.T) {
	for _, c := range []Codec{CodecVP8, CodecOpus} {
		p := mustPacketizer(t, c, 0)
		base := p.anchorTS
		f := fallbackFrameTicks(c)
		steps := []struct {
			pts  time.Duration
			want uint32
		}{
			{-1, 0},                  // no PTS yet: the random base
			{-1, f},                  // one frame later
			{5 * time.Second, 2 * f}, // first real PTS anchors after the guessed ones
			{-1, 3 * f},
			{6 * time.Second, 2*f + c.ClockRate()}, // back on the PTS timeline
		}
		for i, s := range steps {
			if got := p.timestamp(s.pts) - base; got != s.want {
				t.Errorf("%v step %d (pts %v): ts-base %d, want %d", c, i, s.pts, got, s.want)
			}
		}
	}
	if fallbackFrameTicks(CodecH264) != 3000 || fallbackFrameTicks(CodecOpus) != 960 {
		t.Errorf("fallback ticks %d / %d", fallbackFrameTicks(CodecH264), fallbackFrameTicks(CodecOpus))
	}
}
