/* The text_%u request pads (captions): GstGoLiveKitTextPad, a ghost pad
 * with the transcribed-track and topic properties, onto an appsink with
 * sync=TRUE, so each buffer reaches Go at its running time. */
#include "lk.h"

extern int goLkTextSample (uintptr_t h, void *data, size_t size,
    char *media, char *format);
extern void goLkHandleDelete (uintptr_t h);

#define TEXT_CAPS "text/x-raw, format=(string){ utf8, pango-markup }; " \
  "application/x-subtitle-vtt"

typedef struct
{
  GstGhostPad parent;
  GMutex lock;
  gchar *transcribed_track;
  gchar *topic;
} GstGoLiveKitTextPad;

typedef struct
{
  GstGhostPadClass parent_class;
} GstGoLiveKitTextPadClass;

enum
{
  PROP_0,
  PROP_TRANSCRIBED_TRACK,
  PROP_TOPIC,
};

G_DEFINE_TYPE (GstGoLiveKitTextPad, lk_text_pad, GST_TYPE_GHOST_PAD);

static void
lk_text_pad_set_property (GObject * obj, guint id, const GValue * v,
    GParamSpec * ps)
{
  GstGoLiveKitTextPad *p = (GstGoLiveKitTextPad *) obj;

  g_mutex_lock (&p->lock);
  switch (id) {
    case PROP_TRANSCRIBED_TRACK:
      g_free (p->transcribed_track);
      p->transcribed_track = g_value_dup_string (v);
      break;
    case PROP_TOPIC:
      g_free (p->topic);
      p->topic = g_value_dup_string (v);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  g_mutex_unlock (&p->lock);
}

static void
lk_text_pad_get_property (GObject * obj, guint id, GValue * v, GParamSpec * ps)
{
  GstGoLiveKitTextPad *p = (GstGoLiveKitTextPad *) obj;

  g_mutex_lock (&p->lock);
  switch (id) {
    case PROP_TRANSCRIBED_TRACK:
      g_value_set_string (v, p->transcribed_track);
      break;
    case PROP_TOPIC:
      g_value_set_string (v, p->topic);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  g_mutex_unlock (&p->lock);
}

static void
lk_text_pad_finalize (GObject * obj)
{
  GstGoLiveKitTextPad *p = (GstGoLiveKitTextPad *) obj;

  g_free (p->transcribed_track);
  g_free (p->topic);
  g_mutex_clear (&p->lock);
  G_OBJECT_CLASS (lk_text_pad_parent_class)->finalize (obj);
}

static void
lk_text_pad_class_init (GstGoLiveKitTextPadClass * klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);

  oc->set_property = lk_text_pad_set_property;
  oc->get_property = lk_text_pad_get_property;
  oc->finalize = lk_text_pad_finalize;
  g_object_class_install_property (oc, PROP_TRANSCRIBED_TRACK,
      g_param_spec_string ("transcribed-track", "Transcribed track",
          "Name of the audio pad (audio_N) whose track these captions "
          "transcribe; NULL: the first audio pad. Without an audio track the "
          "text goes out as a plain text stream on topic", NULL,
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (oc, PROP_TOPIC,
      g_param_spec_string ("topic", "Topic",
          "Text stream topic. lk.transcription (the default) sends "
          "transcription segments of the transcribed track; any other topic, "
          "or no audio track, plain text streams", "lk.transcription",
          G_PARAM_READWRITE | GST_PARAM_MUTABLE_PLAYING |
          G_PARAM_STATIC_STRINGS));
}

static void
lk_text_pad_init (GstGoLiveKitTextPad * p)
{
  g_mutex_init (&p->lock);
  p->topic = g_strdup ("lk.transcription");
}

/* A property's current value, g_free'd by the caller. */
char *
lk_text_pad_get (GstPad * pad, const char *prop)
{
  char *v = NULL;

  g_object_get (pad, prop, &v, NULL);
  return v;
}

void
lk_add_text_pad_template (gpointer klass)
{
  GstCaps *caps = gst_caps_from_string (TEXT_CAPS);

  gst_element_class_add_pad_template (GST_ELEMENT_CLASS (klass),
      gst_pad_template_new_with_gtype ("text_%u", GST_PAD_SINK,
          GST_PAD_REQUEST, caps, lk_text_pad_get_type ()));
  gst_caps_unref (caps);
}

static GstFlowReturn
lk_text_sample (GstAppSink * sink, gpointer user_data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  GstCaps *caps;
  const GstStructure *s;
  const gchar *format = NULL;
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

/* A text pad named name: an appsink in el, ghosted. NULL on failure. */
GstPad *
lk_text_pad_new (GstElement * el, GstPadTemplate * templ, const char *name,
    uintptr_t handle, GstElement ** appsink_out)
{
  GstElement *appsink = gst_element_factory_make ("appsink", NULL);
  GstAppSinkCallbacks cbs = { 0, };
  GstCaps *caps = gst_caps_from_string (TEXT_CAPS);
  GstPad *target, *pad;

  if (appsink == NULL) {
    gst_caps_unref (caps);
    return NULL;
  }
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
  pad = g_object_new (lk_text_pad_get_type (), "name", name, "direction",
      GST_PAD_SINK, "template", templ, NULL);
  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), target);
  gst_object_unref (target);
  gst_element_sync_state_with_parent (appsink);
  *appsink_out = appsink;
  return pad;
}
