// Package simulcast plans the layers golivekitsink encodes itself from raw
// video (sizes, qualities, bitrates) and shares a bitrate among them.
// Pure Go: the plugin only builds elements from the plan.
package simulcast

import (
	"fmt"
	"math"

	"github.com/golivekitsink/golivekitsink/session"
)

// Ratios of each layer's bitrate to the full layer's, from livekit-client's
// defaults for a 720p camera (src/room/track/options.ts: VideoPresets.h720
// 1.7 Mbit/s for the track, simulcast layers h360 450 kbit/s and h180
// 160 kbit/s; the Rust and Go SDKs use the same presets).
const (
	halfRatio    = 450.0 / 1700.0
	quarterRatio = 160.0 / 1700.0
)

// Layer is one layer to encode: its quality, size and its share of the
// pad's bitrate (ratio of the full layer's bitrate).
type Layer struct {
	session.LayerSpec
	ratio float64
}

// Plan returns the layers of a raw video input of width x height encoded
// n times (2 or 3): full (HIGH), half (MEDIUM with 3 layers, LOW with 2)
// and quarter (LOW) size, low to high as LiveKit orders them. Sizes are
// even (4:2:0 encoders need it) and at least 16 pixels.
func Plan(width, height, n int) ([]Layer, error) {
	if n < 2 || n > 3 {
		return nil, fmt.Errorf("simulcast needs 2 or 3 layers, not %d", n)
	}
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("simulcast needs a known video size, not %dx%d", width, height)
	}
	scaled := func(div int) (int, int) {
		return max(16, (width/div)&^1), max(16, (height/div)&^1)
	}
	fw, fh := width, height
	hw, hh := scaled(2)
	qw, qh := scaled(4)
	full := Layer{session.LayerSpec{Quality: session.QualityHigh, Width: fw, Height: fh}, 1}
	if n == 2 {
		return []Layer{
			{session.LayerSpec{Quality: session.QualityLow, Width: hw, Height: hh}, halfRatio},
			full,
		}, nil
	}
	return []Layer{
		{session.LayerSpec{Quality: session.QualityLow, Width: qw, Height: qh}, quarterRatio},
		{session.LayerSpec{Quality: session.QualityMedium, Width: hw, Height: hh}, halfRatio},
		full,
	}, nil
}

// Split shares total (bit/s, the pad's bitrate) among layers in their
// ratios, so that each keeps its relative quality as the estimate moves
// (the browser instead drops the top layer first; with dynacast the SFU
// already asks for fewer layers when subscribers cannot take them).
// A paused layer (enabled[q] false) gets nothing and its share goes to
// the others. Each layer gets at least minPerLayer.
func Split(total int, layers []Layer, enabled map[session.Quality]bool, minPerLayer int) []int {
	sum := 0.0
	for _, l := range layers {
		if on(enabled, l.Quality) {
			sum += l.ratio
		}
	}
	out := make([]int, len(layers))
	for i, l := range layers {
		if !on(enabled, l.Quality) || sum == 0 {
			out[i] = minPerLayer
			continue
		}
		out[i] = max(minPerLayer, int(math.Round(float64(total)*l.ratio/sum)))
	}
	return out
}

// Specs returns the layers as the session wants them, with each layer's
// bitrate when the pad gets total.
func Specs(layers []Layer, total int) []session.LayerSpec {
	rates := Split(total, layers, nil, 0)
	out := make([]session.LayerSpec, len(layers))
	for i, l := range layers {
		out[i] = l.LayerSpec
		out[i].MaxBitrate = rates[i]
	}
	return out
}

func on(enabled map[session.Quality]bool, q session.Quality) bool {
	if enabled == nil {
		return true
	}
	v, ok := enabled[q]
	return !ok || v
}
