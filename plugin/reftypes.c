/* GTypes, param specs and signals for the properties golivekitsink shares
 * with livekitwebrtcsink. The enum and flags types have the reference's
 * values and nicks under our own names, so both plugins can be loaded in one
 * process and gstreamer-webrtc need not be linked. */
#include "lk.h"

static GType
register_enum (gsize * id, const char *name, const GEnumValue * values)
{
  if (g_once_init_enter (id)) {
    GType t = g_enum_register_static (name, values);
    g_once_init_leave (id, t);
  }
  return (GType) * id;
}

/* livekitwebrtcsink: GstWebRTCSinkCongestionControl */
GType
lk_congestion_control_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {0, "Disabled", "disabled"},
    {1, "Homegrown", "homegrown"},
    {2, "Google Congestion Control", "gcc"},
    {0, NULL, NULL},
  };
  return register_enum (&id, "GstGoLiveKitCongestionControl", values);
}

/* GstWebRTCICETransportPolicy (gstreamer-webrtc) */
GType
lk_ice_transport_policy_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {0, "All", "all"},
    {1, "Relay", "relay"},
    {0, NULL, NULL},
  };
  return register_enum (&id, "GstGoLiveKitICETransportPolicy", values);
}

/* GstRSWebRTCSignallerRole */
GType
lk_signaller_role_get_type (void)
{
  static gsize id = 0;
  static const GEnumValue values[] = {
    {0, "Consumer", "consumer"},
    {1, "Producer", "producer"},
    {2, "Listener", "listener"},
    {0, NULL, NULL},
  };
  return register_enum (&id, "GstGoLiveKitSignallerRole", values);
}

/* GstWebRTCSinkMitigationMode (flags) */
GType
lk_mitigation_mode_get_type (void)
{
  static gsize id = 0;
  static const GFlagsValue values[] = {
    {0, "No mitigation applied", "none"},
    {1, "Lowered resolution", "downscaled"},
    {2, "Lowered framerate", "downsampled"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&id)) {
    GType t = g_flags_register_static ("GstGoLiveKitMitigationMode", values);
    g_once_init_leave (&id, t);
  }
  return (GType) id;
}

GType lk_caps_type (void) { return GST_TYPE_CAPS; }
GType lk_structure_type (void) { return GST_TYPE_STRUCTURE; }
GType lk_value_array_type (void) { return GST_TYPE_ARRAY; }

/* Param specs; name/nick/blurb are copied (no STATIC_STRINGS). */

GParamSpec *
lk_param_spec_flags (const char *name, const char *nick, const char *blurb,
    GType type, guint def, GParamFlags flags)
{
  return g_param_spec_flags (name, nick, blurb, type, def, flags);
}

GParamSpec *
lk_param_spec_boxed (const char *name, const char *nick, const char *blurb,
    GType type, GParamFlags flags)
{
  return g_param_spec_boxed (name, nick, blurb, type, flags);
}

GParamSpec *
lk_param_spec_int (const char *name, const char *nick, const char *blurb,
    gint min, gint max, gint def, GParamFlags flags)
{
  return g_param_spec_int (name, nick, blurb, min, max, def, flags);
}

GParamSpec *
lk_param_spec_uint (const char *name, const char *nick, const char *blurb,
    guint min, guint max, guint def, GParamFlags flags)
{
  return g_param_spec_uint (name, nick, blurb, min, max, def, flags);
}

GParamSpec *
lk_param_spec_bool (const char *name, const char *nick, const char *blurb,
    gboolean def, GParamFlags flags)
{
  return g_param_spec_boolean (name, nick, blurb, def, flags);
}

GParamSpec *
lk_param_spec_string (const char *name, const char *nick, const char *blurb,
    const char *def, GParamFlags flags)
{
  return g_param_spec_string (name, nick, blurb, def, flags);
}

/* A GstValueArray of strings, like turn-servers. */
GParamSpec *
lk_param_spec_string_array (const char *name, const char *nick,
    const char *blurb, const char *elem_name, GParamFlags flags)
{
  return gst_param_spec_array (name, nick, blurb,
      g_param_spec_string (elem_name, elem_name, elem_name, NULL,
          G_PARAM_READWRITE), flags);    /* copies: elem_name is freed */
}

/* GValue helpers for the boxed and array properties. */

/* The caps as a string, NULL when unset. Free with g_free. */
char *
lk_value_dup_caps_string (const GValue * v)
{
  const GstCaps *c = gst_value_get_caps (v);
  return c ? gst_caps_to_string (c) : NULL;
}

void
lk_value_take_caps_string (GValue * v, const char *s)
{
  gst_value_set_caps (v, NULL);
  if (s) {
    GstCaps *c = gst_caps_from_string (s);
    gst_value_set_caps (v, c);
    if (c)
      gst_caps_unref (c);
  }
}

char *
lk_value_dup_structure_string (const GValue * v)
{
  const GstStructure *s = gst_value_get_structure (v);
  return s ? gst_structure_to_string (s) : NULL;
}

void
lk_value_set_structure_string (GValue * v, const char *str)
{
  GstStructure *s = str ? gst_structure_from_string (str, NULL) : NULL;
  gst_value_set_structure (v, s);
  if (s)
    gst_structure_free (s);
}

guint
lk_value_array_size (const GValue * v)
{
  return gst_value_array_get_size (v);
}

/* Element i of a GstValueArray as a string (NULL if it is not one). */
const char *
lk_value_array_string (const GValue * v, guint i)
{
  const GValue *e = gst_value_array_get_value (v, i);
  return (e && G_VALUE_HOLDS_STRING (e)) ? g_value_get_string (e) : NULL;
}

void
lk_value_array_append_string (GValue * v, const char *s)
{
  GValue e = G_VALUE_INIT;
  g_value_init (&e, G_TYPE_STRING);
  g_value_set_string (&e, s);
  gst_value_array_append_and_take_value (v, &e);
}

void
lk_value_set_flags (GValue * v, guint f)
{
  g_value_set_flags (v, f);
}

void
lk_value_set_object (GValue * v, gpointer o)
{
  g_value_set_object (v, o);
}

/* encoder-setup (consumer_id, pad_name, encoder) -> gboolean, as on
 * livekitwebrtcsink: a handler returning TRUE stops the emission and the
 * element then leaves the encoder's settings alone. There is no class
 * handler; the element applies its defaults when the result is FALSE. */
void
lk_install_encoder_setup_signal (gpointer klass)
{
  g_signal_new ("encoder-setup", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
      0, g_signal_accumulator_true_handled, NULL, NULL, G_TYPE_BOOLEAN, 3,
      G_TYPE_STRING, G_TYPE_STRING, GST_TYPE_ELEMENT);
}

gboolean
lk_emit_encoder_setup (GstElement * el, const char *consumer,
    const char *pad_name, GstElement * encoder)
{
  gboolean handled = FALSE;
  g_signal_emit_by_name (el, "encoder-setup", consumer, pad_name, encoder,
      &handled);
  return handled;
}

/* Whether the stream arriving on pad is live (a LATENCY query upstream). */
gboolean
lk_pad_upstream_is_live (GstPad * pad)
{
  GstQuery *q = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (pad, q))
    gst_query_parse_latency (q, &live, NULL, NULL);
  gst_query_unref (q);
  return live;
}

/* GST_STATE of the element (read under the object lock). */
GstState
lk_element_state (GstElement * el)
{
  GstState s;
  GST_OBJECT_LOCK (el);
  s = GST_STATE (el);
  GST_OBJECT_UNLOCK (el);
  return s;
}

gboolean
lk_object_is_a (gpointer obj, GType t)
{
  return obj != NULL && G_TYPE_CHECK_INSTANCE_TYPE (obj, t);
}

/* The structures of a caps string, each serialized (features dropped).
 * NULL-terminated; free with g_strfreev. */
char **
lk_caps_split (const char *caps_str)
{
  GstCaps *caps = gst_caps_from_string (caps_str);
  GPtrArray *out = g_ptr_array_new ();
  guint i;

  if (caps != NULL) {
    for (i = 0; i < gst_caps_get_size (caps); i++)
      g_ptr_array_add (out,
          gst_structure_to_string (gst_caps_get_structure (caps, i)));
    gst_caps_unref (caps);
  }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

/* Whether every format of caps is one of of's: caps strings in, so that Go
 * need not hold GstCaps. FALSE when either does not parse. */
gboolean
lk_caps_is_subset (const char *caps, const char *of)
{
  GstCaps *a = gst_caps_from_string (caps);
  GstCaps *b = gst_caps_from_string (of);
  gboolean res = a != NULL && b != NULL && gst_caps_is_subset (a, b);

  if (a != NULL)
    gst_caps_unref (a);
  if (b != NULL)
    gst_caps_unref (b);
  return res;
}

gboolean
lk_structure_has_field (const char *structure, const char *field)
{
  GstStructure *s = gst_structure_from_string (structure, NULL);
  gboolean has;

  if (s == NULL)
    return FALSE;
  has = gst_structure_has_field (s, field);
  gst_structure_free (s);
  return has;
}
