package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// Raw input: which encoder golivekitsink plugs, with which settings.
// video-caps / audio-caps give the codec order; the first codec with an
// installed encoder wins. Settings follow webrtcsink's configure_encoder
// (low latency, no B-frames/lookahead, CBR at the bitrate property) except
// that keyframes also come on a ~2 s interval, so a lost keyframe request
// does not freeze a subscriber for long.

// capsInfo is what the pad's CAPS event told us.
type capsInfo struct {
	media, features string
	width, height   int
	fpsN, fpsD      int
	channels        int
	str             string // the whole caps, for messages
}

func (ci capsInfo) raw() bool { return ci.media == "video/x-raw" || ci.media == "audio/x-raw" }

// encoderCandidates per encoded media type, in preference order.
var encoderCandidates = map[string][]string{
	"video/x-vp8":  {"vp8enc"},
	"video/x-h264": {"x264enc", "openh264enc"},
	"video/x-vp9":  {"vp9enc"},
	"video/x-h265": {"x265enc"},
	"video/x-av1":  {"svtav1enc", "rav1enc", "av1enc"},
	"audio/x-opus": {"opusenc"},
}

// downloaders bring GPU memory back to system memory for videoconvert.
var downloaders = map[string]string{
	"memory:GLMemory":    "gldownload",
	"memory:CUDAMemory":  "cudadownload",
	"memory:VAMemory":    "vapostproc",
	"memory:D3D11Memory": "d3d11download",
	"memory:NVMM":        "nvvidconv",
}

// encoderArgs are the default settings of an encoder (applied unless an
// encoder-setup handler returns TRUE). bitrate is in bit/s, gop in frames.
func encoderArgs(factory string, bitrate uint, gop int) [][2]string {
	br, _ := bitrateArg(factory, bitrate)
	g := strconv.Itoa(gop)
	switch factory {
	case "vp8enc", "vp9enc":
		cpu := "-16" // fastest realtime speed, as on webrtcsink
		if factory == "vp9enc" {
			cpu = "8" // libvpx VP9 rejects speeds beyond ±9
		}
		a := [][2]string{{"deadline", "1"}, {"cpu-used", cpu}, br,
			{"end-usage", "cbr"}, {"keyframe-mode", "auto"}, {"keyframe-max-dist", g},
			{"buffer-initial-size", "100"}, {"buffer-optimal-size", "120"}, {"buffer-size", "150"},
			{"max-intra-bitrate", "250"}, {"error-resilient", "default"}, {"lag-in-frames", "0"}}
		if factory == "vp9enc" {
			a = append(a, [2]string{"row-mt", "true"})
		}
		return a
	case "x264enc":
		return [][2]string{{"tune", "zerolatency"}, {"speed-preset", "ultrafast"}, br,
			{"key-int-max", g}, {"b-adapt", "false"}, {"vbv-buf-capacity", "120"}}
	case "openh264enc":
		return [][2]string{br, {"gop-size", g}, {"rate-control", "bitrate"},
			{"complexity", "low"}, {"usage-type", "camera"}}
	case "x265enc":
		return [][2]string{{"tune", "zerolatency"}, {"speed-preset", "ultrafast"}, br, {"key-int-max", g}}
	case "av1enc":
		// av1enc's max-quantizer defaults to 0, which trips a libaom
		// assertion in realtime CBR (rc_pick_q_and_bounds_no_stats_cbr).
		return [][2]string{{"usage-profile", "realtime"}, {"cpu-used", "10"}, {"end-usage", "cbr"},
			{"min-quantizer", "0"}, {"max-quantizer", "63"},
			br, {"keyframe-max-dist", g}, {"lag-in-frames", "0"}, {"row-mt", "true"}}
	case "rav1enc":
		return [][2]string{{"low-latency", "true"}, {"speed-preset", "10"}, br, {"max-key-frame-interval", g}}
	case "svtav1enc":
		return [][2]string{{"preset", "12"}, br, {"intra-period-length", g}}
	case "opusenc":
		return [][2]string{{"frame-size", "20"}, {"bitrate", strconv.Itoa(opusBitrate)}}
	}
	return nil
}

// opusBitrate (bit/s) of the Opus encoder golivekitsink plugs; congestion
// control keeps this much per audio pad out of the video share.
const opusBitrate = 64000

// bitrateArg is the property that sets a video encoder's bitrate, in its
// own unit, for bitrate in bit/s. ok is false for factories without one.
func bitrateArg(factory string, bitrate uint) (arg [2]string, ok bool) {
	kbps := strconv.FormatUint(uint64(max(bitrate/1000, 1)), 10)
	bps := strconv.FormatUint(uint64(bitrate), 10)
	switch factory {
	case "vp8enc", "vp9enc":
		return [2]string{"target-bitrate", bps}, true
	case "x264enc", "x265enc":
		return [2]string{"bitrate", kbps}, true
	case "openh264enc", "rav1enc":
		return [2]string{"bitrate", bps}, true
	case "av1enc", "svtav1enc":
		return [2]string{"target-bitrate", kbps}, true
	}
	return arg, false
}

// gopFrames is about two seconds of frames (60 when the rate is unknown),
// one second for VP9 and AV1: with those, a subscriber's keyframe request
// was not answered in time in our runs (LiveKit started forwarding VP9 at
// a delta frame; av1enc kept to its interval), so the interval is what a
// new subscriber waits for.
func gopFrames(ci capsInfo, encoder string) int {
	secs := 2
	switch encoder {
	case "vp9enc", "av1enc", "rav1enc", "svtav1enc":
		secs = 1
	}
	if ci.fpsN <= 0 || ci.fpsD <= 0 {
		return 30 * secs
	}
	g := secs * ci.fpsN / ci.fpsD
	if g < 1 {
		g = 1
	}
	return g
}

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

// rawChainSpec builds the chain for raw input on pad p: [download !]
// videoconvert ! queue ! encoder ! [parser] ! appsink, or audioconvert !
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
	var tried []string
	for _, st := range capsStructures(want) {
		name := st
		if i := strings.IndexAny(st, ",;"); i >= 0 {
			name = st[:i]
		}
		enc := lookupChain(name)
		cands := encoderCandidates[name]
		if enc == nil || len(cands) == 0 || enc.codec.IsVideo() != p.video {
			continue
		}
		for _, f := range cands {
			tried = append(tried, f)
			if factoryExists(f) && parsersExist(enc) {
				return e.buildRawSpec(p, ci, live, ref, enc, f, encodedCaps(st)), nil
			}
		}
	}
	kind, prop := "video", "video-caps"
	if !p.video {
		kind, prop = "audio", "audio-caps"
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

func (e *element) buildRawSpec(p *sinkPad, ci capsInfo, live bool, ref refProps, enc *chainSpec, encoder, outCaps string) *chainSpec {
	var steps []chainStep
	if p.video {
		if dl, ok := downloaders[ci.features]; ok {
			steps = append(steps, chainStep{factory: dl})
		}
		steps = append(steps, chainStep{factory: "videoconvert", capsOut: "video/x-raw,format=I420"})
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
	steps = append(steps, chainStep{factory: encoder, encoder: true,
		args: encoderArgs(encoder, ref.encoderBitrate(), gopFrames(ci, encoder)), capsOut: outCaps})
	steps = append(steps, enc.steps...)
	key := fmt.Sprintf("%s(%s)>%s>%s live=%v", ci.media, ci.features, encoder, outCaps, live)
	return &chainSpec{key: key, media: ci.media, codec: enc.codec, steps: steps, sinkCaps: enc.sinkCaps}
}
