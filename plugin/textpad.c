/* The text_%u request pads (captions): a GstGoLiveKitTextPad (textpad.go)
 * ghosting an appsink with sync=TRUE, so each buffer reaches Go at its
 * running time. */
#include "lk.h"

extern int goLkTextSample (uintptr_t h, void *data, size_t size,
    char *media, char *format);
extern void goLkHandleDelete (uintptr_t h);

#define TEXT_CAPS "text/x-raw, format=(string){ utf8, pango-markup }; " \
  "application/x-subtitle-vtt"

void
lk_add_text_pad_template (gpointer klass, GType text_pad)
{
  lk_add_pad_template (klass, "text_%u", TEXT_CAPS, text_pad);
}

GstPad *
lk_text_pad_new (GstPadTemplate * templ, const char *name, GType type)
{
  return g_object_new (type, "name", name, "direction", GST_PAD_SINK,
      "template", templ, NULL);
}

static GstFlowReturn
lk_text_sample (GstAppSink * sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  GstCaps *caps;
  const GstStructure *s;
  const gchar *format;
  GstMapInfo map;
  int ret;

  if (sample == NULL)
    return GST_FLOW_FLUSHING;
  buf = gst_sample_get_buffer (sample);
  caps = gst_sample_get_caps (sample);
  if (buf == NULL || caps == NULL || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_sample_unref (sample);
    return GST_FLOW_OK;
  }
  s = gst_caps_get_structure (caps, 0);
  format = gst_structure_get_string (s, "format");
  ret = goLkTextSample ((uintptr_t) user_data, map.data, map.size,
      (char *) gst_structure_get_name (s), (char *) (format ? format : ""));
  gst_buffer_unmap (buf, &map);
  gst_sample_unref (sample);
  return (GstFlowReturn) ret;
}

static void
lk_text_handle_destroy (gpointer data)
{
  goLkHandleDelete ((uintptr_t) data);
}

/* Adds an appsink for the text pad to el and makes it the pad's target;
 * the appsink's callbacks own handle. NULL without appsink. */
GstElement *
lk_text_pad_attach (GstElement * el, GstPad * pad, uintptr_t handle)
{
  GstElement *appsink = gst_element_factory_make ("appsink", NULL);
  GstAppSinkCallbacks cbs = { 0, };
  GstCaps *caps;
  GstPad *target;

  if (appsink == NULL)
    return NULL;
  caps = gst_caps_from_string (TEXT_CAPS);
  /* sync: each caption is sent when its running time comes. */
  g_object_set (appsink, "sync", TRUE, "async", FALSE, "qos", FALSE,
      "enable-last-sample", FALSE, "emit-signals", FALSE, "caps", caps,
      "max-buffers", 16, "drop", FALSE, "wait-on-eos", FALSE, NULL);
  gst_caps_unref (caps);
  cbs.new_sample = lk_text_sample;
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &cbs,
      (gpointer) handle, lk_text_handle_destroy);
  gst_bin_add (GST_BIN (el), appsink);
  target = gst_element_get_static_pad (appsink, "sink");
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), target);
  gst_object_unref (target);
  gst_element_sync_state_with_parent (appsink);
  return appsink;
}
