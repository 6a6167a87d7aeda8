/* The GStreamer debug category "golivekitsink" (GST_DEBUG=golivekit*:5). */
#include "lk.h"

GST_DEBUG_CATEGORY_STATIC (lk_debug);
/* pion's own logs (ICE, DTLS, SCTP, …): GST_DEBUG=golivekit-pion:5 */
GST_DEBUG_CATEGORY_STATIC (lk_pion_debug);

void
lk_debug_init (void)
{
  if (lk_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (lk_debug, "golivekitsink", 0,
        "golivekitsink: LiveKit publisher sink");
  if (lk_pion_debug == NULL)
    GST_DEBUG_CATEGORY_INIT (lk_pion_debug, "golivekit-pion", 0,
        "golivekitsink: logs of the pion WebRTC stack");
}

/* Where the categories keep their thresholds. Go reads them there (log.go):
 * a cgo call per "is this level on?" wakes the Go runtime's monitor thread
 * (tests/bench/README.md, "CPU"). gst_debug_category_get_threshold is this
 * same field read. */
gint *
lk_debug_threshold (void)
{
  return lk_debug != NULL ? &lk_debug->threshold : NULL;
}

gint *
lk_pion_debug_threshold (void)
{
  return lk_pion_debug != NULL ? &lk_pion_debug->threshold : NULL;
}

void
lk_log (GstDebugLevel level, GObject * obj, const char *where, const char *msg)
{
  if (lk_debug == NULL)
    return;
  gst_debug_log (lk_debug, level, "golivekitsink", where, 0, obj, "%s", msg);
}

void
lk_pion_log (GstDebugLevel level, GObject * obj, const char *msg)
{
  if (lk_pion_debug == NULL)
    return;
  gst_debug_log (lk_pion_debug, level, "pion", "pion", 0, obj, "%s", msg);
}
