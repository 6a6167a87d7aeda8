/* Upstream encoder walk for upstream-bitrate-control (upstream.go). */
#include "lk.h"
#include <string.h>

/* sink_pad_count counts el's sink pads and returns the first one (a ref)
 * in *first. */
static guint
sink_pad_count (GstElement * el, GstPad ** first)
{
  guint n = 0;
  GValue v = G_VALUE_INIT;
  GstIterator *it = gst_element_iterate_sink_pads (el);
  *first = NULL;
  for (;;) {
    GstIteratorResult r = gst_iterator_next (it, &v);
    if (r == GST_ITERATOR_OK) {
      if (n++ == 0)
        *first = gst_object_ref (g_value_get_object (&v));
      g_value_reset (&v);
    } else if (r == GST_ITERATOR_RESYNC) {
      gst_iterator_resync (it);
      n = 0;
      g_clear_object (first);
    } else {
      break;
    }
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  return n;
}

/* lk_upstream_encoder walks upstream from pad (a sink pad): through each
 * element that is not an encoder and has exactly one sink pad (queue,
 * parsers, capsfilter, tee, identity, valve, ...) and through bin
 * boundaries (ghost pads), to the first element whose klass says Encoder.
 * Returns it (a ref) or NULL; then *stopped_at names the element the walk
 * stopped at, if any (g_free it). */
GstElement *
lk_upstream_encoder (GstPad * pad, char **stopped_at)
{
  GstPad *cur = gst_pad_get_peer (pad);
  *stopped_at = NULL;
  for (int hops = 0; cur != NULL && hops < 64; hops++) {
    if (GST_IS_GHOST_PAD (cur)) {
      /* A bin's source pad: continue inside the bin. */
      GstPad *t = gst_ghost_pad_get_target (GST_GHOST_PAD (cur));
      gst_object_unref (cur);
      cur = t;
      continue;
    }
    if (GST_IS_PROXY_PAD (cur)) {
      /* The inside of a bin's ghost sink pad: continue outside the bin. */
      GstProxyPad *ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (cur));
      gst_object_unref (cur);
      cur = NULL;
      if (ghost != NULL) {
        cur = gst_pad_get_peer (GST_PAD (ghost));
        gst_object_unref (ghost);
      }
      continue;
    }
    GstElement *el = gst_pad_get_parent_element (cur);
    gst_object_unref (cur);
    cur = NULL;
    if (el == NULL)
      break;
    const gchar *klass = gst_element_get_metadata (el, GST_ELEMENT_METADATA_KLASS);
    if (klass != NULL && strstr (klass, "Encoder") != NULL)
      return el;
    GstPad *sink = NULL;
    if (sink_pad_count (el, &sink) != 1) {
      *stopped_at = gst_object_get_name (GST_OBJECT (el));
      g_clear_object (&sink);
      gst_object_unref (el);
      return NULL;
    }
    gst_object_unref (el);
    cur = gst_pad_get_peer (sink);
    gst_object_unref (sink);
  }
  g_clear_object (&cur);
  return NULL;
}

/* lk_element_factory_name is el's factory name ("" when it has none). */
const char *
lk_element_factory_name (GstElement * el)
{
  GstElementFactory *f = gst_element_get_factory (el);
  return f != NULL ? GST_OBJECT_NAME (f) : "";
}
