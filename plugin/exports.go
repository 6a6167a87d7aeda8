package plugin

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
// panics into a bus ERROR and yields the P before it returns (yieldP).

//export goLkHandleDelete
func goLkHandleDelete(h C.uintptr_t) {
	defer returnToC(nil, "handle-delete")
	cgo.Handle(h).Delete()
}

//export goLkPadCaps
func goLkPadCaps(h C.uintptr_t, name, features *C.char, width, height, fpsN, fpsD, channels C.int, caps *C.char) (ok C.int) {
	var p *sinkPad
	defer func() {
		if r := recover(); r != nil {
			reportPanic(padElement(p), "caps event", r)
			ok = 0
		}
		yieldP()
	}()
	p = cgo.Handle(h).Value().(*sinkPad)
	testPanic("caps event")
	in := capsInfo{
		media: C.GoString(name), features: C.GoString(features),
		width: int(width), height: int(height), fpsN: int(fpsN), fpsD: int(fpsD),
		channels: int(channels), str: C.GoString(caps),
	}
	if p.onCaps(in) {
		return 1
	}
	return 0
}

//export goLkPadEOS
func goLkPadEOS(h C.uintptr_t) {
	var p *sinkPad
	defer func() {
		if r := recover(); r != nil {
			reportPanic(padElement(p), "eos event", r)
		}
		yieldP()
	}()
	p = cgo.Handle(h).Value().(*sinkPad)
	p.onEOS()
}

// goLkPadStreamStart returns 1 when the stream follows an EOS, so that the
// chain is flushed.
//
//export goLkPadStreamStart
func goLkPadStreamStart(h C.uintptr_t) (afterEOS C.int) {
	var p *sinkPad
	defer func() {
		if r := recover(); r != nil {
			reportPanic(padElement(p), "stream-start event", r)
		}
		yieldP()
	}()
	p = cgo.Handle(h).Value().(*sinkPad)
	if p.onStreamStart() {
		return 1
	}
	return 0
}

// goLkSample is an appsink's new-sample when the streaming thread calls
// into Go itself (no sample ring: samplequeue.go).
//
//export goLkSample
func goLkSample(h C.uintptr_t, data unsafe.Pointer, size C.size_t, pts C.int64_t, header, key C.int) C.int {
	defer yieldP()
	return takeSample(h, data, size, pts, header, key)
}

// takeSample sends one appsink sample; the sample ring's reader calls it
// directly.
func takeSample(h C.uintptr_t, data unsafe.Pointer, size C.size_t, pts C.int64_t, header, key C.int) (ret C.int) {
	var ctx *sinkCtx
	defer func() {
		if r := recover(); r != nil {
			if ctx != nil {
				reportPanic(padElement(ctx.pad), "new-sample", r)
			} else {
				reportPanic(nil, "new-sample", r)
			}
			ret = C.GST_FLOW_ERROR
		}
	}()
	ctx = cgo.Handle(h).Value().(*sinkCtx)
	testPanic("new-sample")
	t := ctx.pad.publishedTrack()
	if t == nil || size == 0 {
		return C.GST_FLOW_OK // not published (yet): live media is dropped
	}
	if header != 0 && ctx.codec == rtp.CodecOpus {
		return C.GST_FLOW_OK // OpusHead/OpusTags are not media
	}
	// The frame points into the mapped GstBuffer; it is valid for this call only.
	frame := unsafe.Slice((*byte)(data), int(size))
	if layered, err := writeLayerFrame(ctx, t, frame, pts, key != 0); layered {
		if err != nil {
			ctx.pad.e.debugf("%s: layer frame not sent: %v", ctx.pad.name, err)
		}
		return C.GST_FLOW_OK
	}
	if err := t.WriteFrame(frame, time.Duration(pts)); err != nil {
		ctx.pad.e.debugf("%s: frame not sent: %v", ctx.pad.name, err)
	}
	return C.GST_FLOW_OK
}

//export goLkSinkEOS
func goLkSinkEOS(h C.uintptr_t) {
	defer returnToC(nil, "appsink eos")
	ctx := cgo.Handle(h).Value().(*sinkCtx)
	ctx.pad.e.debugf("%s: EOS reached the appsink", ctx.pad.name)
}

//export goLkSimulate
func goLkSimulate(el *C.GstElement, name *C.char) (ok C.gboolean) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(el, "simulate-scenario", r)
			ok = 0
		}
		yieldP()
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

func padElement(p *sinkPad) *C.GstElement {
	if p == nil || p.e == nil {
		return nil
	}
	return p.e.gst
}
