package plugin

/*
#include <stdlib.h>
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"runtime"
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

// returnToC is recoverToBus for a function entered from C (an export or a
// go-gst vfunc), which then yields the P before going back: defer
// returnToC(el, "where"). Entries that recover themselves call yieldP last.
func returnToC(el *C.GstElement, where string) {
	if r := recover(); r != nil {
		reportPanic(el, where, r)
	}
	yieldP()
}

// yieldP lets the goroutines that wait for the runtime's only P
// (cshared/runtime.go) run before a thread entered from C goes back to C.
// That thread keeps the P while it runs C code, and the runtime takes it
// back only once the thread has stayed out of Go for a whole tick of its
// monitor (up to 10 ms). An application calling publish-data back to back,
// and sleeping a few ms after each refusal, so kept the P for seconds:
// the goroutines the network woke (signalling, ICE, SCTP) got a turn only
// now and then, and a resume's ICE restart failed
// (tests/plugin/hostcalls_test.go). Gosched queues the caller behind them.
func yieldP() { runtime.Gosched() }

func withCString(s string, f func(*C.char)) {
	c := C.CString(s)
	defer C.free(unsafe.Pointer(c))
	f(c)
}

func freeC(c *C.char) { C.free(unsafe.Pointer(c)) }
