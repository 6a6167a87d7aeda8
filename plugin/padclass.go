package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/livekit/protocol/livekit"
)

// The request pads are GObjects of their own class per pad kind
// (GstGoLiveKitVideoPad, GstGoLiveKitAudioPad), GstGhostPad subclasses
// whose instance is a padObject holding the sinkPad. Each kind has one
// property table (property[*sinkPad], proptable.go); the pad templates
// carry the class, so gst-inspect lists a template's pad properties.

// padKind names a pad class and its property table. Another request pad
// kind is a new padKind type, registered in registerPadClasses.
type padKind interface {
	typeName() string
	properties() []property[*sinkPad]
}

// padObject is the Go side of a pad instance (go-glib's private data).
type padObject[K padKind] struct{ sinkPad }

func (*padObject[K]) New() glib.GoObjectSubclass { return &padObject[K]{} }

func (*padObject[K]) ClassInit(klass *glib.ObjectClass) {
	var k K
	installProperties(klass, k.properties())
}

func (o *padObject[K]) pad() *sinkPad { return &o.sinkPad }

func (o *padObject[K]) SetProperty(self *glib.Object, id uint, v *glib.Value) {
	defer returnToC(padElement(&o.sinkPad), "pad set-property")
	var k K
	setProperty(k.properties(), &o.sinkPad, o.sinkPad.lockProps, id, v)
}

func (o *padObject[K]) GetProperty(self *glib.Object, id uint) *glib.Value {
	defer returnToC(padElement(&o.sinkPad), "pad get-property")
	var k K
	return getProperty(k.properties(), &o.sinkPad, o.sinkPad.lockProps, id)
}

// padOf is the sinkPad of a pad made from one of our templates, or nil.
func padOf(pad unsafe.Pointer) *sinkPad {
	if o, ok := glib.FromObjectUnsafePrivate(pad).(interface{ pad() *sinkPad }); ok {
		return o.pad()
	}
	return nil
}

// extendsGhostPad lets go-glib subclass GstGhostPad; the pad classes
// override only GObject's property vfuncs.
type extendsGhostPad struct{}

func (extendsGhostPad) Type() glib.Type     { return glib.Type(C.lk_ghost_pad_type()) }
func (extendsGhostPad) ClassSize() int64    { return int64(C.lk_ghost_pad_class_size()) }
func (extendsGhostPad) InstanceSize() int64 { return int64(C.lk_ghost_pad_instance_size()) }
func (extendsGhostPad) InitClass(klass unsafe.Pointer, o glib.GoObjectSubclass) {
	glib.ExtendsObject.InitClass(klass, o)
}

// Pad class GTypes, set at plugin init before the element class is made.
var videoPadType, audioPadType glib.Type

func registerPadClasses() bool {
	videoPadType = glib.RegisterGoType(videoPad{}.typeName(), &padObject[videoPad]{}, extendsGhostPad{})
	audioPadType = glib.RegisterGoType(audioPad{}.typeName(), &padObject[audioPad]{}, extendsGhostPad{})
	return videoPadType != 0 && audioPadType != 0
}

type videoPad struct{}
type audioPad struct{}

func (videoPad) typeName() string                 { return "GstGoLiveKitVideoPad" }
func (audioPad) typeName() string                 { return "GstGoLiveKitAudioPad" }
func (videoPad) properties() []property[*sinkPad] { return videoPadProperties }
func (audioPad) properties() []property[*sinkPad] { return audioPadProperties }

// padProps are a pad's property values; Go code reads them as a snapshot
// (sinkPad.padProps).
type padProps struct {
	msid            *string // nil: the pad name
	source          int     // livekit.TrackSource value
	muted           bool    // the application's mute; EOS mutes on its own
	simulcastLayers uint
	simulcastGroup  *string
	layer           int // livekit.VideoQuality value
}

func defaultPadProps(video bool) padProps {
	if video {
		return padProps{source: int(livekit.TrackSource_CAMERA), simulcastLayers: 1, layer: int(livekit.VideoQuality_HIGH)}
	}
	return padProps{source: int(livekit.TrackSource_MICROPHONE)}
}

func (p *sinkPad) lockProps() func() {
	p.propsMu.Lock()
	return p.propsMu.Unlock
}

// padProps is a snapshot of the pad's properties.
func (p *sinkPad) padProps() padProps {
	p.propsMu.Lock()
	defer p.propsMu.Unlock()
	return p.props
}

// trackName is the LiveKit track name: msid, or the pad name.
func (pp padProps) trackName(padName string) string {
	if pp.msid != nil && *pp.msid != "" {
		return *pp.msid
	}
	return padName
}

var (
	sourceEnum = func(def livekit.TrackSource) enumType {
		return enumType{gtype: func() C.GType { return C.lk_track_source_get_type() }, def: int(def)}
	}
	layerEnum = enumType{gtype: func() C.GType { return C.lk_simulcast_layer_get_type() }, def: int(livekit.VideoQuality_HIGH)}
)

func msidProp() property[*sinkPad] {
	return stringProp("msid", "Track name",
		"Name of the LiveKit track (NULL or empty: the pad name). Read when the track is published; a change applies on the next publish",
		nil, rwAny, func(p *sinkPad) **string { return &p.props.msid },
		propDoc{def: "NULL (the pad name)", use: "the LiveKit track name, as on livekitwebrtcsink; read when the track is published (a change applies on the next publish)"})
}

func sourceProp(def livekit.TrackSource) property[*sinkPad] {
	return enumProp("source", "Track source",
		"LiveKit track source. Read when the track is published; a change applies on the next publish",
		sourceEnum(def), rwAny, func(p *sinkPad) *int { return &p.props.source },
		propDoc{use: "the track's `TrackSource`; read when the track is published (a change applies on the next publish)"})
}

func mutedProp() property[*sinkPad] {
	return property[*sinkPad]{
		name: "muted", nick: "Muted",
		blurb: "Mute the track: media is not sent and LiveKit shows the track muted. Writable in PLAYING. " +
			"EOS mutes the track and a new STREAM_START unmutes it, whatever this property says; the mute survives resume and reconnect",
		flags: rwAny, value: boolType{false}, unlocked: true,
		set: func(p *sinkPad, v *C.GValue) { p.setMuted(C.g_value_get_boolean(v) != 0) },
		get: func(p *sinkPad) *glib.Value { return boolValue(p.padProps().muted) },
		doc: propDoc{use: "writable in PLAYING: stops the media and shows the track muted in LiveKit. EOS mutes too, a new STREAM_START unmutes; survives resume and reconnect"},
	}
}

var videoPadProperties = []property[*sinkPad]{
	msidProp(),
	sourceProp(livekit.TrackSource_CAMERA),
	mutedProp(),
	uintProp("simulcast-layers", "Simulcast layers",
		"Raw input: encode this many layers (full, half, quarter resolution) and publish them as one simulcast track. Read when the chain is built",
		1, 3, 1, rwAny, func(p *sinkPad) *uint { return &p.props.simulcastLayers },
		propDoc{use: "raw input: 2 or 3 simulcast layers (full, half, quarter size) encoded by the element; paused layers stop encoding ([Simulcast and dynacast](#simulcast-and-dynacast))"}),
	stringProp("simulcast-group", "Simulcast group",
		"Encoded input: pads with the same group name become the layers of one simulcast track (see layer). Read when the chain is built",
		nil, rwAny, func(p *sinkPad) **string { return &p.props.simulcastGroup },
		propDoc{use: "encoded input: pads of one group are the layers of one track, named after the group ([Simulcast and dynacast](#simulcast-and-dynacast))"}),
	enumProp("layer", "Simulcast layer",
		"Which layer of its simulcast-group this pad carries", layerEnum, rwAny,
		func(p *sinkPad) *int { return &p.props.layer },
		propDoc{use: "the pad's layer in its `simulcast-group`"}),
}

var audioPadProperties = []property[*sinkPad]{
	msidProp(),
	sourceProp(livekit.TrackSource_MICROPHONE),
	mutedProp(),
}
