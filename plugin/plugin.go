// Command plugin builds libgstgolivekit.so, the GStreamer plugin "golivekit"
// with the element golivekitsink:
//
//	go build -buildmode=c-shared -o build/libgstgolivekit.so ./plugin
//
// This package is GStreamer glue only; media and LiveKit logic live in
// package session.
package main

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"
)

func main() {}

// signallerType is the GType of GstGoLiveKitSignaller, set at plugin init.
var signallerType glib.Type

//export goLkPluginInit
func goLkPluginInit(plugin *C.GstPlugin) (ok C.int) {
	defer func() {
		if r := recover(); r != nil {
			logAt(C.GST_LEVEL_ERROR, nil, panicText(r))
			ok = 0
		}
	}()
	C.lk_debug_init()
	signallerType = glib.RegisterGoType("GstGoLiveKitSignaller", &signaller{}, glib.ExtendsObject)
	if signallerType == 0 {
		return 0
	}
	p := gst.FromGstPluginUnsafeNone(unsafe.Pointer(plugin))
	if !gst.RegisterElement(p, "golivekitsink", gst.RankNone, &element{}, gst.ExtendsBin, gst.InterfaceChildProxy) {
		return 0
	}
	return 1
}
