package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"

	"github.com/golivekitsink/golivekitsink/mitigation"
	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/simulcast"
)

// A chain is the short run of GStreamer elements behind one request pad:
// ghost pad -> [steps...] -> appsink. Which steps depends on the caps
// structure name that arrives on the pad; the table below is the only
// place that knows for encoded input. Raw input gets a chain built per
// pad from video-caps/audio-caps (encoders.go) that ends in the same
// parser steps.

type chainStep struct {
	factory  string
	args     [][2]string // property=value, set with gst_util_set_object_arg
	optional bool        // skipped when the element is not installed
	// encoder: emit encoder-setup before use; args apply only when no
	// handler returned TRUE.
	encoder bool
	// capsOut filters the link from this step to the next one ("" = none).
	capsOut string
	// mitigation: one of the steps enable-mitigation-modes adds (mitigate.go).
	mitigation bool
}

type chainSpec struct {
	// key identifies the chain: a CAPS event with the same key keeps the
	// chain (and the track); another key rebuilds both.
	key   string
	media string // caps structure name on the pad
	codec rtp.Codec
	steps []chainStep
	// sinkCaps is what the appsink accepts: the form session.Track.WriteFrame wants.
	sinkCaps string
	// layers: raw video encoded as 2-3 simulcast layers (simulcastchain.go).
	layers []simulcast.Layer
	// input: the raw video as it arrives, for mitigation (mitigate.go).
	input mitigation.Input
}

const (
	h264AU = "video/x-h264,stream-format=byte-stream,alignment=au"
	h265AU = "video/x-h265,stream-format=byte-stream,alignment=au"
	av1TU  = "video/x-av1,stream-format=obu-stream,alignment=tu"
)

var chainTable = []chainSpec{
	{media: "video/x-h264", codec: rtp.CodecH264, sinkCaps: h264AU,
		steps: []chainStep{{factory: "h264parse", args: [][2]string{{"config-interval", "-1"}}, capsOut: h264AU}}},
	{media: "video/x-h265", codec: rtp.CodecH265, sinkCaps: h265AU,
		steps: []chainStep{{factory: "h265parse", args: [][2]string{{"config-interval", "-1"}}, capsOut: h265AU}}},
	{media: "video/x-vp8", codec: rtp.CodecVP8, sinkCaps: "video/x-vp8"},
	{media: "video/x-vp9", codec: rtp.CodecVP9, sinkCaps: "video/x-vp9",
		steps: []chainStep{{factory: "vp9parse", optional: true}}},
	{media: "video/x-av1", codec: rtp.CodecAV1, sinkCaps: av1TU,
		steps: []chainStep{{factory: "av1parse", capsOut: av1TU}}},
	{media: "audio/x-opus", codec: rtp.CodecOpus, sinkCaps: "audio/x-opus"},
}

// h264Parsed is the chain for H.264 that already comes in access units of
// byte-stream: the appsink takes it as it is. A second h264parse behind the
// upstream one parsed every access unit again (its cost:
// tests/bench/README.md, "CPU"); what it still did, parameter sets in front
// of every IDR (config-interval=-1), the session does (rtp.ParameterSets).
// The pads offer these caps first (trampolines.c), so an upstream h264parse
// picks them. Its own key: caps that leave this form get the parser chain
// back (and a new track, like any change of chain).
var h264Parsed = chainSpec{key: "video/x-h264 (byte-stream, au)", media: "video/x-h264",
	codec: rtp.CodecH264, sinkCaps: h264AU}

// encodedChain is the chain for encoded caps: the table's, or h264Parsed.
func encodedChain(ci capsInfo) *chainSpec {
	if ci.media == h264Parsed.media && capsIsSubset(ci.str, h264AU) {
		return &h264Parsed
	}
	return lookupChain(ci.media)
}

func capsIsSubset(caps, of string) bool {
	ok := false
	withCString(caps, func(c *C.char) {
		withCString(of, func(o *C.char) { ok = C.lk_caps_is_subset(c, o) != 0 })
	})
	return ok
}

// eosOnlyChain is used when EOS arrives on a pad that never had caps: a
// bare appsink, so that GstBin still sees a sink go EOS.
var eosOnlyChain = chainSpec{key: "(eos)", media: "(eos)", sinkCaps: "ANY"}

func init() {
	for i := range chainTable {
		chainTable[i].key = chainTable[i].media
	}
}

func lookupChain(media string) *chainSpec {
	for i := range chainTable {
		if chainTable[i].media == media {
			return &chainTable[i]
		}
	}
	return nil
}

// chain is one built chain. elems[0] is the ghost pad's target, the last
// element is the appsink.
type chain struct {
	spec    *chainSpec
	elems   []*C.GstElement
	appsink *C.GstElement
	// encoder is the plugged encoder (raw input), one of elems; nil otherwise.
	encoder        *C.GstElement
	encoderFactory string
	// layers: one branch per simulcast layer, low to high (raw simulcast).
	layers []*layerBranch
	// mitigationFilter is the capsfilter mitigation sets; level its state.
	mitigationFilter *C.GstElement
	mitigationLevel  int
	mitigationCaps   string // "" until the first change
}

// sinkCtx is what the appsink callbacks see (through a cgo.Handle).
type sinkCtx struct {
	pad   *sinkPad
	codec rtp.Codec
	layer *layerBranch // the simulcast layer this appsink ends; nil otherwise
}

type chainError struct {
	missingPlugin bool
	text          string
}

func (c *chainError) Error() string { return c.text }

func asBin(el *C.GstElement) *C.GstBin { return (*C.GstBin)(unsafe.Pointer(el)) }

func makeElement(factory, name string) *C.GstElement {
	var el *C.GstElement
	withCString(factory, func(f *C.char) {
		withCString(name, func(n *C.char) { el = C.gst_element_factory_make(f, n) })
	})
	return el
}

func factoryExists(factory string) bool {
	var ok bool
	withCString(factory, func(f *C.char) {
		fac := C.gst_element_factory_find(f)
		if fac != nil {
			ok = true
			C.gst_object_unref(C.gpointer(fac))
		}
	})
	return ok
}

// buildChain creates, links and starts the chain for pad p inside the bin
// and points the ghost pad at it. gen makes element names unique across
// rebuilds of the same pad.
func buildChain(e *element, p *sinkPad, cs *chainSpec, gen int) (*chain, error) {
	c := &chain{spec: cs}
	var filters []string
	fail := func(err error) (*chain, error) {
		c.teardown(e, p.ghost)
		return nil, err
	}
	if len(cs.layers) > 0 {
		return buildSimulcastChain(e, p, cs, gen)
	}
	for _, st := range cs.steps {
		el, err := c.addStep(e, p, st, fmt.Sprintf("%s-%s-%d", p.name, st.factory, gen), cs.media)
		if err != nil {
			return fail(err)
		}
		if el != nil {
			filters = append(filters, st.capsOut)
		}
	}

	sink, err := c.addAppsink(e, p, fmt.Sprintf("%s-appsink-%d", p.name, gen), &sinkCtx{pad: p, codec: cs.codec})
	if err != nil {
		return fail(err)
	}
	c.appsink = sink

	for i := 0; i+1 < len(c.elems); i++ {
		if !linkFiltered(c.elems[i], c.elems[i+1], filters[i]) {
			return fail(&chainError{text: fmt.Sprintf("%s: cannot link the %s chain (caps %q)", p.name, cs.media, filters[i])})
		}
	}
	return c.start(e, p, fail)
}

// addStep creates one step's element, configures it and adds it to the
// bin and the chain; nil (no error) for a missing optional step.
func (c *chain) addStep(e *element, p *sinkPad, st chainStep, name, media string) (*C.GstElement, error) {
	if st.optional && !factoryExists(st.factory) {
		return nil, nil
	}
	el := makeElement(st.factory, name)
	if el == nil {
		return nil, &chainError{missingPlugin: true,
			text: fmt.Sprintf("%s: GStreamer element %q is missing (needed for %s input)", p.name, st.factory, media)}
	}
	if !st.encoder || !e.emitEncoderSetup(p.name, el) {
		for _, kv := range st.args {
			setArg(el, kv[0], kv[1])
		}
	}
	C.gst_object_ref_sink(C.gpointer(el)) // the chain's own ref, see teardown
	if C.gst_bin_add(asBin(e.gst), el) == 0 {
		C.gst_object_unref(C.gpointer(el))
		return nil, &chainError{text: fmt.Sprintf("%s: cannot add %s to the bin", p.name, st.factory)}
	}
	c.elems = append(c.elems, el)
	if st.encoder {
		c.encoder, c.encoderFactory = el, st.factory
	}
	if st.mitigation && st.factory == "capsfilter" {
		c.mitigationFilter = el
	}
	return el, nil
}

// addAppsink creates the appsink that hands ctx's frames to the session.
func (c *chain) addAppsink(e *element, p *sinkPad, name string, ctx *sinkCtx) (*C.GstElement, error) {
	sink := makeElement("appsink", name)
	if sink == nil {
		return nil, &chainError{missingPlugin: true, text: p.name + `: GStreamer element "appsink" is missing (gst-plugins-base)`}
	}
	setArg(sink, "caps", c.spec.sinkCaps)
	startSampleQueue()
	h := cgo.NewHandle(ctx)
	C.lk_appsink_setup(sink, C.uintptr_t(h)) // the appsink deletes h when it goes away
	C.gst_object_ref_sink(C.gpointer(sink))
	if C.gst_bin_add(asBin(e.gst), sink) == 0 {
		C.gst_object_unref(C.gpointer(sink))
		return nil, &chainError{text: p.name + ": cannot add appsink to the bin"}
	}
	c.elems = append(c.elems, sink)
	return sink, nil
}

// start brings the chain's elements to the bin's state, sinks first, and
// points the ghost pad at the first one.
func (c *chain) start(e *element, p *sinkPad, fail func(error) (*chain, error)) (*chain, error) {
	for i := len(c.elems) - 1; i >= 0; i-- {
		C.gst_element_sync_state_with_parent(c.elems[i])
	}
	if C.lk_ghost_pad_set_target(p.ghost, c.elems[0]) == 0 {
		return fail(&chainError{text: p.name + ": cannot set the ghost pad target"})
	}
	return c, nil
}

func setArg(el *C.GstElement, key, value string) {
	withCString(key, func(k *C.char) {
		withCString(value, func(v *C.char) { C.lk_set_arg(el, k, v) })
	})
}

func linkFiltered(a, b *C.GstElement, caps string) bool {
	ok := false
	withCString(caps, func(f *C.char) { ok = C.lk_link_filtered(a, b, f) != 0 })
	return ok
}

// teardown unhooks the ghost pad and removes the chain's elements from the
// bin. The chain holds its own ref on each element: when the element is
// disposed, GstBin removes its children before request pads are released.
func (c *chain) teardown(e *element, ghost *C.GstPad) {
	if c == nil {
		return
	}
	if ghost != nil {
		C.lk_ghost_pad_set_target(ghost, nil)
	}
	for _, el := range c.elems {
		C.gst_element_set_locked_state(el, 1)
		C.gst_element_set_state(el, C.GST_STATE_NULL)
		if C.gst_object_has_as_parent((*C.GstObject)(unsafe.Pointer(el)), (*C.GstObject)(unsafe.Pointer(e.gst))) != 0 {
			C.gst_bin_remove(asBin(e.gst), el)
		}
		C.gst_object_unref(C.gpointer(el))
	}
	c.elems = nil
	c.appsink = nil
	c.encoder = nil
	c.layers = nil
	c.mitigationFilter = nil
}

// emitEncoderSetup emits encoder-setup("unique", pad, encoder) like
// livekitwebrtcsink (its consumer id for LiveKit is always "unique"). TRUE
// means a handler configured the encoder itself.
func (e *element) emitEncoderSetup(pad string, enc *C.GstElement) bool {
	handled := false
	withCString("unique", func(c *C.char) {
		withCString(pad, func(n *C.char) { handled = C.lk_emit_encoder_setup(e.gst, c, n, enc) != 0 })
	})
	return handled
}
