/* GObject pieces go-glib v1.4.0 has no constructor for: object and enum
 * param specs, the connection-state enum, the simulate-scenario action
 * signal, and the element class metadata and pad templates (of the pad
 * classes, padclass.go). */
#include "lk.h"

extern gboolean goLkSimulate (GstElement * el, char *name);

GParamSpec *
lk_param_spec_object (const char *name, const char *nick, const char *blurb,
    GType type, GParamFlags flags)
{
  return g_param_spec_object (name, nick, blurb, type, flags);
}

GParamSpec *
lk_param_spec_enum (const char *name, const char *nick, const char *blurb,
    GType type, gint def, GParamFlags flags)
{
  return g_param_spec_enum (name, nick, blurb, type, def, flags);
}

/* Same values and nicks as livekitwebrtcsink's
 * GstWebRTCLiveKitConnectionState, under our own type name so both plugins
 * can live in one process. */
GType
lk_connection_state_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {0, "Server disconnected", "server-disconnected"},
    {1, "Server connected", "server-connected"},
    {2, "Publishing", "publishing"},
    {3, "Published", "published"},
    {4, "Subscribed", "subscribed"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&id)) {
    GType t = g_enum_register_static ("GstGoLiveKitConnectionState", values);
    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

static gboolean
lk_simulate_class_handler (GstElement * el, const gchar * name, gpointer unused)
{
  return goLkSimulate (el, (char *) (name ? name : ""));
}

void
lk_install_simulate_signal (gpointer klass)
{
  g_signal_new_class_handler ("simulate-scenario", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (lk_simulate_class_handler), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 1, G_TYPE_STRING);
}

/* Raw input (system memory first, then the memory features the reference
 * lists) and every encoded format the chains handle. */
#define VIDEO_CAPS "video/x-raw; video/x-raw(memory:CUDAMemory); " \
  "video/x-raw(memory:GLMemory); video/x-raw(memory:NVMM); " \
  "video/x-raw(memory:D3D11Memory); video/x-raw(memory:VAMemory); " \
  "video/x-vp8; video/x-h264; video/x-vp9; video/x-h265; video/x-av1"
/* Plain audio/x-opus (not only channel-mapping-family=0/1 like the
 * reference's template): Opus caps without that field must link too. */
#define AUDIO_CAPS "audio/x-raw; audio/x-opus"

void
lk_element_class_setup (gpointer klass, GType video_pad, GType audio_pad)
{
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);

  gst_element_class_set_metadata (ec, "LiveKit sink (Go)",
      "Sink/Network/WebRTC",
      "Publishes audio and video into a LiveKit room; "
      "drop-in replacement for livekitwebrtcsink that survives LiveKit "
      "resume and reconnect",
      "golivekitsink authors");

  lk_add_pad_template (klass, "video_%u", VIDEO_CAPS, video_pad);
  lk_add_pad_template (klass, "audio_%u", AUDIO_CAPS, audio_pad);
}

void
lk_notify (GObject * obj, const char *prop)
{
  g_object_notify (obj, prop);
}

GType
lk_object_type (GObject * obj)
{
  return G_OBJECT_TYPE (obj);
}

void
lk_set_sink_flag (GstElement * el)
{
  GST_OBJECT_FLAG_SET (el, GST_ELEMENT_FLAG_SINK);
}
