// Command cshared builds libgstgolivekit.so, the GStreamer plugin
// "golivekit" with the element golivekitsink (package plugin):
//
//	go build -buildmode=c-shared -o build/libgstgolivekit.so ./plugin/cshared
//
// GStreamer finds the plugin through gst_plugin_golivekit_get_desc
// (plugin_desc.c), whose init is package plugin's goLkPluginInit.
package main

/*
#cgo pkg-config: gstreamer-1.0
*/
import "C"

import _ "github.com/golivekitsink/golivekitsink/plugin"

func main() {}
