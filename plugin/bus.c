/* Bus messages. go-gst's MessageFull puts the debug string where the text
 * belongs (docs/architecture.md, "go-gst v1.4.0"), so errors and warnings go through
 * gst_element_message_full here. */
#include "lk.h"

GQuark lk_resource_error_quark (void) { return GST_RESOURCE_ERROR; }
GQuark lk_stream_error_quark (void) { return GST_STREAM_ERROR; }
GQuark lk_core_error_quark (void) { return GST_CORE_ERROR; }

static void
post_full (GstElement * el, GstMessageType type, GQuark domain, gint code,
    const char *text, const char *debug)
{
  gst_element_message_full (el, type, domain, code,
      text ? g_strdup (text) : NULL, debug && *debug ? g_strdup (debug) : NULL,
      "golivekitsink", "golivekitsink", 0);
}

void
lk_post_error (GstElement * el, GQuark domain, gint code, const char *text,
    const char *debug)
{
  post_full (el, GST_MESSAGE_ERROR, domain, code, text, debug);
}

void
lk_post_warning (GstElement * el, GQuark domain, gint code, const char *text,
    const char *debug)
{
  post_full (el, GST_MESSAGE_WARNING, domain, code, text, debug);
}

void
lk_post_connection (GstElement * el, const char *state, const char *reason,
    gint attempt, const char *participant_sid, const char *region,
    const char *url, guint64 elapsed_ms, const char *track_sids,
    const char *transport)
{
  GstStructure *s = gst_structure_new ("golivekitsink-connection",
      "state", G_TYPE_STRING, state,
      "reason", G_TYPE_STRING, reason,
      "attempt", G_TYPE_INT, attempt,
      "participant-sid", G_TYPE_STRING, participant_sid,
      "region", G_TYPE_STRING, region,
      "url", G_TYPE_STRING, url,
      "elapsed-ms", G_TYPE_UINT64, elapsed_ms,
      "track-sids", G_TYPE_STRING, track_sids,
      "transport", G_TYPE_STRING, transport,
      NULL);
  gst_element_post_message (el, gst_message_new_element (GST_OBJECT (el), s));
}

void
lk_post_bitrate (GstElement * el, guint target, const char *encoders)
{
  GstStructure *s = gst_structure_new ("golivekitsink-bitrate",
      "target-bitrate", G_TYPE_UINT, target,
      "encoder-bitrates", G_TYPE_STRING, encoders,
      NULL);
  gst_element_post_message (el, gst_message_new_element (GST_OBJECT (el), s));
}

/* An element message from a GstStructure in text form (NULL: not posted). */
void
lk_post_structure (GstElement * el, const char *structure)
{
  GstStructure *s = gst_structure_from_string (structure, NULL);

  if (s != NULL)
    gst_element_post_message (el, gst_message_new_element (GST_OBJECT (el), s));
}
