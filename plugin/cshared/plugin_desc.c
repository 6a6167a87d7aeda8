/* The plugin descriptor. GST_PLUGIN_DEFINE in C instead of go-gst's
 * PluginMetadata.Export, whose name string is not NUL-terminated
 * (docs/architecture.md, "go-gst v1.4.0"). The loader finds gst_plugin_golivekit_get_desc. */
#include <gst/gst.h>

#define PACKAGE "golivekit"

/* Exported by package plugin (plugin/plugin.go). */
extern int goLkPluginInit (GstPlugin * plugin);

static gboolean
plugin_init (GstPlugin * plugin)
{
  return goLkPluginInit (plugin) ? TRUE : FALSE;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, golivekit,
    "Publish a pipeline's audio and video into a LiveKit room",
    plugin_init, "0.1.0", "LGPL", "golivekitsink",
    "https://github.com/golivekitsink/golivekitsink")
