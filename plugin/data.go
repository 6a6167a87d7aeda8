package plugin

/*
#include <stdlib.h>
#include "lk.h"
*/
import "C"

import (
	"errors"
	"unsafe"

	"github.com/golivekitsink/golivekitsink/session"
)

// Data packets (docs/properties.md, "Signals"): the publish-data action
// signal and the data-received signal. No GstWebRTCDataChannel exists, so
// signaller::reliable-channel and lossy-channel stay NULL.

//export goLkPublishData
func goLkPublishData(el *C.GstElement, data unsafe.Pointer, size C.size_t, topic *C.char, reliable C.gboolean, dests **C.char) (ok C.gboolean) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(el, "publish-data", r)
			ok = 0
		}
		yieldP()
	}()
	e := fromC(el)
	if e == nil {
		return 0
	}
	payload := C.GoBytes(data, C.int(size))
	var destinations []string
	if dests != nil {
		for _, d := range unsafe.Slice(dests, 1<<20) {
			if d == nil {
				break
			}
			destinations = append(destinations, C.GoString(d))
		}
	}
	if e.publishData(payload, C.GoString(topic), reliable != 0, destinations) {
		return 1
	}
	return 0
}

// publishData sends one packet and reports whether it was queued. A full
// recovery queue or an oversized packet is a WARNING; a lossy packet
// dropped while recovering, or no session, only a log line.
func (e *element) publishData(payload []byte, topic string, reliable bool, destinations []string) bool {
	e.mu.Lock()
	s := e.sess
	e.mu.Unlock()
	if s == nil {
		e.warnf("publish-data: no session (element is not PAUSED or PLAYING)")
		return false
	}
	err := s.PublishData(payload, topic, reliable, destinations)
	switch {
	case err == nil:
		return true
	case errors.Is(err, session.ErrDataQueueFull), errors.Is(err, session.ErrDataTooLarge):
		postWarning(e.gst, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_WRITE, "publish-data: "+err.Error(), "")
	default:
		e.debugf("publish-data: %v", err)
	}
	return false
}

// OnData raises data-received for a packet another participant sent.
func (h *handler) OnData(m session.DataMessage) {
	if h.closed.Load() {
		return
	}
	defer recoverToBus(h.el, "data-received")
	var data unsafe.Pointer
	if len(m.Payload) > 0 {
		data = C.CBytes(m.Payload)
		defer C.free(data)
	}
	withCString(m.ParticipantIdentity, func(id *C.char) {
		withCString(m.Topic, func(topic *C.char) {
			C.lk_emit_data_received(h.el, id, topic, data, C.size_t(len(m.Payload)))
		})
	})
}
