// Package plugin is the golivekitsink GStreamer element: GStreamer glue only;
// media and LiveKit logic live in package session.
//
// It is built two ways:
//   - as the plugin file libgstgolivekit.so (plugin "golivekit"), by the main
//     package in plugin/cshared:
//     go build -buildmode=c-shared -o build/libgstgolivekit.so ./plugin/cshared
//   - into a Go application that uses go-gst, which calls Register after
//     gst.Init. Such an application must not load libgstgolivekit.so: that
//     would start a second Go runtime in the process, which Go does not
//     support (docs/architecture.md, "Go applications").
package plugin

/*
#cgo pkg-config: gstreamer-1.0 gstreamer-app-1.0 gstreamer-video-1.0
#include "lk.h"
*/
import "C"

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"
)

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
	initLogThresholds()
	signallerType = glib.RegisterGoType("GstGoLiveKitSignaller", &signaller{}, glib.ExtendsObject)
	if signallerType == 0 || !registerPadClasses() || !registerTextPadClass() {
		return 0
	}
	p := gst.FromGstPluginUnsafeNone(unsafe.Pointer(plugin))
	if !gst.RegisterElement(p, "golivekitsink", gst.RankNone, &element{}, gst.ExtendsBin, gst.InterfaceChildProxy) {
		return 0
	}
	return 1
}

var (
	registerMu sync.Mutex
	registered bool
)

// Register makes the element golivekitsink available in this process, as
// the static plugin "golivekit", for a Go application that embeds
// GStreamer through go-gst. Call it after gst.Init; once it succeeded,
// later calls do nothing. It fails before gst.Init (a later call may then
// succeed), and when golivekitsink is already known to GStreamer, for
// example from libgstgolivekit.so on GST_PLUGIN_PATH.
func Register() error {
	registerMu.Lock()
	defer registerMu.Unlock()
	switch {
	case registered:
		return nil
	case C.gst_is_initialized() == 0:
		return errors.New("golivekit: Register called before gst.Init")
	case gst.Find("golivekitsink") != nil:
		return errors.New("golivekit: golivekitsink is already registered (libgstgolivekit.so on GST_PLUGIN_PATH or installed?); a Go application must not load it")
	case C.lk_register_static() == 0:
		return errors.New("golivekit: registering the static plugin failed (see GST_DEBUG=golivekitsink:5)")
	}
	registered = true
	return nil
}
