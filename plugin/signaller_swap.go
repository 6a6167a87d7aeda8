package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
)

// The signaller property is writable like livekitwebrtcsink's, but only
// with another GstGoLiveKitSignaller (there is no signaller interface to
// implement) and only in NULL/READY: a running session reads its settings
// once and reports its connection-state to the signaller it started with.

// signallerObj returns the current signaller.
func (e *element) signallerObj() *signaller {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sig
}

// setSignaller replaces the signaller with obj (borrowed).
func (e *element) setSignaller(obj C.gpointer) {
	testPanic("set-property")
	if obj == nil || C.lk_object_is_a(obj, C.GType(signallerType)) == 0 {
		e.warnf("signaller: only a GstGoLiveKitSignaller can be set; ignored")
		return
	}
	sig, ok := glib.FromObjectUnsafePrivate(unsafe.Pointer(obj)).(*signaller)
	if !ok {
		e.warnf("signaller: not a golivekitsink signaller; ignored")
		return
	}
	C.g_object_ref(obj) // our reference, dropped when replaced again
	newObj := &glib.Object{GObject: glib.ToGObject(unsafe.Pointer(obj))}
	e.mu.Lock()
	old, oldManual := e.sigObj, e.sigRefManual
	e.sigObj, e.sig, e.sigRefManual = newObj, sig, true
	e.mu.Unlock()
	// The one from Constructed is owned by its Go wrapper (finalizer);
	// one set here holds the ref taken above.
	if old != nil && oldManual {
		C.g_object_unref(C.gpointer(old.Unsafe()))
	}
}
