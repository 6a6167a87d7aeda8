package main

/*
#include "lk.h"
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// Go functions called from trampolines.c and gobject.c. Each recovers
// panics into a bus ERROR.

//export goLkHandleDelete
func goLkHandleDelete(h C.uintptr_t) {
	defer recoverToBus(nil, "handle-delete")
	cgo.Handle(h).Delete()
}

//export goLkPadCaps
func goLkPadCaps(h C.uintptr_t, name *C.char, width, height, channels C.int, caps *C.char) (ok C.int) {
	p := cgo.Handle(h).Value().(*sinkPad)
	defer func() {
		if r := recover(); r != nil {
			reportPanic(p.e.gst, "caps event", r)
			ok = 0
		}
	}()
	if p.onCaps(C.GoString(name), int(width), int(height), int(channels), C.GoString(caps)) {
		return 1
	}
	return 0
}

//export goLkPadEOS
func goLkPadEOS(h C.uintptr_t) {
	p := cgo.Handle(h).Value().(*sinkPad)
	defer recoverToBus(p.e.gst, "eos event")
	p.onEOS()
}

//export goLkSample
func goLkSample(h C.uintptr_t, data unsafe.Pointer, size C.size_t, pts C.int64_t, keyframe, header C.int) (ret C.int) {
	ctx := cgo.Handle(h).Value().(*sinkCtx)
	defer func() {
		if r := recover(); r != nil {
			reportPanic(ctx.pad.e.gst, "new-sample", r)
			ret = C.GST_FLOW_ERROR
		}
	}()
	t := ctx.pad.track.Load()
	if t == nil || size == 0 {
		return C.GST_FLOW_OK // not published (yet): live media is dropped
	}
	if header != 0 && ctx.codec == rtp.CodecOpus {
		return C.GST_FLOW_OK // OpusHead/OpusTags are not media
	}
	// The frame points into the mapped GstBuffer; it is valid for this call only.
	frame := unsafe.Slice((*byte)(data), int(size))
	if err := t.WriteFrame(frame, time.Duration(pts), keyframe != 0); err != nil {
		ctx.pad.e.debugf("%s: frame not sent: %v", ctx.pad.name, err)
	}
	return C.GST_FLOW_OK
}

//export goLkSinkEOS
func goLkSinkEOS(h C.uintptr_t) {
	ctx := cgo.Handle(h).Value().(*sinkCtx)
	defer recoverToBus(ctx.pad.e.gst, "appsink eos")
	ctx.pad.e.debugf("%s: EOS reached the appsink", ctx.pad.name)
}

//export goLkSimulate
func goLkSimulate(el *C.GstElement, name *C.char) (ok C.gboolean) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(el, "simulate-scenario", r)
			ok = 0
		}
	}()
	e := fromC(el)
	if e == nil {
		return 0
	}
	if e.simulate(C.GoString(name)) {
		return 1
	}
	return 0
}
