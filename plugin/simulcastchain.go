package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/golivekitsink/golivekitsink/encoderinfo"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/simulcast"
)

// Simulcast from raw video (pad property simulcast-layers 2 or 3): the raw
// chain's conversion steps feed a tee, and each layer gets its own
//   queue ! videoscale ! (size) ! valve ! encoder ! (codec) ! parser ! appsink
// so each layer encodes in its own thread, and dynacast closes a layer's
// valve to stop its encoding (docs/properties.md, simulcast-layers).

// layerBranch is one layer of a raw simulcast chain. Its elements are owned
// by the chain (chain.elems).
type layerBranch struct {
	quality                 session.Quality
	width, height           int
	valve, encoder, appsink *C.GstElement
	encoderFactory          string
	encoded, keyframes      atomic.Uint64 // frames (keyframes) out of the encoder
	paused                  atomic.Bool   // valve closed by dynacast
}

// simulcastSpec turns the raw video chain spec cs into a simulcast one when
// the pad asks for 2 or 3 layers; cs is returned as it is otherwise.
func (p *sinkPad) simulcastSpec(ci capsInfo, cs *chainSpec) (*chainSpec, error) {
	n := p.simulcastLayerCount()
	if n < 2 || !p.video {
		return cs, nil
	}
	if encoderStep(cs) < 0 || queueStep(cs) < 0 {
		return nil, &chainError{text: p.name + ": simulcast needs a plugged encoder"}
	}
	layers, err := simulcast.Plan(ci.width, ci.height, n)
	if err != nil {
		return nil, &chainError{text: fmt.Sprintf("%s: %v (caps %s)", p.name, err, ci.str)}
	}
	out := *cs
	out.layers = layers
	// The layers are the mitigation: no downscaling in front of the tee.
	out.steps = slices.DeleteFunc(slices.Clone(cs.steps), func(s chainStep) bool { return s.mitigation })
	// The plan depends on the size: another size is another chain and track.
	out.key = fmt.Sprintf("%s simulcast=%d %dx%d", cs.key, n, ci.width, ci.height)
	return &out, nil
}

func encoderStep(cs *chainSpec) int {
	return slices.IndexFunc(cs.steps, func(s chainStep) bool { return s.encoder })
}

func queueStep(cs *chainSpec) int {
	return slices.IndexFunc(cs.steps, func(s chainStep) bool { return s.factory == "queue" })
}

// buildSimulcastChain builds [convert steps !] tee and one branch per layer.
func buildSimulcastChain(e *element, p *sinkPad, cs *chainSpec, gen int) (*chain, error) {
	c := &chain{spec: cs}
	fail := func(err error) (*chain, error) {
		c.teardown(e, p.ghost)
		return nil, err
	}
	qi, ei := queueStep(cs), encoderStep(cs)
	var prev *C.GstElement
	prevCaps := ""
	// add creates step st and links the previous element to it.
	add := func(st chainStep, name string) (*C.GstElement, error) {
		el, err := c.addStep(e, p, st, name, cs.media)
		if err != nil || el == nil {
			return el, err
		}
		if prev != nil && !linkFiltered(prev, el, prevCaps) {
			return nil, &chainError{text: fmt.Sprintf("%s: cannot link %s (caps %q) in the simulcast chain", p.name, st.factory, prevCaps)}
		}
		prev, prevCaps = el, st.capsOut
		return el, nil
	}
	for _, st := range cs.steps[:qi] {
		if _, err := add(st, fmt.Sprintf("%s-%s-%d", p.name, st.factory, gen)); err != nil {
			return fail(err)
		}
	}
	tee, err := add(chainStep{factory: "tee"}, fmt.Sprintf("%s-tee-%d", p.name, gen))
	if err != nil {
		return fail(err)
	}
	info, _ := encoderinfo.Lookup(cs.steps[ei].factory)
	rates := simulcast.Split(int(e.startBitrate()), cs.layers, nil, 0)
	for i, l := range cs.layers {
		rid := session.RID(l.Quality)
		name := func(f string) string { return fmt.Sprintf("%s-%s-%s-%d", p.name, rid, f, gen) }
		b := &layerBranch{quality: l.Quality, width: l.Width, height: l.Height, encoderFactory: cs.steps[ei].factory}
		prev, prevCaps = tee, ""
		steps := []chainStep{
			cs.steps[qi],
			{factory: "videoscale", capsOut: fmt.Sprintf("video/x-raw,width=%d,height=%d", l.Width, l.Height)},
			{factory: "valve", args: [][2]string{{"drop-mode", "forward-sticky-events"}}},
		}
		enc := cs.steps[ei]
		if info.Factory != "" {
			enc.args = append(slices.Clone(enc.args), info.BitrateArg(uint(rates[i])))
		}
		steps = append(steps, enc)
		steps = append(steps, cs.steps[ei+1:]...)
		for _, st := range steps {
			el, err := add(st, name(st.factory))
			if err != nil {
				return fail(err)
			}
			switch st.factory {
			case "valve":
				b.valve = el
			case enc.factory:
				b.encoder = el
			}
		}
		sink, err := c.addAppsink(e, p, name("appsink"), &sinkCtx{pad: p, codec: cs.codec, layer: b})
		if err != nil {
			return fail(err)
		}
		if !linkFiltered(prev, sink, prevCaps) {
			return fail(&chainError{text: fmt.Sprintf("%s: cannot link the %s layer's appsink (caps %q)", p.name, rid, prevCaps)})
		}
		b.appsink = sink
		c.layers = append(c.layers, b)
	}
	return c.start(e, p, fail)
}

// startBitrate is the bitrate the plugged encoders start at (start-bitrate
// within min/max-bitrate).
func (e *element) startBitrate() uint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.props.ref.encoderBitrate()
}

// setLayerBitrates shares bps (the pad's share of the estimate) among the
// layers of a raw simulcast chain in LiveKit's ratios; a layer dynacast
// paused gets the minimum and its share goes to the others. p.mu is held.
func (p *sinkPad) setLayerBitrates(bps uint, minPerLayer int) {
	c := p.chain
	enabled := map[session.Quality]bool{}
	for _, b := range c.layers {
		enabled[b.quality] = !b.paused.Load()
	}
	rates := simulcast.Split(int(bps), c.spec.layers, enabled, minPerLayer)
	for i, b := range c.layers {
		info, ok := encoderinfo.Lookup(b.encoderFactory)
		if !ok {
			continue
		}
		arg := info.BitrateArg(uint(rates[i]))
		setArg(b.encoder, arg[0], arg[1])
	}
}

func (e *element) minBitrate() uint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.props.ref.minBitrate
}
