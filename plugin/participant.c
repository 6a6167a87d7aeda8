/* Signals and helpers of the participant features (data packets, E2EE key
 * rotation, attributes): GBytes and GStrv arguments go-glib v1.4.0 cannot
 * marshal into a Go class handler. */
#include "lk.h"

extern gboolean goLkPublishData (GstElement * el, void *data, size_t size,
    char *topic, gboolean reliable, char **destinations);
extern gboolean goLkSetE2EEKey (GstElement * el, void *data, size_t size,
    guint index);

static gboolean
lk_publish_data_handler (GstElement * el, GBytes * payload,
    const gchar * topic, gboolean reliable, gchar ** destinations,
    gpointer unused)
{
  gsize size = 0;
  gconstpointer data = payload ? g_bytes_get_data (payload, &size) : NULL;

  return goLkPublishData (el, (void *) data, size,
      (char *) (topic ? topic : ""), reliable, destinations);
}

static gboolean
lk_set_e2ee_key_handler (GstElement * el, GBytes * key, guint index,
    gpointer unused)
{
  gsize size = 0;
  gconstpointer data = key ? g_bytes_get_data (key, &size) : NULL;

  return goLkSetE2EEKey (el, (void *) data, size, index);
}

void
lk_install_participant_signals (gpointer klass)
{
  GType t = G_TYPE_FROM_CLASS (klass);

  g_signal_new_class_handler ("publish-data", t,
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (lk_publish_data_handler), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 4, G_TYPE_BYTES, G_TYPE_STRING, G_TYPE_BOOLEAN,
      G_TYPE_STRV);
  g_signal_new ("data-received", t, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BYTES);
  g_signal_new_class_handler ("set-e2ee-key", t,
      G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
      G_CALLBACK (lk_set_e2ee_key_handler), NULL, NULL, NULL,
      G_TYPE_BOOLEAN, 2, G_TYPE_BYTES, G_TYPE_UINT);
}

void
lk_emit_data_received (GstElement * el, const char *identity,
    const char *topic, const void *data, size_t size)
{
  GBytes *payload = g_bytes_new (data, size);

  g_signal_emit_by_name (el, "data-received", identity, topic, payload);
  g_bytes_unref (payload);
}

/* The fields of a serialized GstStructure as key, value, key, value, …,
 * NULL (g_strfreev); strings as they are, other values serialized. */
char **
lk_structure_fields (const char *str)
{
  GstStructure *s = str ? gst_structure_from_string (str, NULL) : NULL;
  GPtrArray *out = g_ptr_array_new ();
  gint i, n;

  n = s ? gst_structure_n_fields (s) : 0;
  for (i = 0; i < n; i++) {
    const gchar *name = gst_structure_nth_field_name (s, i);
    const GValue *v = gst_structure_get_value (s, name);
    gchar *text = G_VALUE_HOLDS_STRING (v) ?
        g_value_dup_string (v) : gst_value_serialize (v);
    g_ptr_array_add (out, g_strdup (name));
    g_ptr_array_add (out, text ? text : g_strdup (""));
  }
  g_ptr_array_add (out, NULL);
  if (s)
    gst_structure_free (s);
  return (char **) g_ptr_array_free (out, FALSE);
}
