/* The request pads' GObject pieces: the enums of their properties and the
 * sizes go-glib needs to subclass GstGhostPad (padclass.go). */
#include "lk.h"

/* Values are livekit.TrackSource's, so they convert by a cast. */
GType
lk_track_source_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {1, "Camera", "camera"},
    {2, "Microphone", "microphone"},
    {3, "Screen share", "screen-share"},
    {4, "Screen share audio", "screen-share-audio"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&id)) {
    GType t = g_enum_register_static ("GstGoLiveKitTrackSource", values);
    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

/* Values are livekit.VideoQuality's (LOW 0, MEDIUM 1, HIGH 2). */
GType
lk_simulcast_layer_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {0, "Low (quarter) layer", "low"},
    {1, "Medium (half) layer", "medium"},
    {2, "High (full) layer", "high"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&id)) {
    GType t = g_enum_register_static ("GstGoLiveKitSimulcastLayer", values);
    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

GType
lk_ghost_pad_type (void)
{
  return GST_TYPE_GHOST_PAD;
}

gsize
lk_ghost_pad_class_size (void)
{
  return sizeof (GstGhostPadClass);
}

gsize
lk_ghost_pad_instance_size (void)
{
  return sizeof (GstGhostPad);
}

void
lk_add_pad_template (gpointer klass, const char *name, const char *caps_str,
    GType pad_type)
{
  GstCaps *caps = gst_caps_from_string (caps_str);

  gst_element_class_add_pad_template (GST_ELEMENT_CLASS (klass),
      gst_pad_template_new_with_gtype (name, GST_PAD_SINK, GST_PAD_REQUEST,
          caps, pad_type));
  gst_caps_unref (caps);
}
