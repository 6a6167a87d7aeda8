package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"github.com/go-gst/go-glib/glib"
)

// Signaller properties of livekitwebrtcsink that mean nothing for a
// publish-only LiveKit sink without webrtcbin. They are accepted with the
// reference's names, types and defaults.

const (
	roleConsumer = 0
	roleProducer = 1
)

// noWebRTCDataChannel is the blurb of reliable-channel and lossy-channel.
const noWebRTCDataChannel = "GstWebRTCDataChannel here. golivekitsink's data channels are pion's, " +
	"not GstWebRTCDataChannel objects: always NULL. Send with the element's publish-data action signal, receive with its data-received signal"

// compatSignallerProperties (the tail of signallerProperties).
var compatSignallerProperties = []property[*signaller]{
	enumProp("role", "Signaller Role",
		compat+"golivekitsink always publishes (the sink sets producer, like livekitwebrtcsink)",
		enumType{gtype: func() C.GType { return C.lk_signaller_role_get_type() }, def: roleConsumer}, pRW,
		func(s *signaller) *int { return &s.role },
		propDoc{def: "pspec default `consumer`, value `producer`", use: "no effect: always publishes"}),
	stringProp("producer-peer-id", "Producer Peer ID", compat+"only livekitwebrtcsrc (consumer) uses it",
		nil, pRW, func(s *signaller) **string { return &s.producerPeer }, noEffect("consumer-only on the reference")),
	stringArrayProp("excluded-producer-peer-ids", "Excluded Producer Peer IDs", compat+"only livekitwebrtcsrc (consumer) uses it",
		"producer-peer-id", pRW, func(s *signaller) *[]string { return &s.excludedPeers }, nil, noEffect("consumer-only on the reference")),
	{
		name: "manual-sdp-munging", nick: "Manual SDP munging",
		blurb: "Whether the signaller munges SDP itself: always FALSE (there is no webrtcbin SDP to munge)",
		flags: pRO, value: boolType{false},
		get: func(*signaller) *glib.Value { return boolValue(false) },
		doc: propDoc{use: "always FALSE"},
	},
	nullChannelProp("reliable-channel", "Reliable channel", "livekitwebrtcsink exposes its _reliable "+noWebRTCDataChannel),
	nullChannelProp("lossy-channel", "Lossy channel", "livekitwebrtcsink exposes its _lossy "+noWebRTCDataChannel),
}

// nullChannelProp is a read-only GObject property that is always NULL.
func nullChannelProp(name, nick, blurb string) property[*signaller] {
	return property[*signaller]{name: name, nick: nick, blurb: blurb, flags: pRO,
		value: objectType{func() C.GType { return C.G_TYPE_OBJECT }},
		get:   func(*signaller) *glib.Value { return nil },
		doc: propDoc{use: "always NULL: golivekitsink's `_reliable`/`_lossy` data channels are pion's, not GstWebRTCDataChannel objects. " +
			"Send with the element's `publish-data` action signal, receive with `data-received`"}}
}
