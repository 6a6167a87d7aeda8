package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golivekitsink/golivekitsink/session"
)

// Congestion control (congestion-control=gcc or homegrown, both pion's GCC
// here): the session's estimate of the uplink becomes the bitrate of the
// encoders golivekitsink plugged for raw input. Encoded input cannot follow,
// but its pad still counts when the estimate is shared out.

// OnTargetBitrate makes handler a session.BitrateHandler.
func (h *handler) OnTargetBitrate(bps int) {
	if h.closed.Load() {
		return
	}
	defer recoverToBus(h.el, "bitrate handler")
	h.e.applyTargetBitrate(bps)
}

// applyTargetBitrate shares bps out among the video pads and sets each
// plugged encoder, then posts golivekitsink-bitrate with what was set.
func (e *element) applyTargetBitrate(bps int) {
	e.mu.Lock()
	var video []*sinkPad
	audio := 0
	for _, p := range e.pads {
		switch {
		case p.released:
		case p.video:
			video = append(video, p)
		default:
			audio++
		}
	}
	lo, hi := e.props.ref.minBitrate, e.props.ref.maxBitrate
	e.mu.Unlock()
	sort.Slice(video, func(i, j int) bool { return video[i].name < video[j].name })

	share := session.VideoBitrateShare(bps, len(video), audio, opusBitrate, int(lo), int(hi))
	var set []string
	for _, p := range video {
		if p.setEncoderBitrate(uint(share)) {
			set = append(set, fmt.Sprintf("%s=%d", p.name, share))
		}
	}
	encoders := strings.Join(set, ",")
	e.debugf("target bitrate %d bit/s: encoders %q", bps, encoders)
	withCString(encoders, func(s *C.char) { C.lk_post_bitrate(e.gst, C.guint(min(bps, maxUint32)), s) })
}

// setEncoderBitrate sets the bitrate (bit/s) of the encoder golivekitsink
// plugged for this pad; false when there is none (encoded input).
func (p *sinkPad) setEncoderBitrate(bps uint) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chain == nil || p.chain.encoder == nil {
		return false
	}
	arg, ok := bitrateArg(p.chain.encoderFactory, bps)
	if !ok {
		return false
	}
	withCString(arg[0], func(k *C.char) {
		withCString(arg[1], func(v *C.char) { C.lk_set_arg(p.chain.encoder, k, v) })
	})
	return true
}
