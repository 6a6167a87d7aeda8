package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"

	"github.com/golivekitsink/golivekitsink/mitigation"
)

// Mitigation modes (enable-mitigation-modes, raw video without simulcast):
// the raw chain has videoscale ! videorate ! capsfilter before its encoder,
// and each bitrate the estimate gives the pad sets the capsfilter to the
// size and frame rate mitigation.Next picks. Every change is posted as a
// golivekitsink-mitigation element message.

// mitigationSteps are the steps the raw video chain gets when any
// mitigation is enabled: pass-through until the filter is narrowed.
func mitigationSteps(allowed int) []chainStep {
	if allowed == 0 {
		return nil
	}
	return []chainStep{
		{factory: "videoscale", mitigation: true},
		{factory: "videorate", mitigation: true, args: [][2]string{{"drop-only", "true"}}},
		{factory: "capsfilter", mitigation: true, args: [][2]string{{"caps", "video/x-raw"}}},
	}
}

// mitigate applies the mitigation for bps (the pad's share of the
// estimate) to p's raw chain and posts the change, if any.
func (e *element) mitigate(p *sinkPad, bps int) {
	e.mu.Lock()
	allowed := mitigation.Mode(e.props.ref.mitigation)
	e.mu.Unlock()
	p.mu.Lock()
	c := p.chain
	if c == nil || c.mitigationFilter == nil {
		p.mu.Unlock()
		return
	}
	st := mitigation.Next(c.spec.input, allowed, bps, c.mitigationLevel)
	if st.Level == c.mitigationLevel {
		p.mu.Unlock()
		return
	}
	c.mitigationLevel = st.Level
	caps := st.Caps()
	if caps == c.mitigationCaps || c.mitigationCaps == "" && caps == "video/x-raw" {
		p.mu.Unlock() // another level, the same limits for this input
		return
	}
	c.mitigationCaps = caps
	setArg(c.mitigationFilter, "caps", caps)
	p.mu.Unlock()

	in := c.spec.input
	w, h, fn, fd := in.Width, in.Height, in.FpsN, in.FpsD
	if st.Width > 0 {
		w, h = st.Width, st.Height
	}
	if st.FpsN > 0 {
		fn, fd = st.FpsN, st.FpsD
	}
	e.infof("%s: mitigation %s (%dx%d at %d/%d fps) for %d bit/s", p.name, st.Mode, w, h, fn, fd, bps)
	s := fmt.Sprintf("golivekitsink-mitigation, pad=(string)%s, mode=(string)%s, width=(int)%d, height=(int)%d, framerate=(fraction)%d/%d, bitrate=(uint)%d",
		p.name, st.Mode, w, h, fn, fd, bps)
	withCString(s, func(cs *C.char) { C.lk_post_structure(e.gst, cs) })
}
