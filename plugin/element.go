package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"
	"github.com/golivekitsink/golivekitsink/session"
)

// element is golivekitsink: a GstBin with request pads video_%u/audio_%u
// (ghost pads into per-pad parser -> appsink chains), a signaller child
// object for the LiveKit settings, and one session.Session while the
// element is PAUSED or PLAYING.
type element struct {
	gst    *C.GstElement // self; borrowed, set in Constructed
	tracks sync.Map      // *session.Track -> *sinkPad

	// mu guards everything below. Lock order: sinkPad.mu before element.mu.
	// Session handler callbacks never take mu.
	mu     sync.Mutex
	sigObj *glib.Object // the signaller GObject (our reference)
	sig    *signaller
	// sigRefManual: sigObj was set through the property and holds a ref
	// taken by hand (signaller_swap.go), not one owned by a Go finalizer.
	sigRefManual bool
	props        elementProps
	pads         map[*C.GstPad]*sinkPad
	nextVideo    uint
	nextAudio    uint
	nextText     uint
	textPads     map[*C.GstPad]*textPad
	sess         *session.Session
	handler      *handler
	hold         publishHoldState // publishhold.go
}

func (e *element) New() glib.GoObjectSubclass {
	return &element{props: defaultElementProps(), pads: map[*C.GstPad]*sinkPad{},
		textPads: map[*C.GstPad]*textPad{}}
}

func (e *element) ClassInit(klass *glib.ObjectClass) {
	C.lk_element_class_setup(C.gpointer(klass.Unsafe()), C.GType(videoPadType), C.GType(audioPadType))
	installProperties(klass, elementProperties)
	C.lk_install_simulate_signal(C.gpointer(klass.Unsafe()))
	C.lk_install_encoder_setup_signal(C.gpointer(klass.Unsafe()))
	C.lk_install_participant_signals(C.gpointer(klass.Unsafe()))
	C.lk_add_text_pad_template(C.gpointer(klass.Unsafe()), C.GType(textPadType))
}

// Constructed creates the signaller (not in InstanceInit: go-glib holds its
// registration lock there, docs/architecture.md, "go-gst v1.4.0") and marks the bin a sink.
func (e *element) Constructed(o *glib.Object) {
	defer returnToC(nil, "constructed")
	e.gst = (*C.GstElement)(o.Unsafe())
	obj, err := glib.NewObjectWithProperties(signallerType, nil)
	if err != nil {
		panic("cannot create the signaller: " + err.Error())
	}
	e.mu.Lock()
	e.sigObj = obj
	e.sig = glib.FromObjectUnsafePrivate(obj.Unsafe()).(*signaller)
	e.mu.Unlock()
	C.lk_set_sink_flag(e.gst)
}

// fromC finds the Go element behind a GstElement pointer.
func fromC(el *C.GstElement) *element {
	if el == nil {
		return nil
	}
	e, _ := glib.FromObjectUnsafePrivate(unsafe.Pointer(el)).(*element)
	return e
}

// ChangeState validates the settings at NULL->READY, runs the session
// between READY->PAUSED and PAUSED->READY, and reports NO_PREROLL like any
// live sink.
func (e *element) ChangeState(self *gst.Element, t gst.StateChange) (ret gst.StateChangeReturn) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(e.gst, "change-state", r)
			ret = gst.StateChangeFailure
		}
		yieldP()
	}()
	testPanic("change-state")
	switch t {
	case gst.StateChangeNullToReady:
		if err := e.validate(); err != nil {
			err.post(e.gst)
			return gst.StateChangeFailure
		}
	case gst.StateChangeReadyToPaused:
		if !e.startSession() {
			return gst.StateChangeFailure
		}
	}

	ret = self.ParentChangeState(t)
	if ret == gst.StateChangeFailure {
		if t == gst.StateChangeReadyToPaused {
			e.stopSession()
		}
		return ret
	}

	switch t {
	case gst.StateChangeReadyToPaused, gst.StateChangePlayingToPaused:
		ret = gst.StateChangeNoPreroll
	case gst.StateChangePausedToReady:
		// The appsinks have stopped: let the sample ring send their last
		// frames and drop its refs on them (samplequeue.c).
		C.lk_sample_queue_sync()
		e.stopSession()
	}
	return ret
}
