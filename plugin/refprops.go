package plugin

/*
#include "lk.h"
*/
import "C"

import (
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
	mitigation           int
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

// noEffect is the doc column of a property accepted for compatibility only.
func noEffect(why string) propDoc {
	if why == "" {
		return propDoc{use: "no effect"}
	}
	return propDoc{use: "no effect: " + why}
}

const noWebServer = compat + "golivekitsink has no web server"

// bitrateBlurb ends the blurbs of min-bitrate, max-bitrate and start-bitrate.
const bitrateBlurb = "Bitrate (bit/s) of the encoders golivekitsink plugs for raw input: they start at start-bitrate; with congestion-control " +
	"they follow the uplink estimate within [min-bitrate, max-bitrate], without it they stay at start-bitrate clamped to that range. " +
	"No effect on encoded input"

// refProperties are livekitwebrtcsink's element properties, in its order
// (the tail of elementProperties).
var refProperties = []property[*element]{
	capsProp("video-caps", "Video encoder caps",
		"Codecs to encode raw video into, in order of preference: the first whose encoder is installed is used, "+
			"hardware (nvcodec, va, vaapi, qsv, v4l2) before software (video/x-vp8: vp8enc; video/x-h264: x264enc, openh264enc; "+
			"video/x-vp9: vp9enc; video/x-h265: x265enc; video/x-av1: svtav1enc, rav1enc, av1enc). Fields of that structure constrain the encoder output "+
			"(H.264 defaults to profile=constrained-baseline). Encoded input is published as it comes",
		defaultVideoCaps, rwReady, func(e *element) *string { return &e.props.ref.videoCaps },
		propDoc{use: "**Used** (raw video only): codec order; the first whose encoder is installed is plugged, hardware before software " +
			"(nvcodec, va, vaapi, qsv, v4l2, then vp8enc; x264enc, else openh264enc; vp9enc; x265enc; svtav1enc, rav1enc, else av1enc; docs/encoders.md). " +
			"Fields of the chosen structure filter the encoder output; H.264 gets `profile=constrained-baseline` unless a profile is given. " +
			"Encoded input is published as it comes (not checked against this list)"}),
	capsProp("audio-caps", "Audio encoder caps",
		"Codecs to encode raw audio into, in order of preference: audio/x-opus (opusenc, 20 ms frames) is the only one; "+
			"its fields (channel-mapping-family) constrain the encoder output. Encoded input is published as it comes",
		defaultAudioCaps, rwReady, func(e *element) *string { return &e.props.ref.audioCaps },
		propDoc{use: "**Used** (raw audio only): Opus through `audioconvert ! audioresample ! opusenc` (48 kHz, mono or stereo, 20 ms frames, 64 kbit/s). " +
			"opusenc picks channel-mapping-family 0 for mono/stereo"}),
	stunServerProp(),
	stringArrayProp("turn-servers", "List of TURN Servers to use",
		"TURN servers (turn(s)://username:password@host:port) to add to the ICE servers LiveKit hands out. "+
			"An entry without user:password is left out with a WARNING. Reads back with the passwords replaced by xxxxx",
		"turn-server", rwReady, func(e *element) *[]string { return &e.props.ref.turnServers },
		lksig.RedactURL, // docs/properties.md, "Secrets read back masked"
		propDoc{use: "Added to the ICE servers LiveKit hands out, credentials included (`turn://user:password@host:port`, `turns://…` for TURN/TLS). " +
			"An entry without a password is left out with a WARNING (password redacted). " +
			"**Reads back with each password replaced by `xxxxx`** (see \"Secrets read back masked\")"}),
	enumProp("congestion-control", "Congestion control",
		"Sender-side bandwidth estimation on LiveKit's transport-wide feedback (pion's Google Congestion Control; homegrown "+
			"means the same here). The encoders golivekitsink plugs for raw input (and, with upstream-bitrate-control, the application's) follow its estimate, each change is posted "+
			"as a golivekitsink-bitrate element message. disabled: encoders stay at start-bitrate. Takes effect at the next connection",
		enumType{gtype: func() C.GType { return C.lk_congestion_control_get_type() }, def: ccGCC}, rwReady,
		func(e *element) *int { return &e.props.ref.congestion },
		propDoc{use: "**Used**: `gcc` and `homegrown` both run pion's Google Congestion Control on LiveKit's transport-wide (TWCC) feedback; " +
			"plugged video encoders follow its estimate (64 kbit/s kept per audio pad, the rest shared evenly between video pads, each within [`min-bitrate`, `max-bitrate`]), " +
			"posted as a `golivekitsink-bitrate` message. `disabled`: encoders stay at `start-bitrate`. Encoded input follows only with `upstream-bitrate-control`. Read at connection time"}),
	uintProp("min-bitrate", "Minimal Bitrate", "Minimum bitrate (bit/s). "+bitrateBlurb,
		1, maxUint32, defaultMinBitrate, rwReady, func(e *element) *uint { return &e.props.ref.minBitrate },
		propDoc{use: "**Used** (raw input): lower bound of the estimator and of each plugged video encoder"}),
	uintProp("max-bitrate", "Maximum Bitrate", "Maximum bitrate (bit/s). "+bitrateBlurb,
		1, maxUint32, defaultMaxBitrate, rwReady, func(e *element) *uint { return &e.props.ref.maxBitrate },
		propDoc{use: "**Used** (raw input): upper bound of the estimator and of each plugged video encoder"}),
	uintProp("start-bitrate", "Start Bitrate", "Start bitrate (bit/s). "+bitrateBlurb,
		1, maxUint32, defaultStartBR, rwReady, func(e *element) *uint { return &e.props.ref.startBitrate },
		propDoc{use: "**Used** (raw input): bitrate (bit/s) the plugged encoder starts at, clamped to [`min-bitrate`, `max-bitrate`]; also where the bandwidth estimator starts"}),
	{
		name: "stats", nick: "Consumer statistics",
		blurb: "Statistics as an application/x-webrtcsink-stats structure (golivekitsink has no webrtcbin): state, participant-sid, " +
			"region, transport, resumes, full-reconnects, target-bitrate, and per published pad a track-stats structure " +
			"(track-sid, codec, frames-sent, frames-dropped, packets-sent, bytes-sent, nack-count, pli-count, fir-count, " +
			"round-trip-time in seconds and fraction-lost from the SFU's receiver reports)",
		flags: pRO, value: structureType{},
		unlocked: true, // reads the session; statsValue takes e.mu itself
		get:      func(e *element) *glib.Value { return e.statsValue() },
		doc: propDoc{def: "`application/x-webrtcsink-stats`",
			use: "**Used** (no webrtcbin, so other fields than the reference's): `state`, `participant-sid`, `region`, `transport`, `resumes`, `full-reconnects`, `target-bitrate`, " +
				"`goroutines` (goroutines of the plugin's Go runtime, shared by every golivekitsink in the process: for leak checks; present in every state), " +
				"and per published pad (`video_0`, …) a nested `track-stats` structure: `track-sid`, `codec`, `frames-sent`, `frames-dropped`, `packets-sent`, `bytes-sent`, " +
				"`nack-count`, `pli-count`, `fir-count`, `round-trip-time` (s) and `fraction-lost` from the SFU's receiver reports"},
	},
	boolProp("do-fec", "Use Forward Error Correction", compat+"no ULPFEC/RED is offered; losses are repaired by NACK/RTX and keyframe requests",
		true, rwReady, func(e *element) *bool { return &e.props.ref.doFEC }, noEffect("no ULPFEC/RED is offered")),
	boolProp("do-retransmission", "Use Retransmission", compat+"retransmission on NACK is decided by the session's RTP stack, not by this property",
		true, rwReady, func(e *element) *bool { return &e.props.ref.doRTX }, noEffect("NACK/RTX is up to the session's RTP stack")),
	boolProp("do-clock-signalling", "Do clock signalling", compat+"no RFC 7273 clock signalling in the SDP",
		false, rwReady, func(e *element) *bool { return &e.props.ref.doClock }, noEffect("no RFC 7273 attributes")),
	boolProp("enable-data-channel-navigation", "Enable data channel navigation", compat+"no navigation data channel (deprecated on the reference)",
		false, rwReady, func(e *element) *bool { return &e.props.ref.dcNavigation }, noEffect("")),
	boolProp("enable-control-data-channel", "Enable control data channel", compat+"no control data channel",
		false, rwReady, func(e *element) *bool { return &e.props.ref.controlDC }, noEffect("")),
	structureProp("meta", "Meta", compat+"LiveKit signalling carries no meta (livekitwebrtcsink's LiveKit signaller never sends it either)",
		pRW, func(e *element) **string { return &e.props.ref.meta },
		propDoc{use: "no effect (the reference's LiveKit signaller never sends it either)"}),
	enumProp("ice-transport-policy", "ICE Transport Policy",
		"all: any ICE candidate; relay: TURN relays only (the TURN servers LiveKit hands out must be enabled on the server)",
		enumType{gtype: func() C.GType { return C.lk_ice_transport_policy_get_type() }, def: 0}, rwReady,
		func(e *element) *int { return &e.props.ref.icePolicy },
		propDoc{use: "**Used**: `relay` makes the peer connection relay-only (session `ForceRelay`)"}),
	stringProp("forward-metas", "Forward metas", compat+"no buffer metas (timecode) are forwarded",
		strp(""), rwAny, func(e *element) **string { return &e.props.ref.forwardMetas }, noEffect("")),
	enumProp("enable-mitigation-modes", "Enable mitigation modes",
		compat+"golivekitsink never downscales or downsamples; LiveKit's SFU adapts per subscriber",
		enumType{gtype: func() C.GType { return C.lk_mitigation_mode_get_type() }, def: mitigationDefault, isFlags: true}, rwAny,
		func(e *element) *int { return &e.props.ref.mitigation }, noEffect("never downscales or downsamples")),
	intProp("rtx-percentage", "RTX percentage", compat+"no RTX bandwidth budget is applied",
		-1, maxInt32, -1, rwReady, func(e *element) *int { return &e.props.ref.rtxPercentage }, noEffect("")),
	boolProp("run-web-server", "Run web server", noWebServer,
		false, rwReady, func(e *element) *bool { return &e.props.ref.runWebServer }, noEffect("no web server")),
	stringProp("web-server-cert", "Web server certificate", noWebServer,
		nil, rwReady, func(e *element) **string { return &e.props.ref.webCert }, noEffect("")),
	stringProp("web-server-key", "Web server key", noWebServer,
		nil, rwReady, func(e *element) **string { return &e.props.ref.webKey }, noEffect("")),
	stringProp("web-server-path", "Web server path", noWebServer,
		nil, rwReady, func(e *element) **string { return &e.props.ref.webPath }, noEffect("")),
	stringProp("web-server-directory", "Web server directory", noWebServer,
		strp(defaultWebDir), rwReady, func(e *element) **string { return &e.props.ref.webDir }, noEffect("")),
	stringProp("web-server-host-addr", "Web server host address", noWebServer,
		strp(defaultWebHost), rwReady, func(e *element) **string { return &e.props.ref.webHost }, noEffect("")),
}

// stunServerProp remembers that stun-server was set: only a value set
// explicitly is used (ice.go).
func stunServerProp() property[*element] {
	p := stringProp("stun-server", "STUN Server",
		"STUN server (stun://host:port) added to the ICE servers LiveKit hands out. Only a value set explicitly is used: "+
			"the default (Google's, as on livekitwebrtcsink) is NOT contacted, so golivekitsink sends nothing off the "+
			"LiveKit path unless asked to",
		strp(defaultStunServer), pRW, func(e *element) **string { return &e.props.ref.stunServer },
		propDoc{use: "**Used only when set explicitly**: added to the ICE servers LiveKit hands out. " +
			"The default is never contacted (LiveKit provides ICE servers; nothing should leave the LiveKit path unless asked)"})
	store := p.set
	p.set = func(e *element, v *C.GValue) {
		store(e, v)
		e.props.ref.stunSet = true
	}
	return p
}
