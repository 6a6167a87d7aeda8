package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"strings"

	"github.com/golivekitsink/golivekitsink/session"
)

// Dynacast and per-layer keyframes: handler is a session.LayerHandler. A
// raw simulcast layer no subscriber wants has its valve closed, so its
// encoder gets no frames and costs no CPU; it gets a keyframe request as
// the valve opens again. A layer of an upstream group (simulcastgroup.go)
// is dropped by the session; its encoder belongs to the application.

// OnLayerKeyframeRequest makes handler a session.LayerHandler.
func (h *handler) OnLayerKeyframeRequest(t *session.Track, q session.Quality) {
	if h.closed.Load() || t == nil {
		return
	}
	defer recoverToBus(h.el, "layer keyframe handler")
	p := h.e.padForTrack(t)
	if p == nil {
		return
	}
	if g := p.group(); g != nil {
		if lp := g.padFor(q); lp != nil {
			ok := lp.requestKeyframe()
			h.e.debugf("%s: keyframe requested upstream for layer %s (handled=%v)", lp.name, session.RID(q), ok)
		}
		return
	}
	ok := p.requestLayerKeyframe(q)
	h.e.debugf("%s: keyframe requested for layer %s (handled=%v)", p.name, session.RID(q), ok)
}

// OnLayersChanged makes handler a session.LayerHandler.
func (h *handler) OnLayersChanged(t *session.Track, enabled map[session.Quality]bool) {
	if h.closed.Load() || t == nil {
		return
	}
	defer recoverToBus(h.el, "layers handler")
	p := h.e.padForTrack(t)
	if p == nil || p.group() != nil {
		return
	}
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	for _, b := range p.layers {
		pause := !enabled[b.quality]
		if b.paused.Swap(pause) == pause {
			continue
		}
		setArg(b.valve, "drop", fmt.Sprint(pause))
		if !pause {
			// The encoder saw no frame while paused: the first one must be a
			// keyframe, or subscribers of this layer wait for the next one.
			C.lk_send_force_key_unit(b.appsink)
		}
		h.e.infof("%s: layer %s encoding %s", p.name, session.RID(b.quality), map[bool]string{true: "paused", false: "resumed"}[pause])
	}
}

// requestLayerKeyframe sends GstForceKeyUnit to layer q's encoder.
func (p *sinkPad) requestLayerKeyframe(q session.Quality) bool {
	p.sinkMu.Lock()
	defer p.sinkMu.Unlock()
	for _, b := range p.layers {
		if b.quality == q {
			return C.lk_send_force_key_unit(b.appsink) != 0
		}
	}
	return false
}

// setLayerBranches records the current chain's layer branches for the
// dispatcher's calls above, holding a ref on their elements.
func (p *sinkPad) setLayerBranches(bs []*layerBranch) {
	for _, b := range bs {
		C.gst_object_ref(C.gpointer(b.valve))
		C.gst_object_ref(C.gpointer(b.appsink))
	}
	p.sinkMu.Lock()
	old := p.layers
	p.layers = bs
	p.sinkMu.Unlock()
	for _, b := range old {
		C.gst_object_unref(C.gpointer(b.valve))
		C.gst_object_unref(C.gpointer(b.appsink))
	}
}

// layerStatsFields are the per-layer fields of a simulcast track's
// track-stats: layer-<rid>-sending, -width, -height, -frames-encoded
// and -keyframes-encoded (the element's own encoder; raw input only),
// -frames-sent, -frames-paused.
func (p *sinkPad) layerStatsFields(t *session.Track) string {
	if !t.Simulcast() {
		return ""
	}
	encoded, keys := map[session.Quality]uint64{}, map[session.Quality]uint64{}
	p.sinkMu.Lock()
	for _, b := range p.layers {
		encoded[b.quality], keys[b.quality] = b.encoded.Load(), b.keyframes.Load()
	}
	raw := len(p.layers) > 0
	p.sinkMu.Unlock()
	var f []string
	for _, l := range t.LayerStats() {
		k := "layer-" + l.RID
		f = append(f, fmt.Sprintf("%s-sending=(boolean)%v, %s-width=(int)%d, %s-height=(int)%d, %s-frames-sent=(guint64)%d, %s-frames-paused=(guint64)%d",
			k, l.Sending, k, l.Width, k, l.Height, k, l.FramesSent, k, l.FramesPaused))
		if raw {
			f = append(f, fmt.Sprintf("%s-frames-encoded=(guint64)%d, %s-keyframes-encoded=(guint64)%d", k, encoded[l.Quality], k, keys[l.Quality]))
		}
	}
	return ", " + strings.Join(f, ", ")
}

// writeLayerFrame hands an encoded frame of a simulcast layer to its
// session layer; false when ctx is not a layer (the track's only layer).
func writeLayerFrame(ctx *sinkCtx, t *session.Track, frame []byte, pts C.int64_t, key bool) (bool, error) {
	q, ok := ctx.quality()
	if !ok {
		return false, nil
	}
	if ctx.layer != nil {
		ctx.layer.encoded.Add(1)
		if key {
			ctx.layer.keyframes.Add(1)
		}
	}
	l := t.Layer(q)
	if l == nil {
		return true, nil // a group pad that is not part of the published track
	}
	return true, l.WriteFrame(frame, ptsDuration(pts))
}

func (ctx *sinkCtx) quality() (session.Quality, bool) {
	if ctx.layer != nil {
		return ctx.layer.quality, true
	}
	if g := ctx.pad.group(); g != nil {
		return ctx.pad.groupQuality()
	}
	return 0, false
}
