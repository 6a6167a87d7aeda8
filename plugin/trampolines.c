/* Own pad and appsink callbacks. go-gst's pad function setters unref every
 * buffer/event twice and race on a global map (docs/architecture.md, "go-gst v1.4.0"),
 * so the ghost pads get these C functions instead; Go state is reached
 * through a cgo.Handle kept in the function's user data. */
#include "lk.h"
#include <gst/video/video.h>

/* Go exports (events.go / sink.go). */
extern int goLkPadCaps (uintptr_t h, char *name, char *features, int width,
    int height, int fps_n, int fps_d, int channels, char *caps);
extern void goLkPadEOS (uintptr_t h);
extern int goLkPadStreamStart (uintptr_t h);
extern int goLkSample (uintptr_t h, void *data, size_t size, int64_t pts,
    int header, int key);
extern void goLkSinkEOS (uintptr_t h);
extern void goLkHandleDelete (uintptr_t h);

static void
lk_handle_destroy (gpointer data)
{
  goLkHandleDelete ((uintptr_t) data);
}

/* A new stream after EOS: the chain's elements still hold their EOS
 * (the appsink answers buffers with GST_FLOW_EOS, which stops the new
 * source at once); a flush resets them. */
static void
lk_flush_target (GstPad * pad)
{
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));

  if (target == NULL)
    return;
  gst_pad_send_event (target, gst_event_new_flush_start ());
  gst_pad_send_event (target, gst_event_new_flush_stop (FALSE));
  gst_object_unref (target);
}

static gboolean
lk_pad_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  uintptr_t h = (uintptr_t) pad->eventdata;

  /* The frames before a serialized event (CAPS, EOS, …) may still be in the
   * sample ring: they go out first. */
  if (GST_EVENT_IS_SERIALIZED (event))
    lk_sample_queue_sync ();
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      GstStructure *s;
      GstCapsFeatures *f;
      gchar *str, *feat;
      gint width = 0, height = 0, channels = 0, fps_n = 0, fps_d = 1, ok;

      gst_event_parse_caps (event, &caps);
      if (caps == NULL || gst_caps_get_size (caps) < 1) {
        gst_event_unref (event);
        return FALSE;
      }
      s = gst_caps_get_structure (caps, 0);
      gst_structure_get_int (s, "width", &width);
      gst_structure_get_int (s, "height", &height);
      gst_structure_get_int (s, "channels", &channels);
      gst_structure_get_fraction (s, "framerate", &fps_n, &fps_d);
      f = gst_caps_get_features (caps, 0);
      feat = f ? gst_caps_features_to_string (f) : g_strdup ("");
      str = gst_caps_to_string (caps);
      ok = goLkPadCaps (h, (char *) gst_structure_get_name (s), feat, width,
          height, fps_n, fps_d, channels, str);
      g_free (str);
      g_free (feat);
      if (!ok) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      goLkPadEOS (h);
      break;
    case GST_EVENT_STREAM_START:
      if (goLkPadStreamStart (h))
        lk_flush_target (pad);
      break;
    default:
      break;
  }
  return lk_pad_forward_event (pad, parent, event);
}

/* Forward through the ghost pad. Before the chain exists the internal pad
 * is unlinked: sticky events are stored on it and sent on when the target
 * is set, so they count as handled. */
gboolean
lk_pad_forward_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  gboolean sticky = GST_EVENT_IS_STICKY (event);
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  gboolean res = gst_pad_event_default (pad, parent, event);

  if (target == NULL) {
    if (sticky)
      res = TRUE;
  } else {
    gst_object_unref (target);
  }
  return res;
}

gboolean
lk_query_is_caps (GstQuery * q)
{
  return GST_QUERY_TYPE (q) == GST_QUERY_CAPS;
}

gboolean
lk_query_is_accept_caps (GstQuery * q)
{
  return GST_QUERY_TYPE (q) == GST_QUERY_ACCEPT_CAPS;
}

/* Raw formats the encoders take without conversion, offered first so that
 * e.g. videotestsrc does not settle on a 64-bit RGB format; and H.264 in
 * the form the appsink takes without a parser of ours (chain.go,
 * h264Parsed), so that an upstream h264parse does not pick avc. */
#define PREFERRED_CAPS "video/x-raw, format=(string)I420; " \
  "audio/x-raw, format=(string)S16LE, rate=(int)48000; " \
  "video/x-h264, stream-format=(string)byte-stream, alignment=(string)au"

/* Without a target, answer caps questions from the pad template (with the
 * preferred formats of PREFERRED_CAPS first). */
void
lk_query_answer_template (GstPad * pad, GstQuery * q)
{
  GstCaps *plain = gst_pad_get_pad_template_caps (pad);
  GstCaps *pref = gst_caps_from_string (PREFERRED_CAPS);
  GstCaps *templ = gst_caps_intersect_full (pref, plain,
      GST_CAPS_INTERSECT_FIRST);

  gst_caps_unref (pref);
  templ = gst_caps_merge (templ, plain);

  if (GST_QUERY_TYPE (q) == GST_QUERY_CAPS) {
    GstCaps *filter = NULL, *res;
    gst_query_parse_caps (q, &filter);
    if (filter)                 /* our order: the preferred formats first */
      res = gst_caps_intersect_full (templ, filter, GST_CAPS_INTERSECT_FIRST);
    else
      res = gst_caps_ref (templ);
    gst_query_set_caps_result (q, res);
    gst_caps_unref (res);
  } else {
    GstCaps *caps = NULL;
    gst_query_parse_accept_caps (q, &caps);  /* templ is a superset of the template */
    gst_query_set_accept_caps_result (q, caps
        && gst_caps_is_subset (caps, templ));
  }
  gst_caps_unref (templ);
}

static gboolean
lk_pad_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  return lk_pad_forward_query (pad, parent, query);
}

gboolean
lk_pad_forward_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS
      || GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
    GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
    if (target == NULL) {
      lk_query_answer_template (pad, query);
      return TRUE;
    }
    gst_object_unref (target);
  }
  return gst_pad_query_default (pad, parent, query);
}

/* A pad of the template's class (GstGoLiveKitVideoPad, ...). */
GstPad *
lk_ghost_pad_new (GstElement * el, GstPadTemplate * templ, const char *name)
{
  return gst_ghost_pad_new_no_target_from_template (name, templ);
}

void
lk_ghost_pad_setup (GstPad * pad, uintptr_t handle)
{
  gst_pad_set_event_function_full (pad, lk_pad_event, (gpointer) handle,
      lk_handle_destroy);
  gst_pad_set_query_function (pad, lk_pad_query);
}

/* Pads are children of the element (GstChildProxy, as on GstAggregator). */
void
lk_child_added (GstElement * el, GstPad * pad)
{
  gst_child_proxy_child_added (GST_CHILD_PROXY (el), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
}

void
lk_child_removed (GstElement * el, GstPad * pad)
{
  gst_child_proxy_child_removed (GST_CHILD_PROXY (el), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
}

gboolean
lk_ghost_pad_set_target (GstPad * ghost, GstElement * first)
{
  GstPad *sink = NULL;
  gboolean ok;

  if (first != NULL) {
    sink = gst_element_get_static_pad (first, "sink");
    if (sink == NULL)
      return FALSE;
  }
  ok = gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), sink);
  if (sink)
    gst_object_unref (sink);
  return ok;
}

gboolean
lk_link_filtered (GstElement * a, GstElement * b, const char *caps)
{
  GstCaps *c = NULL;
  gboolean ok;

  if (caps && *caps)
    c = gst_caps_from_string (caps);
  ok = gst_element_link_filtered (a, b, c);
  if (c)
    gst_caps_unref (c);
  return ok;
}

void
lk_set_arg (GstElement * el, const char *name, const char *value)
{
  gst_util_set_object_arg (G_OBJECT (el), name, value);
}

/* appsink */

static GstFlowReturn
lk_new_sample (GstAppSink * sink, gpointer user_data)
{
  uintptr_t h = (uintptr_t) user_data;
  GstSample *sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buf;
  const GstSegment *seg;
  GstClockTime ts;
  gint64 rt = -1;
  GstMapInfo map;
  int ret;

  if (sample == NULL)
    return GST_FLOW_FLUSHING;
  buf = gst_sample_get_buffer (sample);
  if (buf == NULL) {
    gst_sample_unref (sample);
    return GST_FLOW_OK;
  }
  seg = gst_sample_get_segment (sample);
  ts = GST_BUFFER_PTS (buf);
  if (!GST_CLOCK_TIME_IS_VALID (ts))
    ts = GST_BUFFER_DTS (buf);
  if (GST_CLOCK_TIME_IS_VALID (ts)) {
    if (seg != NULL && seg->format == GST_FORMAT_TIME) {
      guint64 r = gst_segment_to_running_time (seg, GST_FORMAT_TIME, ts);
      if (GST_CLOCK_TIME_IS_VALID (r))
        rt = (gint64) r;
    } else {
      rt = (gint64) ts;
    }
  }
  if (!gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_sample_unref (sample);
    return GST_FLOW_ERROR;
  }
  if (lk_sample_queue_active ()) {
    lk_sample_queue_push (h, GST_ELEMENT (sink), sample, &map, rt,
        GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER),
        !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT));
    return GST_FLOW_OK;
  }
  ret = goLkSample (h, map.data, map.size, rt,
      GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_HEADER),
      !GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT));
  gst_buffer_unmap (buf, &map);
  gst_sample_unref (sample);
  return (GstFlowReturn) ret;
}

static void
lk_sink_eos (GstAppSink * sink, gpointer user_data)
{
  goLkSinkEOS ((uintptr_t) user_data);
}

void
lk_appsink_setup (GstElement * appsink, uintptr_t handle)
{
  GstAppSinkCallbacks cbs = { 0, };

  cbs.eos = lk_sink_eos;
  cbs.new_sample = lk_new_sample;
  g_object_set (appsink, "sync", FALSE, "async", FALSE, "qos", FALSE,
      "enable-last-sample", FALSE, "emit-signals", FALSE,
      "max-buffers", 4, "drop", FALSE, "wait-on-eos", FALSE, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (appsink), &cbs, (gpointer) handle,
      lk_handle_destroy);
}

/* Ask upstream for a keyframe with SPS/PPS (GstForceKeyUnit, all-headers).
 * It travels from the appsink's sink pad through the parser (which also
 * re-sends its headers) to the encoder. */
gboolean
lk_send_force_key_unit (GstElement * appsink)
{
  GstPad *sink = gst_element_get_static_pad (appsink, "sink");
  gboolean ok;

  if (sink == NULL)
    return FALSE;
  ok = gst_pad_push_event (sink,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE, TRUE,
          0));
  gst_object_unref (sink);
  return ok;
}
