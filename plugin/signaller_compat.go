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

// compatSignallerSpecs: role, producer-peer-id, excluded-producer-peer-ids,
// manual-sdp-munging, reliable-channel, lossy-channel (in that order).
func compatSignallerSpecs() []*glib.ParamSpec {
	rw := C.GParamFlags(pRW)
	return []*glib.ParamSpec{
		spec("role", "Signaller Role",
			compat+"golivekitsink always publishes (the sink sets producer, like livekitwebrtcsink)",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_enum(n, k, b, C.lk_signaller_role_get_type(), roleConsumer, rw)
			}),
		stringSpec("producer-peer-id", "Producer Peer ID", compat+"only livekitwebrtcsrc (consumer) uses it", nil, rw),
		spec("excluded-producer-peer-ids", "Excluded Producer Peer IDs", compat+"only livekitwebrtcsrc (consumer) uses it",
			func(n, k, b *C.char) *C.GParamSpec {
				e := C.CString("producer-peer-id")
				defer freeC(e)
				return C.lk_param_spec_string_array(n, k, b, e, rw)
			}),
		boolSpec("manual-sdp-munging", "Manual SDP munging",
			"Whether the signaller munges SDP itself: always FALSE (there is no webrtcbin SDP to munge)", false, C.G_PARAM_READABLE),
		spec("reliable-channel", "Reliable channel",
			"livekitwebrtcsink exposes its _reliable GstWebRTCDataChannel here. golivekitsink's data channels are pion's, "+
				"not GstWebRTCDataChannel objects: always NULL",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_object(n, k, b, C.G_TYPE_OBJECT, C.G_PARAM_READABLE)
			}),
		spec("lossy-channel", "Lossy channel",
			"livekitwebrtcsink exposes its _lossy GstWebRTCDataChannel here. golivekitsink's data channels are pion's, "+
				"not GstWebRTCDataChannel objects: always NULL",
			func(n, k, b *C.char) *C.GParamSpec {
				return C.lk_param_spec_object(n, k, b, C.G_TYPE_OBJECT, C.G_PARAM_READABLE)
			}),
	}
}

// setCompat stores a compatibility property; s.mu is held.
func (s *signaller) setCompat(id uint, gv *C.GValue) bool {
	switch id {
	case spRole:
		s.role = int(C.g_value_get_enum(gv))
	case spProducerPeerID:
		s.producerPeer = gvalueString(gv)
	case spExcludedProducerPeerIDs:
		s.excludedPeers = nil
		for i := C.guint(0); i < C.lk_value_array_size(gv); i++ {
			if c := C.lk_value_array_string(gv, i); c != nil {
				s.excludedPeers = append(s.excludedPeers, C.GoString(c))
			}
		}
	default:
		return false
	}
	return true
}

// getCompat reads a compatibility property; s.mu is held.
func (s *signaller) getCompat(id uint) (*glib.Value, bool) {
	switch id {
	case spRole:
		return enumValue(C.lk_signaller_role_get_type(), s.role), true
	case spProducerPeerID:
		return stringValue(s.producerPeer), true
	case spExcludedProducerPeerIDs:
		v, _ := glib.ValueInit(glib.Type(C.lk_value_array_type()))
		for _, p := range s.excludedPeers {
			withCString(p, func(c *C.char) { C.lk_value_array_append_string(nativeValue(v), c) })
		}
		return v, true
	case spManualSDPMunging:
		return boolValue(false), true
	case spReliableChannel, spLossyChannel:
		return nil, true // NULL object
	}
	return nil, false
}
