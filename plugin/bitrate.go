package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"sort"
	"strings"

	"github.com/golivekitsink/golivekitsink/encoderinfo"
	"github.com/golivekitsink/golivekitsink/session"
)

// Congestion control (congestion-control=gcc or homegrown, both pion's GCC
// here): the session's estimate of the uplink becomes the bitrate of the
// encoders golivekitsink plugged for raw input and, with
// upstream-bitrate-control, of the application's encoders upstream of
// encoded video pads (upstream.go). Every video pad counts when the
// estimate is shared out.

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
	ghosts := map[*sinkPad]*C.GstPad{}
	audio := 0
	for ghost, p := range e.pads {
		switch {
		case p.released:
		case p.video:
			video = append(video, p)
			C.gst_object_ref(C.gpointer(ghost)) // the walk upstream must outlive a release
			ghosts[p] = ghost
		default:
			audio++
		}
	}
	lo, hi := e.props.ref.minBitrate, e.props.ref.maxBitrate
	upstream := e.props.upstreamBitrateControl
	e.mu.Unlock()
	defer func() {
		for _, g := range ghosts {
			C.gst_object_unref(C.gpointer(g))
		}
	}()
	sort.Slice(video, func(i, j int) bool { return video[i].name < video[j].name })

	share := session.VideoBitrateShare(bps, len(video), audio, opusBitrate, int(lo), int(hi))
	var set []string
	for _, p := range video {
		if p.setEncoderBitrate(uint(share)) || upstream && e.setUpstreamEncoderBitrate(p, ghosts[p], uint(share)) {
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
	info, ok := encoderinfo.Lookup(p.chain.encoderFactory)
	if !ok || !isVideoCodec(info.Codec) {
		return false
	}
	arg := info.BitrateArg(bps)
	withCString(arg[0], func(k *C.char) {
		withCString(arg[1], func(v *C.char) { C.lk_set_arg(p.chain.encoder, k, v) })
	})
	return true
}
