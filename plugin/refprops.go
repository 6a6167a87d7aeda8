package plugin

/*
#include <stdlib.h>
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	lksig "github.com/golivekitsink/golivekitsink/signaller"
)

// The properties golivekitsink shares with livekitwebrtcsink's
// GstBaseWebRTCSink (docs/properties.md, "Moving from livekitwebrtcsink"): same names, types and
// defaults, so a pipeline written for the reference parses unchanged.
// Those without meaning here say so in their blurb.

const compat = "Accepted for compatibility with livekitwebrtcsink; no effect: "

const (
	defaultVideoCaps  = "video/x-vp8; video/x-h264; video/x-vp9; video/x-h265; video/x-av1"
	defaultAudioCaps  = "audio/x-opus, channel-mapping-family=(int)0; audio/x-opus, channel-mapping-family=(int)1"
	defaultStunServer = "stun://stun.l.google.com:19302"
	defaultMinBitrate = 1000
	defaultMaxBitrate = 8192000
	defaultStartBR    = 2048000
	ccDisabled        = 0
	ccGCC             = 2
	mitigationDefault = 1 | 2 // downscaled | downsampled
	defaultWebDir     = "gstwebrtc-api/dist"
	defaultWebHost    = "http://127.0.0.1:8080"
	maxInt32          = 1<<31 - 1
)

// refProps holds the reference's properties. Guarded by element.mu.
type refProps struct {
	videoCaps, audioCaps string
	stunServer           *string
	stunSet              bool // stun-server was set by the user (the default is never used)
	turnServers          []string
	congestion           int
	minBitrate           uint
	maxBitrate           uint
	startBitrate         uint
	doFEC, doRTX         bool
	doClock              bool
	dcNavigation         bool
	controlDC            bool
	meta                 *string
	icePolicy            int // 0 all, 1 relay
	forwardMetas         *string
	mitigation           uint
	rtxPercentage        int
	runWebServer         bool
	webCert, webKey      *string
	webPath              *string
	webDir, webHost      *string
}

func defaultRefProps() refProps {
	return refProps{
		videoCaps: defaultVideoCaps, audioCaps: defaultAudioCaps,
		stunServer: strp(defaultStunServer),
		congestion: ccGCC,
		minBitrate: defaultMinBitrate, maxBitrate: defaultMaxBitrate, startBitrate: defaultStartBR,
		doFEC: true, doRTX: true,
		forwardMetas:  strp(""),
		mitigation:    mitigationDefault,
		rtxPercentage: -1,
		webDir:        strp(defaultWebDir),
		webHost:       strp(defaultWebHost),
	}
}

// encoderBitrate is the bitrate (bit/s) the plugged encoders start at:
// start-bitrate clamped to [min-bitrate, max-bitrate].
func (r *refProps) encoderBitrate() uint {
	b := r.startBitrate
	if b < r.minBitrate {
		b = r.minBitrate
	}
	if r.maxBitrate >= r.minBitrate && b > r.maxBitrate {
		b = r.maxBitrate
	}
	return b
}

// Property ids continue after the element's own (properties.go).
const (
	epVideoCaps = epRegionFailover + 1 + iota
	epAudioCaps
	epStunServer
	epTurnServers
	epCongestionControl
	epMinBitrate
	epMaxBitrate
	epStartBitrate
	epStats
	epDoFEC
	epDoRetransmission
	epDoClockSignalling
	epDataChannelNavigation
	epControlDataChannel
	epMeta
	epICETransportPolicy
	epForwardMetas
	epMitigationModes
	epRTXPercentage
	epRunWebServer
	epWebServerCert
	epWebServerKey
	epWebServerPath
	epWebServerDirectory
	epWebServerHostAddr
)

const (
	pRW      = C.G_PARAM_READWRITE
	pReady   = C.GST_PARAM_MUTABLE_READY
	pPlaying = C.GST_PARAM_MUTABLE_PLAYING
)

// spec turns a C param spec constructor into a *glib.ParamSpec; the C
// strings are copied by GLib (no G_PARAM_STATIC_STRINGS) and freed here.
func spec(name, nick, blurb string, mk func(n, k, b *C.char) *C.GParamSpec) *glib.ParamSpec {
	n, k, b := C.CString(name), C.CString(nick), C.CString(blurb)
	defer freeC(n)
	defer freeC(k)
	defer freeC(b)
	return glib.ToParamSpec(unsafe.Pointer(mk(n, k, b)))
}

func cstrOrNil(s *string) (*C.char, func()) {
	if s == nil {
		return nil, func() {}
	}
	c := C.CString(*s)
	return c, func() { freeC(c) }
}

func boolSpec(name, nick, blurb string, def bool, flags C.GParamFlags) *glib.ParamSpec {
	d := C.gboolean(0)
	if def {
		d = 1
	}
	return spec(name, nick, blurb, func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_bool(n, k, b, d, flags) })
}

func stringSpec(name, nick, blurb string, def *string, flags C.GParamFlags) *glib.ParamSpec {
	d, free := cstrOrNil(def)
	defer free()
	return spec(name, nick, blurb, func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_string(n, k, b, d, flags) })
}

func uintSpec(name, nick, blurb string, min, max, def uint, flags C.GParamFlags) *glib.ParamSpec {
	return spec(name, nick, blurb, func(n, k, b *C.char) *C.GParamSpec {
		return C.lk_param_spec_uint(n, k, b, C.guint(min), C.guint(max), C.guint(def), flags)
	})
}

func refPropSpecs() []*glib.ParamSpec {
	rwReady := C.GParamFlags(pRW | pReady)
	rwPlaying := C.GParamFlags(pRW | pPlaying)
	br := "Bitrate (bit/s) of the encoders golivekitsink plugs for raw input: they start at start-bitrate; with congestion-control " +
		"they follow the uplink estimate within [min-bitrate, max-bitrate], without it they stay at start-bitrate clamped to that range. " +
		"No effect on encoded input"
	return []*glib.ParamSpec{
		spec("video-caps", "Video encoder caps",
			"Codecs to encode raw video into, in order of preference: the first whose encoder is installed is used "+
				"(video/x-vp8: vp8enc; video/x-h264: x264enc, openh264enc; video/x-vp9: vp9enc; video/x-h265: x265enc; "+
				"video/x-av1: svtav1enc, rav1enc, av1enc). Fields of that structure constrain the encoder output "+
				"(H.264 defaults to profile=constrained-baseline). Encoded input is published as it comes",
			func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_boxed(n, k, b, C.lk_caps_type(), rwReady) }),
		spec("audio-caps", "Audio encoder caps",
			"Codecs to encode raw audio into, in order of preference: audio/x-opus (opusenc, 20 ms frames) is the only one; "+
				"its fields (channel-mapping-family) constrain the encoder output. Encoded input is published as it comes",
			func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_boxed(n, k, b, C.lk_caps_type(), rwReady) }),
		stringSpec("stun-server", "STUN Server",
			"STUN server (stun://host:port) added to the ICE servers LiveKit hands out. Only a value set explicitly is used: "+
				"the default (Google's, as on livekitwebrtcsink) is NOT contacted, so golivekitsink sends nothing off the "+
				"LiveKit path unless asked to",
			strp(defaultStunServer), pRW),
		spec("turn-servers", "List of TURN Servers to use",
			"TURN servers (turn(s)://username:password@host:port) to add to the ICE servers LiveKit hands out. "+
				"An entry without user:password is left out with a WARNING. Reads back with the passwords replaced by xxxxx",
			func(n, k, b *C.char) *C.GParamSpec {
				e := C.CString("turn-server")
				defer freeC(e)
				return C.lk_param_spec_string_array(n, k, b, e, rwReady)
			}),
		spec("congestion-control", "Congestion control",
			"Sender-side bandwidth estimation on LiveKit's transport-wide feedback (pion's Google Congestion Control; homegrown "+
				"means the same here). The encoders golivekitsink plugs for raw input follow its estimate, each change is posted "+
				"as a golivekitsink-bitrate element message. disabled: encoders stay at start-bitrate. Takes effect at the next connection",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_enum(n, k, b, C.lk_congestion_control_get_type(), ccGCC, rwReady)
			}),
		uintSpec("min-bitrate", "Minimal Bitrate", "Minimum bitrate (bit/s). "+br, 1, maxUint32, defaultMinBitrate, rwReady),
		uintSpec("max-bitrate", "Maximum Bitrate", "Maximum bitrate (bit/s). "+br, 1, maxUint32, defaultMaxBitrate, rwReady),
		uintSpec("start-bitrate", "Start Bitrate", "Start bitrate (bit/s). "+br, 1, maxUint32, defaultStartBR, rwReady),
		spec("stats", "Consumer statistics",
			"Statistics as an application/x-webrtcsink-stats structure (golivekitsink has no webrtcbin): state, participant-sid, "+
				"region, transport, resumes, full-reconnects, target-bitrate, and per published pad a track-stats structure "+
				"(track-sid, codec, frames-sent, frames-dropped, packets-sent, bytes-sent, nack-count, pli-count, fir-count, "+
				"round-trip-time in seconds and fraction-lost from the SFU's receiver reports)",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_boxed(n, k, b, C.lk_structure_type(), C.G_PARAM_READABLE)
			}),
		boolSpec("do-fec", "Use Forward Error Correction", compat+"no ULPFEC/RED is offered; losses are repaired by NACK/RTX and keyframe requests", true, rwReady),
		boolSpec("do-retransmission", "Use Retransmission", compat+"retransmission on NACK is decided by the session's RTP stack, not by this property", true, rwReady),
		boolSpec("do-clock-signalling", "Do clock signalling", compat+"no RFC 7273 clock signalling in the SDP", false, rwReady),
		boolSpec("enable-data-channel-navigation", "Enable data channel navigation", compat+"no navigation data channel (deprecated on the reference)", false, rwReady),
		boolSpec("enable-control-data-channel", "Enable control data channel", compat+"no control data channel", false, rwReady),
		spec("meta", "Meta", compat+"LiveKit signalling carries no meta (livekitwebrtcsink's LiveKit signaller never sends it either)",
			func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_boxed(n, k, b, C.lk_structure_type(), pRW) }),
		spec("ice-transport-policy", "ICE Transport Policy",
			"all: any ICE candidate; relay: TURN relays only (the TURN servers LiveKit hands out must be enabled on the server)",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_enum(n, k, b, C.lk_ice_transport_policy_get_type(), 0, rwReady)
			}),
		stringSpec("forward-metas", "Forward metas", compat+"no buffer metas (timecode) are forwarded", strp(""), rwPlaying),
		spec("enable-mitigation-modes", "Enable mitigation modes",
			compat+"golivekitsink never downscales or downsamples; LiveKit's SFU adapts per subscriber",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_flags(n, k, b, C.lk_mitigation_mode_get_type(), mitigationDefault, rwPlaying)
			}),
		spec("rtx-percentage", "RTX percentage", compat+"no RTX bandwidth budget is applied",
			func(n, k, b *C.char) *C.GParamSpec { return C.lk_param_spec_int(n, k, b, -1, maxInt32, -1, rwReady) }),
		boolSpec("run-web-server", "Run web server", compat+"golivekitsink has no web server", false, rwReady),
		stringSpec("web-server-cert", "Web server certificate", compat+"golivekitsink has no web server", nil, rwReady),
		stringSpec("web-server-key", "Web server key", compat+"golivekitsink has no web server", nil, rwReady),
		stringSpec("web-server-path", "Web server path", compat+"golivekitsink has no web server", nil, rwReady),
		stringSpec("web-server-directory", "Web server directory", compat+"golivekitsink has no web server", strp(defaultWebDir), rwReady),
		stringSpec("web-server-host-addr", "Web server host address", compat+"golivekitsink has no web server", strp(defaultWebHost), rwReady),
	}
}

// setRefProp stores a reference property; e.mu is held. False if id is not one.
func (e *element) setRefProp(id uint, gv *C.GValue) bool {
	r := &e.props.ref
	switch id {
	case epVideoCaps, epAudioCaps:
		s := takeCString(C.lk_value_dup_caps_string(gv))
		def := defaultVideoCaps
		dst := &r.videoCaps
		if id == epAudioCaps {
			def, dst = defaultAudioCaps, &r.audioCaps
		}
		if s == nil || *s == "" {
			*dst = def // NULL resets, like an unset property
		} else {
			*dst = *s
		}
	case epStunServer:
		r.stunServer = gvalueString(gv)
		r.stunSet = true
	case epTurnServers:
		r.turnServers = nil
		for i := C.guint(0); i < C.lk_value_array_size(gv); i++ {
			if c := C.lk_value_array_string(gv, i); c != nil {
				r.turnServers = append(r.turnServers, C.GoString(c))
			}
		}
	case epCongestionControl:
		r.congestion = int(C.g_value_get_enum(gv))
	case epMinBitrate:
		r.minBitrate = uint(C.g_value_get_uint(gv))
	case epMaxBitrate:
		r.maxBitrate = uint(C.g_value_get_uint(gv))
	case epStartBitrate:
		r.startBitrate = uint(C.g_value_get_uint(gv))
	case epDoFEC:
		r.doFEC = C.g_value_get_boolean(gv) != 0
	case epDoRetransmission:
		r.doRTX = C.g_value_get_boolean(gv) != 0
	case epDoClockSignalling:
		r.doClock = C.g_value_get_boolean(gv) != 0
	case epDataChannelNavigation:
		r.dcNavigation = C.g_value_get_boolean(gv) != 0
	case epControlDataChannel:
		r.controlDC = C.g_value_get_boolean(gv) != 0
	case epMeta:
		r.meta = takeCString(C.lk_value_dup_structure_string(gv))
	case epICETransportPolicy:
		r.icePolicy = int(C.g_value_get_enum(gv))
	case epForwardMetas:
		r.forwardMetas = gvalueString(gv)
	case epMitigationModes:
		r.mitigation = uint(C.g_value_get_flags(gv))
	case epRTXPercentage:
		r.rtxPercentage = int(C.g_value_get_int(gv))
	case epRunWebServer:
		r.runWebServer = C.g_value_get_boolean(gv) != 0
	case epWebServerCert:
		r.webCert = gvalueString(gv)
	case epWebServerKey:
		r.webKey = gvalueString(gv)
	case epWebServerPath:
		r.webPath = gvalueString(gv)
	case epWebServerDirectory:
		r.webDir = gvalueString(gv)
	case epWebServerHostAddr:
		r.webHost = gvalueString(gv)
	default:
		return false
	}
	return true
}

// getRefProp returns a reference property's value; e.mu is held.
func (e *element) getRefProp(id uint) (*glib.Value, bool) {
	r := &e.props.ref
	switch id {
	case epVideoCaps, epAudioCaps:
		v, _ := glib.ValueInit(glib.Type(C.lk_caps_type()))
		s := r.videoCaps
		if id == epAudioCaps {
			s = r.audioCaps
		}
		withCString(s, func(c *C.char) { C.lk_value_take_caps_string(nativeValue(v), c) })
		return v, true
	case epStunServer:
		return stringValue(r.stunServer), true
	case epTurnServers:
		v, _ := glib.ValueInit(glib.Type(C.lk_value_array_type()))
		for _, s := range r.turnServers {
			// Read back without the password (docs/properties.md, "Differences").
			withCString(lksig.RedactURL(s), func(c *C.char) { C.lk_value_array_append_string(nativeValue(v), c) })
		}
		return v, true
	case epCongestionControl:
		return enumValue(C.lk_congestion_control_get_type(), r.congestion), true
	case epMinBitrate:
		return uintValue(r.minBitrate), true
	case epMaxBitrate:
		return uintValue(r.maxBitrate), true
	case epStartBitrate:
		return uintValue(r.startBitrate), true
	case epDoFEC:
		return boolValue(r.doFEC), true
	case epDoRetransmission:
		return boolValue(r.doRTX), true
	case epDoClockSignalling:
		return boolValue(r.doClock), true
	case epDataChannelNavigation:
		return boolValue(r.dcNavigation), true
	case epControlDataChannel:
		return boolValue(r.controlDC), true
	case epMeta:
		return structureValue(r.meta), true
	case epICETransportPolicy:
		return enumValue(C.lk_ice_transport_policy_get_type(), r.icePolicy), true
	case epForwardMetas:
		return stringValue(r.forwardMetas), true
	case epMitigationModes:
		v, _ := glib.ValueInit(glib.Type(C.lk_mitigation_mode_get_type()))
		C.lk_value_set_flags(nativeValue(v), C.guint(r.mitigation))
		return v, true
	case epRTXPercentage:
		v, _ := glib.ValueInit(glib.TYPE_INT)
		v.SetInt(r.rtxPercentage)
		return v, true
	case epRunWebServer:
		return boolValue(r.runWebServer), true
	case epWebServerCert:
		return stringValue(r.webCert), true
	case epWebServerKey:
		return stringValue(r.webKey), true
	case epWebServerPath:
		return stringValue(r.webPath), true
	case epWebServerDirectory:
		return stringValue(r.webDir), true
	case epWebServerHostAddr:
		return stringValue(r.webHost), true
	}
	return nil, false
}

// GValue helpers.

func nativeValue(v *glib.Value) *C.GValue { return (*C.GValue)(v.Native()) }

func takeCString(c *C.char) *string {
	if c == nil {
		return nil
	}
	s := C.GoString(c)
	C.g_free(C.gpointer(c))
	return &s
}

func stringValue(s *string) *glib.Value {
	if s == nil {
		return nil // the GValue GObject passes in already holds NULL
	}
	v, _ := glib.GValue(*s)
	return v
}

func boolValue(b bool) *glib.Value {
	v, _ := glib.GValue(b)
	return v
}

func uintValue(u uint) *glib.Value {
	v, _ := glib.ValueInit(glib.TYPE_UINT)
	v.SetUInt(u)
	return v
}

func enumValue(t C.GType, n int) *glib.Value {
	v, _ := glib.ValueInit(glib.Type(t))
	v.SetEnum(n)
	return v
}

func structureValue(s *string) *glib.Value {
	if s == nil {
		return nil
	}
	v, _ := glib.ValueInit(glib.Type(C.lk_structure_type()))
	withCString(*s, func(c *C.char) { C.lk_value_set_structure_string(nativeValue(v), c) })
	return v
}
