/* The static plugin for Go applications (Register in plugin.go): the same
 * init as the plugin file's descriptor (cshared/plugin_desc.c). */
#include "lk.h"

extern int goLkPluginInit (GstPlugin * plugin);

static gboolean
static_plugin_init (GstPlugin * plugin)
{
  return goLkPluginInit (plugin) ? TRUE : FALSE;
}

gboolean
lk_register_static (void)
{
  return gst_plugin_register_static (GST_VERSION_MAJOR, GST_VERSION_MINOR,
      "golivekit", "Publish a pipeline's audio and video into a LiveKit room",
      static_plugin_init, "0.1.0", "LGPL", "golivekitsink", "golivekitsink",
      "https://github.com/golivekitsink/golivekitsink");
}
