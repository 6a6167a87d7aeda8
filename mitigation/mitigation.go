// Package mitigation decides when golivekitsink scales down or halves the
// frame rate of raw video it encodes because the uplink estimate is low
// (enable-mitigation-modes). The thresholds are webrtcsink's (gst-plugins-rs
// net/webrtc, VideoEncoder::set_bitrate): below 2 Mbit/s at most 720 lines,
// below 1 Mbit/s at most 360, below 500 kbit/s also half the frame rate.
// webrtcsink applies them on every estimate; here a step back up waits
// until the estimate is 25% above the threshold, so an estimate that
// hovers around one does not flap the caps (each change renegotiates the
// encoder).
package mitigation

import (
	"strconv"
	"strings"
)

// Mode is the enable-mitigation-modes flags value: which mitigations are
// allowed, or which are in effect.
type Mode int

const (
	Downscaled  Mode = 1
	Downsampled Mode = 2
)

func (m Mode) String() string {
	var s []string
	if m&Downscaled != 0 {
		s = append(s, "downscaled")
	}
	if m&Downsampled != 0 {
		s = append(s, "downsampled")
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "+")
}

// Input is the raw video as it arrives.
type Input struct {
	Width, Height int
	FpsN, FpsD    int
}

// State is what the encoder gets: Level 0 is the input as it is.
type State struct {
	Level         int
	Mode          Mode
	Width, Height int // 0: the input's
	FpsN, FpsD    int // 0: the input's
}

// levels: bitrate below which the level applies, and its limits.
var levels = []struct {
	below     int
	maxHeight int
	halveFps  bool
}{
	{2_000_000, 720, false},
	{1_000_000, 360, false},
	{500_000, 360, true},
}

const recoverFactor = 1.25

// levelFor is the level webrtcsink would pick for bps.
func levelFor(bps float64) int {
	lvl := 0
	for i, l := range levels {
		if bps < float64(l.below) {
			lvl = i + 1
		}
	}
	return lvl
}

// Next is the state for estimate bps given the current level and the
// allowed modes.
func Next(in Input, allowed Mode, bps int, current int) State {
	lvl := levelFor(float64(bps))
	if lvl < current {
		// Back up only once the estimate is well above the threshold.
		lvl = max(levelFor(float64(bps)/recoverFactor), lvl)
		lvl = min(lvl, current)
	}
	st := State{Level: lvl}
	if lvl == 0 {
		return st
	}
	l := levels[lvl-1]
	if allowed&Downscaled != 0 && in.Height > l.maxHeight && in.Width > 0 {
		st.Height = l.maxHeight
		st.Width = (in.Width*l.maxHeight/in.Height + 1) &^ 1
		st.Mode |= Downscaled
	}
	if allowed&Downsampled != 0 && l.halveFps && in.FpsN > 0 && in.FpsD > 0 {
		st.FpsN, st.FpsD = in.FpsN, in.FpsD*2
		st.Mode |= Downsampled
	}
	return st
}

// Caps is the raw caps filter for st ("video/x-raw" when nothing is limited).
func (st State) Caps() string {
	c := "video/x-raw"
	if st.Width > 0 {
		c += ",width=" + strconv.Itoa(st.Width) + ",height=" + strconv.Itoa(st.Height)
	}
	if st.FpsN > 0 {
		c += ",framerate=" + strconv.Itoa(st.FpsN) + "/" + strconv.Itoa(st.FpsD)
	}
	return c
}
