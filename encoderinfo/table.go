// Package encoderinfo is what golivekitsink knows about GStreamer encoders:
// per factory, its codec, hardware family, the property that sets its
// bitrate and in which unit, the GPU memory it takes without a download,
// and the low-latency settings the element applies when it plugs one. It
// is pure Go so the table and the choice (choose.go) are tested without
// GStreamer; plugin/ does the GStreamer side.
//
// Units and property names come from each element's page on
// gstreamer.freedesktop.org/documentation (and, for the installed ones,
// gst-inspect-1.0 on GStreamer 1.22); the low-latency settings follow
// webrtcsink's configure_encoder and set_bitrate (gst-plugins-rs,
// net/webrtc/src/webrtcsink/imp.rs). docs/encoders.md has the table.
package encoderinfo

import (
	"regexp"
	"strconv"
)

// Unit is what an encoder's bitrate property counts in.
type Unit int

const (
	BitsPerSecond Unit = iota
	KilobitsPerSecond
)

func (u Unit) String() string {
	if u == KilobitsPerSecond {
		return "kbit/s"
	}
	return "bit/s"
}

// Family is the hardware API behind an encoder.
type Family string

const (
	NVCodec  Family = "nvcodec"
	VA       Family = "va"
	VAAPI    Family = "vaapi"
	QSV      Family = "qsv"
	V4L2     Family = "v4l2"
	Software Family = "software"
)

// FamilyOrder is the preference for raw input, as on the reference
// (livekitwebrtcsink): NVIDIA, then VA (new va plugin before the older
// gstreamer-vaapi), Intel Quick Sync, V4L2 (Jetson's nvv4l2 and stateful
// V4L2 devices), then software.
var FamilyOrder = []Family{NVCodec, VA, VAAPI, QSV, V4L2, Software}

// Caps features of GPU memory.
const (
	CUDAMemory  = "memory:CUDAMemory"
	GLMemory    = "memory:GLMemory"
	NVMM        = "memory:NVMM"
	VAMemory    = "memory:VAMemory"
	VASurface   = "memory:VASurface" // gstreamer-vaapi's own
	DMABuf      = "memory:DMABuf"
	D3D11Memory = "memory:D3D11Memory"
)

// Downloaders bring GPU memory to system memory for videoconvert when the
// chosen encoder cannot take it as it is.
var Downloaders = map[string]string{
	GLMemory:    "gldownload",
	CUDAMemory:  "cudadownload",
	VAMemory:    "vapostproc",
	D3D11Memory: "d3d11download",
	NVMM:        "nvvidconv",
}

// Encoder is one encoder factory.
type Encoder struct {
	Factory string
	Codec   string // encoded caps structure name: video/x-h264, audio/x-opus, ...
	Family  Family
	// BitrateProperty in BitrateUnit. For V4L2 devices before GStreamer
	// 1.30 it is the video_bitrate field of extra-controls (ExtraControls).
	BitrateProperty string
	BitrateUnit     Unit
	ExtraControls   bool
	// Memory lists the caps features (besides system memory) the encoder's
	// sink pad takes, so GPU frames reach it without a download.
	Memory []string
	// InputFormat is the raw format videoconvert produces for it ("" lets
	// the two negotiate).
	InputFormat string
	// lowLatency is the rest of the defaults for a keyframe interval of
	// gop frames: no B-frames or lookahead, constant bitrate.
	lowLatency func(gop string) [][2]string
}

// Hardware reports whether the encoder runs on a GPU or codec block.
func (e Encoder) Hardware() bool { return e.Family != Software }

// Accepts reports whether the encoder takes frames with these caps
// features as they are ("" and memory:SystemMemory are system memory).
func (e Encoder) Accepts(features string) bool {
	if features == "" || features == "memory:SystemMemory" {
		return true
	}
	for _, m := range e.Memory {
		if m == features {
			return true
		}
	}
	return false
}

// BitrateArg is property=value that sets the encoder to bps bit/s in its
// own unit (at least 1 kbit/s for kbit/s properties, which reject 0).
func (e Encoder) BitrateArg(bps uint) [2]string {
	v := uint64(bps)
	if e.BitrateUnit == KilobitsPerSecond {
		v = max(v/1000, 1)
	}
	s := strconv.FormatUint(v, 10)
	if e.ExtraControls {
		return [2]string{"extra-controls", "controls,video_bitrate=(int)" + s}
	}
	return [2]string{e.BitrateProperty, s}
}

// Args are the settings golivekitsink applies to an encoder it plugs
// (unless an encoder-setup handler returns TRUE): low latency, bitrate
// bps, a keyframe every gop frames.
func (e Encoder) Args(bps uint, gop int) [][2]string {
	g := strconv.Itoa(gop)
	if e.ExtraControls {
		// One structure: a second extra-controls would replace the first.
		v := e.BitrateArg(bps)[1]
		return [][2]string{{"extra-controls", v + ",video_gop_size=(int)" + g + ",repeat_sequence_header=(int)1"}}
	}
	var a [][2]string
	if e.lowLatency != nil {
		a = e.lowLatency(g)
	}
	if e.BitrateProperty != "" {
		a = append(a, e.BitrateArg(bps))
	}
	return a
}

// KeyframeSeconds is the keyframe interval for the encoder's codec. VP9 and
// AV1 get one second: with two, a subscriber's keyframe request was not
// answered in time in our runs (LiveKit started forwarding VP9 at a delta
// frame; av1enc kept to its interval), so the interval is what a new
// subscriber waits for.
func (e Encoder) KeyframeSeconds() int {
	if e.Codec == VP9 || e.Codec == AV1 {
		return 1
	}
	return 2
}

// Encoded caps structure names.
const (
	H264 = "video/x-h264"
	H265 = "video/x-h265"
	VP8  = "video/x-vp8"
	VP9  = "video/x-vp9"
	AV1  = "video/x-av1"
	Opus = "audio/x-opus"
)

// OpusBitrate (bit/s) of the Opus encoder golivekitsink plugs.
const OpusBitrate = 64000

func kv(pairs ...string) [][2]string {
	out := make([][2]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, [2]string{pairs[i], pairs[i+1]})
	}
	return out
}

// Per-family settings shared by its codecs.
var (
	nvLowLatency = func(g string) [][2]string {
		return kv("rc-mode", "cbr-ld-hq", "zerolatency", "true", "bframes", "0", "gop-size", g)
	}
	vaLowLatency = func(g string) [][2]string {
		return kv("rate-control", "cbr", "b-frames", "0", "key-int-max", g)
	}
	vaapiLowLatency = func(g string) [][2]string {
		return kv("rate-control", "cbr", "keyframe-period", g)
	}
	qsvLowLatency = func(g string) [][2]string {
		return kv("rate-control", "cbr", "low-latency", "true", "disable-hrd-conformance", "true", "b-frames", "0", "gop-size", g)
	}
	nvv4l2LowLatency = func(g string) [][2]string {
		return kv("control-rate", "constant_bitrate", "idrinterval", g, "insert-sps-pps", "true")
	}
	vpxLowLatency = func(cpu string) func(g string) [][2]string {
		return func(g string) [][2]string {
			return kv("deadline", "1", "cpu-used", cpu, "end-usage", "cbr", "keyframe-mode", "auto", "keyframe-max-dist", g,
				"buffer-initial-size", "100", "buffer-optimal-size", "120", "buffer-size", "150",
				"max-intra-bitrate", "250", "error-resilient", "default", "lag-in-frames", "0")
		}
	}
)

var (
	cudaGL = []string{CUDAMemory, GLMemory}
	vaMem  = []string{VAMemory, DMABuf}
	vaapi  = []string{VASurface, DMABuf}
	qsvMem = []string{VAMemory, D3D11Memory}
	nvmm   = []string{NVMM}
)

// table: within a codec, entries are in FamilyOrder and, inside a family,
// in preference order (the order Candidates returns).
var table = []Encoder{
	// H.264
	{Factory: "nvh264enc", Codec: H264, Family: NVCodec, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: cudaGL, InputFormat: "NV12", lowLatency: nvLowLatency},
	{Factory: "vah264enc", Codec: H264, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: vaLowLatency},
	{Factory: "vah264lpenc", Codec: H264, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: vaLowLatency},
	{Factory: "vaapih264enc", Codec: H264, Family: VAAPI, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaapi, InputFormat: "NV12", lowLatency: func(g string) [][2]string {
			return append(vaapiLowLatency(g), [2]string{"max-bframes", "0"})
		}},
	{Factory: "qsvh264enc", Codec: H264, Family: QSV, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: qsvMem, InputFormat: "NV12", lowLatency: qsvLowLatency},
	{Factory: "nvv4l2h264enc", Codec: H264, Family: V4L2, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		Memory: nvmm, lowLatency: func(g string) [][2]string {
			return append(nvv4l2LowLatency(g), [2]string{"insert-vui", "true"}, [2]string{"insert-aud", "true"})
		}},
	{Factory: "v4l2h264enc", Codec: H264, Family: V4L2, BitrateUnit: BitsPerSecond, ExtraControls: true},
	{Factory: "x264enc", Codec: H264, Family: Software, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			return kv("tune", "zerolatency", "speed-preset", "ultrafast", "key-int-max", g, "b-adapt", "false", "vbv-buf-capacity", "120")
		}},
	{Factory: "openh264enc", Codec: H264, Family: Software, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			return kv("gop-size", g, "rate-control", "bitrate", "complexity", "low", "usage-type", "camera")
		}},

	// H.265
	{Factory: "nvh265enc", Codec: H265, Family: NVCodec, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: cudaGL, InputFormat: "NV12", lowLatency: nvLowLatency},
	{Factory: "vah265enc", Codec: H265, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: vaLowLatency},
	{Factory: "vah265lpenc", Codec: H265, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: vaLowLatency},
	{Factory: "vaapih265enc", Codec: H265, Family: VAAPI, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaapi, InputFormat: "NV12", lowLatency: func(g string) [][2]string {
			return append(vaapiLowLatency(g), [2]string{"max-bframes", "0"})
		}},
	{Factory: "qsvh265enc", Codec: H265, Family: QSV, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: qsvMem, InputFormat: "NV12", lowLatency: qsvLowLatency},
	{Factory: "nvv4l2h265enc", Codec: H265, Family: V4L2, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		Memory: nvmm, lowLatency: func(g string) [][2]string {
			return append(nvv4l2LowLatency(g), [2]string{"insert-vui", "true"}, [2]string{"insert-aud", "true"})
		}},
	{Factory: "v4l2h265enc", Codec: H265, Family: V4L2, BitrateUnit: BitsPerSecond, ExtraControls: true},
	{Factory: "x265enc", Codec: H265, Family: Software, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			return kv("tune", "zerolatency", "speed-preset", "ultrafast", "key-int-max", g)
		}},

	// VP8
	{Factory: "vavp8enc", Codec: VP8, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: func(g string) [][2]string { return kv("rate-control", "cbr", "key-int-max", g) }},
	{Factory: "vaapivp8enc", Codec: VP8, Family: VAAPI, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaapi, InputFormat: "NV12", lowLatency: vaapiLowLatency},
	{Factory: "nvv4l2vp8enc", Codec: VP8, Family: V4L2, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		Memory: nvmm, lowLatency: func(g string) [][2]string { return kv("control-rate", "constant_bitrate", "idrinterval", g) }},
	{Factory: "v4l2vp8enc", Codec: VP8, Family: V4L2, BitrateUnit: BitsPerSecond, ExtraControls: true},
	{Factory: "vp8enc", Codec: VP8, Family: Software, BitrateProperty: "target-bitrate", BitrateUnit: BitsPerSecond,
		InputFormat: "I420", lowLatency: vpxLowLatency("-16")}, // fastest realtime speed, as on webrtcsink

	// VP9
	{Factory: "vavp9enc", Codec: VP9, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: func(g string) [][2]string { return kv("rate-control", "cbr", "key-int-max", g) }},
	{Factory: "vaapivp9enc", Codec: VP9, Family: VAAPI, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaapi, InputFormat: "NV12", lowLatency: vaapiLowLatency},
	{Factory: "qsvvp9enc", Codec: VP9, Family: QSV, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: qsvMem, InputFormat: "NV12", lowLatency: func(g string) [][2]string {
			return kv("rate-control", "cbr", "gop-size", g)
		}},
	{Factory: "nvv4l2vp9enc", Codec: VP9, Family: V4L2, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		Memory: nvmm, lowLatency: func(g string) [][2]string { return kv("control-rate", "constant_bitrate", "idrinterval", g) }},
	{Factory: "v4l2vp9enc", Codec: VP9, Family: V4L2, BitrateUnit: BitsPerSecond, ExtraControls: true},
	{Factory: "vp9enc", Codec: VP9, Family: Software, BitrateProperty: "target-bitrate", BitrateUnit: BitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			// libvpx VP9 rejects speeds beyond ±9
			return append(vpxLowLatency("8")(g), [2]string{"row-mt", "true"})
		}},

	// AV1
	{Factory: "nvav1enc", Codec: AV1, Family: NVCodec, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: []string{CUDAMemory}, InputFormat: "NV12", lowLatency: func(g string) [][2]string {
			return kv("rc-mode", "cbr", "zerolatency", "true", "gop-size", g)
		}},
	{Factory: "vaav1enc", Codec: AV1, Family: VA, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: vaMem, InputFormat: "NV12", lowLatency: func(g string) [][2]string { return kv("rate-control", "cbr", "key-int-max", g) }},
	{Factory: "qsvav1enc", Codec: AV1, Family: QSV, BitrateProperty: "bitrate", BitrateUnit: KilobitsPerSecond,
		Memory: qsvMem, InputFormat: "NV12", lowLatency: func(g string) [][2]string {
			return kv("rate-control", "cbr", "gop-size", g)
		}},
	{Factory: "nvv4l2av1enc", Codec: AV1, Family: V4L2, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		Memory: nvmm, lowLatency: func(g string) [][2]string { return kv("control-rate", "constant_bitrate", "idrinterval", g) }},
	{Factory: "svtav1enc", Codec: AV1, Family: Software, BitrateProperty: "target-bitrate", BitrateUnit: KilobitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string { return kv("preset", "12", "intra-period-length", g) }},
	{Factory: "rav1enc", Codec: AV1, Family: Software, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			return kv("low-latency", "true", "speed-preset", "10", "max-key-frame-interval", g)
		}},
	{Factory: "av1enc", Codec: AV1, Family: Software, BitrateProperty: "target-bitrate", BitrateUnit: KilobitsPerSecond,
		InputFormat: "I420", lowLatency: func(g string) [][2]string {
			// max-quantizer defaults to 0, which trips a libaom assertion in
			// realtime CBR (rc_pick_q_and_bounds_no_stats_cbr).
			return kv("usage-profile", "realtime", "cpu-used", "10", "end-usage", "cbr",
				"min-quantizer", "0", "max-quantizer", "63", "keyframe-max-dist", g, "lag-in-frames", "0", "row-mt", "true")
		}},

	// Opus: not under congestion control (OpusBitrate is kept per audio pad).
	{Factory: "opusenc", Codec: Opus, Family: Software, BitrateProperty: "bitrate", BitrateUnit: BitsPerSecond,
		lowLatency: func(string) [][2]string { return kv("frame-size", "20") }},
}

var byFactory = func() map[string]int {
	m := make(map[string]int, len(table))
	for i, e := range table {
		m[e.Factory] = i
	}
	return m
}()

// deviceName matches factories registered once per device: va on a second
// GPU (varenderD129h264enc), V4L2 per video node (v4l2video11h264enc),
// nvcodec on a second GPU (nvh264device1enc).
var deviceName = regexp.MustCompile(`^(?:(va)renderD\d+|(v4l2)video\d+)(.+)$|^(nv.+)device\d+(enc)$`)

// Lookup finds the encoder a factory name belongs to, including the
// per-device names of the va, v4l2 and nvcodec plugins.
func Lookup(factory string) (Encoder, bool) {
	if i, ok := byFactory[factory]; ok {
		return table[i], true
	}
	if m := deviceName.FindStringSubmatch(factory); m != nil {
		base := m[1] + m[2] + m[3] + m[4] + m[5]
		if i, ok := byFactory[base]; ok {
			e := table[i]
			e.Factory = factory
			return e, true
		}
	}
	return Encoder{}, false
}

// All is every encoder in the table, in table order.
func All() []Encoder { return append([]Encoder(nil), table...) }

// Candidates are the encoders for an encoded caps name in preference order.
func Candidates(codec string) []Encoder {
	var out []Encoder
	for _, f := range FamilyOrder {
		for _, e := range table {
			if e.Codec == codec && e.Family == f {
				out = append(out, e)
			}
		}
	}
	return out
}
