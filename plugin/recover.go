package plugin

/*
#include <stdlib.h>
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"unsafe"
)

// A Go panic in a callback entered from C would kill the host process
// (gst-launch, a Python app). Every such entry point defers recoverToBus,
// or recovers itself and calls reportPanic.

func panicText(r any) string { return fmt.Sprintf("golivekitsink: internal error: %v", r) }

// reportPanic logs a recovered panic and posts it as a bus ERROR on el (if known).
func reportPanic(el *C.GstElement, where string, r any) {
	stack := string(debug.Stack())
	logAt(C.GST_LEVEL_ERROR, el, fmt.Sprintf("panic in %s: %v\n%s", where, r, stack))
	if el != nil {
		postError(el, C.lk_core_error_quark(), C.GST_CORE_ERROR_FAILED, panicText(r), where+": "+stack)
	}
}

// recoverToBus must be deferred directly: defer recoverToBus(el, "where").
func recoverToBus(el *C.GstElement, where string) {
	if r := recover(); r != nil {
		reportPanic(el, where, r)
	}
}

func withCString(s string, f func(*C.char)) {
	c := C.CString(s)
	defer C.free(unsafe.Pointer(c))
	f(c)
}

func freeC(c *C.char) { C.free(unsafe.Pointer(c)) }
