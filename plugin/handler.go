package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/golivekitsink/golivekitsink/session"
)

// handler is the session.Handler of one session. Its methods run on the
// session's dispatcher goroutine; they post bus messages and never take
// element.mu. The element holds a ref on itself while a session exists, so
// el stays valid until Close has returned; closed guards the rest.
type handler struct {
	e      *element
	sig    *signaller // the signaller the session started with
	el     *C.GstElement
	closed atomic.Bool
	conn   connStats // for the stats property
}

func connectionState(sc session.StateChange) int {
	switch sc.State {
	case session.StateConnected:
		if len(sc.TrackSIDs) > 0 {
			return connPublished
		}
		return connServerConnected
	default:
		return connServerDisconnected
	}
}

func (h *handler) OnStateChange(sc session.StateChange) {
	if h.closed.Load() {
		return
	}
	defer recoverToBus(h.el, "state-change handler")
	h.conn.record(sc)
	h.e.debugf("connection %s (reason %q, attempt %d, participant %s, region %q)",
		sc.State, sc.Reason, sc.Attempt, sc.ParticipantSID, sc.Region)
	postConnection(h.el, sc)
	h.sig.setConnectionState(connectionState(sc))
	if sc.State == session.StateConnected {
		h.e.startUpstreamEncoders()
	}
}

func (h *handler) OnKeyframeRequest(t *session.Track) {
	if h.closed.Load() || t == nil {
		return
	}
	defer recoverToBus(h.el, "keyframe handler")
	if p := h.e.padForTrack(t); p != nil {
		ok := p.requestKeyframe()
		h.e.debugf("%s: keyframe requested upstream (handled=%v)", p.name, ok)
	}
}

func (h *handler) OnWarning(err error) {
	if h.closed.Load() || err == nil {
		return
	}
	defer recoverToBus(h.el, "warning handler")
	if errors.Is(err, session.ErrMetadataNotAllowed) {
		postWarning(h.el, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_NOT_AUTHORIZED,
			"signaller::participant-name/-metadata/-attributes: "+err.Error(), "")
		return
	}
	postWarning(h.el, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FAILED, err.Error(), "")
}

func (h *handler) OnFatal(err error) {
	if h.closed.Load() {
		return
	}
	defer recoverToBus(h.el, "fatal handler")
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	h.sig.setConnectionState(connServerDisconnected)
	domain, code, debug := endError(err)
	postError(h.el, domain, code, "Signalling error: "+msg, debug)
}

// endError maps how the session ended onto GStreamer's error domains, which
// applications switch on (table in docs/properties.md, "Errors on the bus").
func endError(err error) (domain C.GQuark, code C.gint, debug string) {
	switch session.KindOf(err) {
	case session.EndUnauthorized:
		return C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_NOT_AUTHORIZED, ""
	case session.EndUnreachable, session.EndUntrusted:
		return C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_OPEN_WRITE, ""
	case session.EndDisconnected:
		var de *session.DisconnectError
		errors.As(err, &de)
		return C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_WRITE, "reason=" + de.Reason.String()
	}
	return C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FAILED, ""
}

func (h *handler) OnTrackError(t *session.Track, err error) {
	if h.closed.Load() {
		return
	}
	defer recoverToBus(h.el, "track-error handler")
	name := "?"
	if t != nil {
		name = t.Spec().Name
	}
	postWarning(h.el, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FAILED,
		fmt.Sprintf("%s: %v", name, err), "")
}

// startSession creates and starts the session at READY->PAUSED and adds a
// track for every pad that already has caps.
func (e *element) startSession() bool {
	if err := e.startE2EE(); err != nil {
		postError(e.gst, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_SETTINGS, err.Error(), "")
		return false
	}
	cfg := e.sessionConfig()
	h := &handler{e: e, el: e.gst, sig: e.signallerObj()}
	s, err := session.New(cfg, h)
	if err != nil {
		postError(e.gst, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_SETTINGS,
			"Cannot start the LiveKit session: "+err.Error(), "")
		return false
	}
	C.gst_object_ref(C.gpointer(e.gst)) // dropped in stopSession after Close
	s.Start()
	h.sig.attach(s, cfg)
	e.mu.Lock()
	e.sess = s
	e.handler = h
	e.publishReadyLocked()
	e.mu.Unlock()
	e.debugf("session started")
	return true
}

// stopSession closes the session (Leave, goroutines gone) at PAUSED->READY.
func (e *element) stopSession() {
	e.mu.Lock()
	s, h := e.sess, e.handler
	e.sess, e.handler = nil, nil
	e.stopPublishHoldLocked()
	for _, p := range e.pads {
		if t := p.track.Swap(nil); t != nil {
			e.forgetTrack(t)
		}
	}
	e.mu.Unlock()
	if s == nil {
		return
	}
	h.sig.detach()
	s.Close()
	h.closed.Store(true)
	h.sig.setConnectionState(connServerDisconnected)
	e.debugf("session closed")
	select {
	case <-s.Done():
		C.gst_object_unref(C.gpointer(e.gst))
	default:
		// The state change came from a handler callback (a bus sync handler,
		// a notify::connection-state callback): that callback is still up
		// this goroutine's stack and uses the element until it returns.
		go func() {
			<-s.Done()
			C.gst_object_unref(C.gpointer(e.gst))
		}()
	}
}

// simulate is the simulate-scenario action signal.
func (e *element) simulate(name string) bool {
	e.mu.Lock()
	s := e.sess
	e.mu.Unlock()
	if s == nil {
		e.warnf("simulate-scenario %q: no session (element is not PAUSED or PLAYING)", name)
		return false
	}
	if err := s.Simulate(name); err != nil {
		e.warnf("simulate-scenario %q: %v", name, err)
		return false
	}
	e.infof("simulate-scenario %q sent", name)
	return true
}

// Track -> pad, for keyframe requests and track errors from the session.

func (e *element) rememberTrack(t *session.Track, p *sinkPad) { e.tracks.Store(t, p) }
func (e *element) forgetTrack(t *session.Track)               { e.tracks.Delete(t) }

func (e *element) padForTrack(t *session.Track) *sinkPad {
	if v, ok := e.tracks.Load(t); ok {
		return v.(*sinkPad)
	}
	return nil
}
