package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/golivekitsink/golivekitsink/encoderinfo"
)

// Raw input: which encoder golivekitsink plugs, with which settings.
// video-caps / audio-caps give the codec order; the first codec with an
// installed encoder wins, hardware before software (encoderinfo.Choose;
// docs/encoders.md). Settings follow webrtcsink's configure_encoder (low
// latency, no B-frames/lookahead, CBR at the bitrate property) except that
// keyframes also come on a 1-2 s interval, so a lost keyframe request does
// not freeze a subscriber for long.

// capsInfo is what the pad's CAPS event told us.
type capsInfo struct {
	media, features string
	width, height   int
	fpsN, fpsD      int
	channels        int
	str             string // the whole caps, for messages
}

func (ci capsInfo) raw() bool { return ci.media == "video/x-raw" || ci.media == "audio/x-raw" }

// opusBitrate (bit/s) of the Opus encoder golivekitsink plugs; congestion
// control keeps this much per audio pad out of the video share.
const opusBitrate = encoderinfo.OpusBitrate

func capsStructures(caps string) []string {
	var out []string
	withCString(caps, func(c *C.char) {
		arr := C.lk_caps_split(c)
		if arr == nil {
			return
		}
		defer C.g_strfreev(arr)
		for _, s := range unsafe.Slice(arr, 1<<16) {
			if s == nil {
				break
			}
			out = append(out, C.GoString(s))
		}
	})
	return out
}

func structureHas(structure, field string) bool {
	ok := false
	withCString(structure, func(s *C.char) {
		withCString(field, func(f *C.char) { ok = C.lk_structure_has_field(s, f) != 0 })
	})
	return ok
}

// encodedCaps is the filter after the encoder: the chosen video-caps
// structure, with H.264 held to constrained-baseline (like webrtcsink)
// unless a profile is given. Opus is left to opusenc: the chain feeds it
// mono or stereo, for which it always uses channel-mapping-family 0 (and
// GStreamer 1.22's opusenc cannot be asked for family 1 through caps).
func encodedCaps(structure string) string {
	if strings.HasPrefix(structure, "audio/x-opus") {
		return "audio/x-opus"
	}
	if strings.HasPrefix(structure, "video/x-h264") && !structureHas(structure, "profile") {
		structure = strings.TrimSuffix(structure, ";") + ", profile=(string)constrained-baseline"
	}
	return structure
}

// rawChainSpec builds the chain for raw input on pad p: [[download !]
// videoconvert !] queue ! encoder ! [parser] ! appsink (no convert when
// the encoder takes the input's GPU memory as it is), or audioconvert !
// audioresample ! opusenc ! appsink. live makes the queue leaky, so a slow
// encoder drops frames instead of stalling a live source.
func (e *element) rawChainSpec(p *sinkPad, ci capsInfo, live bool) (*chainSpec, error) {
	e.mu.Lock()
	ref := e.props.ref
	e.mu.Unlock()
	want := ref.videoCaps
	if !p.video {
		want = ref.audioCaps
	}
	// Codecs in video-caps/audio-caps order whose parser is installed; the
	// structure of each is kept for the encoder's output filter.
	var codecs []string
	structures := map[string]string{}
	for _, st := range capsStructures(want) {
		name := st
		if i := strings.IndexAny(st, ",;"); i >= 0 {
			name = st[:i]
		}
		enc := lookupChain(name)
		if enc == nil || enc.codec.IsVideo() != p.video || !parsersExist(enc) {
			continue
		}
		if _, dup := structures[name]; !dup {
			codecs = append(codecs, name)
			structures[name] = st
		}
	}
	choice, tried, ok := encoderinfo.Choose(codecs, ci.features, factoryExists)
	if ok {
		codec := choice.Encoder.Codec
		return e.buildRawSpec(p, ci, live, ref, lookupChain(codec), choice, encodedCaps(structures[codec])), nil
	}
	kind, prop := "video", "video-caps"
	if !p.video {
		kind, prop = "audio", "audio-caps"
	}
	if len(tried) == 0 {
		return nil, &chainError{missingPlugin: true,
			text: fmt.Sprintf("%s: no encoder for raw %s: no codec of %s %q has its parser installed", p.name, kind, prop, want)}
	}
	return nil, &chainError{missingPlugin: true,
		text: fmt.Sprintf("%s: no encoder for raw %s: none of %s is installed (codecs from %s %q)",
			p.name, kind, strings.Join(tried, ", "), prop, want)}
}

func parsersExist(cs *chainSpec) bool {
	for _, st := range cs.steps {
		if !st.optional && !factoryExists(st.factory) {
			return false
		}
	}
	return true
}

func (e *element) buildRawSpec(p *sinkPad, ci capsInfo, live bool, ref refProps, enc *chainSpec, choice encoderinfo.Choice, outCaps string) *chainSpec {
	var steps []chainStep
	encoder := choice.Encoder
	if p.video {
		// GPU memory the encoder takes as it is goes straight to it;
		// anything else is downloaded (when it is GPU memory) and converted
		// to the encoder's input format.
		if !choice.ZeroCopy {
			if choice.Download != "" {
				steps = append(steps, chainStep{factory: choice.Download})
			}
			raw := "video/x-raw"
			if encoder.InputFormat != "" {
				raw += ",format=" + encoder.InputFormat
			}
			steps = append(steps, chainStep{factory: "videoconvert", capsOut: raw})
		}
		q := chainStep{factory: "queue", args: [][2]string{{"max-size-buffers", "2"}, {"max-size-bytes", "0"}, {"max-size-time", "0"}}}
		if live {
			q.args = append(q.args, [2]string{"leaky", "downstream"})
		}
		steps = append(steps, q)
	} else {
		steps = append(steps,
			chainStep{factory: "audioconvert"},
			chainStep{factory: "audioresample", capsOut: "audio/x-raw,rate=48000,channels=[1,2]"})
	}
	gop := encoderinfo.GOPFrames(encoder, ci.fpsN, ci.fpsD)
	bitrate := ref.encoderBitrate()
	if !p.video {
		bitrate = opusBitrate
	}
	steps = append(steps, chainStep{factory: encoder.Factory, encoder: true,
		args: encoder.Args(bitrate, gop), capsOut: outCaps})
	steps = append(steps, enc.steps...)
	key := fmt.Sprintf("%s(%s)>%s>%s live=%v", ci.media, ci.features, encoder.Factory, outCaps, live)
	return &chainSpec{key: key, media: ci.media, codec: enc.codec, steps: steps, sinkCaps: enc.sinkCaps}
}
