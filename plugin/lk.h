/* C helpers of the golivekit plugin. Go calls these through cgo; they exist
 * where go-gst v1.4.0 has a bug or no binding (see docs/architecture.md, "go-gst v1.4.0"). */
#ifndef GOLIVEKIT_LK_H
#define GOLIVEKIT_LK_H

#include <stdint.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>

/* log.c */
void lk_debug_init(void);
gint *lk_debug_threshold(void);
void lk_log(GstDebugLevel level, GObject *obj, const char *where, const char *msg);
gint *lk_pion_debug_threshold(void);
void lk_pion_log(GstDebugLevel level, GObject *obj, const char *msg);

/* gobject.c */
GParamSpec *lk_param_spec_object(const char *name, const char *nick, const char *blurb, GType type, GParamFlags flags);
GParamSpec *lk_param_spec_enum(const char *name, const char *nick, const char *blurb, GType type, gint def, GParamFlags flags);
GType lk_connection_state_get_type(void);
void lk_install_simulate_signal(gpointer klass);
void lk_element_class_setup(gpointer klass, GType video_pad, GType audio_pad);
void lk_notify(GObject *obj, const char *prop);
GType lk_object_type(GObject *obj);
void lk_set_sink_flag(GstElement *el);

/* padclass.c */
GType lk_track_source_get_type(void);
GType lk_simulcast_layer_get_type(void);
GType lk_ghost_pad_type(void);
gsize lk_ghost_pad_class_size(void);
gsize lk_ghost_pad_instance_size(void);
void lk_add_pad_template(gpointer klass, const char *name, const char *caps_str, GType pad_type);

/* register.c */
gboolean lk_register_static(void);

/* reftypes.c */
GType lk_congestion_control_get_type(void);
GType lk_ice_transport_policy_get_type(void);
GType lk_signaller_role_get_type(void);
GType lk_mitigation_mode_get_type(void);
GType lk_caps_type(void);
GType lk_structure_type(void);
GType lk_value_array_type(void);
GParamSpec *lk_param_spec_flags(const char *name, const char *nick, const char *blurb, GType type, guint def, GParamFlags flags);
GParamSpec *lk_param_spec_boxed(const char *name, const char *nick, const char *blurb, GType type, GParamFlags flags);
GParamSpec *lk_param_spec_int(const char *name, const char *nick, const char *blurb, gint min, gint max, gint def, GParamFlags flags);
GParamSpec *lk_param_spec_uint(const char *name, const char *nick, const char *blurb, guint min, guint max, guint def, GParamFlags flags);
GParamSpec *lk_param_spec_bool(const char *name, const char *nick, const char *blurb, gboolean def, GParamFlags flags);
GParamSpec *lk_param_spec_string(const char *name, const char *nick, const char *blurb, const char *def, GParamFlags flags);
GParamSpec *lk_param_spec_string_array(const char *name, const char *nick, const char *blurb, const char *elem_name, GParamFlags flags);
char *lk_value_dup_caps_string(const GValue *v);
void lk_value_take_caps_string(GValue *v, const char *s);
char *lk_value_dup_structure_string(const GValue *v);
void lk_value_set_structure_string(GValue *v, const char *s);
guint lk_value_array_size(const GValue *v);
const char *lk_value_array_string(const GValue *v, guint i);
void lk_value_array_append_string(GValue *v, const char *s);
void lk_value_set_flags(GValue *v, guint f);
void lk_value_set_object(GValue *v, gpointer o);
void lk_install_encoder_setup_signal(gpointer klass);
gboolean lk_emit_encoder_setup(GstElement *el, const char *consumer, const char *pad_name, GstElement *encoder);
gboolean lk_pad_upstream_is_live(GstPad *pad);
GstState lk_element_state(GstElement *el);
gboolean lk_object_is_a(gpointer obj, GType t);
char **lk_caps_split(const char *caps_str);
gboolean lk_structure_has_field(const char *structure, const char *field);
gboolean lk_caps_is_subset(const char *caps, const char *of);
void lk_post_structure(GstElement *el, const char *structure);

/* participant.c */
void lk_install_participant_signals(gpointer klass);
void lk_emit_data_received(GstElement *el, const char *identity, const char *topic, const void *data, size_t size);
char **lk_structure_fields(const char *str);

/* textpad.c */
void lk_add_text_pad_template(gpointer klass, GType text_pad);
GstPad *lk_text_pad_new(GstPadTemplate *templ, const char *name, GType type);
GstElement *lk_text_pad_attach(GstElement *el, GstPad *pad, uintptr_t handle);

/* bus.c */
void lk_post_error(GstElement *el, GQuark domain, gint code, const char *text, const char *debug);
void lk_post_warning(GstElement *el, GQuark domain, gint code, const char *text, const char *debug);
void lk_post_connection(GstElement *el, const char *state, const char *reason, gint attempt,
    const char *participant_sid, const char *region, const char *url, guint64 elapsed_ms,
    const char *track_sids, const char *transport);
void lk_post_bitrate(GstElement *el, guint target, const char *encoders);
GQuark lk_resource_error_quark(void);
GQuark lk_stream_error_quark(void);
GQuark lk_core_error_quark(void);

/* upstream.c */
GstElement *lk_upstream_encoder(GstPad *pad, char **stopped_at);
const char *lk_element_factory_name(GstElement *el);

/* trampolines.c */
GstPad *lk_ghost_pad_new(GstElement *el, GstPadTemplate *templ, const char *name);
void lk_ghost_pad_setup(GstPad *pad, uintptr_t handle);
void lk_child_added(GstElement *el, GstPad *pad);
void lk_child_removed(GstElement *el, GstPad *pad);
gboolean lk_pad_forward_event(GstPad *pad, GstObject *parent, GstEvent *event);
gboolean lk_pad_forward_query(GstPad *pad, GstObject *parent, GstQuery *query);
void lk_appsink_setup(GstElement *appsink, uintptr_t handle);

/* samplequeue.c: appsink samples handed to one Go goroutine through a ring
 * in C memory (samplequeue.go reads it without calling C). */
#define LK_RING_SLOTS 256
typedef struct
{
  /* read by Go */
  uintptr_t handle;
  GstMapInfo map;               /* the sample's buffer, mapped: data, size */
  int64_t pts;
  int32_t header, key;
  /* C only */
  GstElement *sink;             /* ref: keeps the handle alive until released */
  GstSample *sample;
} LkSampleSlot;
typedef struct
{
  uint32_t head;                /* next slot producers fill; written by C */
  uint32_t tail;                /* next slot Go reads; written by Go */
  uint32_t sleeping;            /* Go is (about to be) asleep on wake_fd */
  uint32_t waiters;             /* C threads asleep on done_fd */
  int wake_fd, done_fd;
  LkSampleSlot slots[LK_RING_SLOTS];
} LkSampleRing;
extern LkSampleRing lk_ring;
int lk_sample_queue_start(void);
gboolean lk_sample_queue_active(void);
void lk_sample_queue_push(uintptr_t handle, GstElement *sink, GstSample *sample,
    GstMapInfo *map, gint64 rt, int header, int key);
void lk_sample_queue_sync(void);
gboolean lk_send_force_key_unit(GstElement *appsink);
gboolean lk_ghost_pad_set_target(GstPad *ghost, GstElement *first);
gboolean lk_link_filtered(GstElement *a, GstElement *b, const char *caps);
void lk_set_arg(GstElement *el, const char *name, const char *value);
gboolean lk_query_is_caps(GstQuery *q);
gboolean lk_query_is_accept_caps(GstQuery *q);
void lk_query_answer_template(GstPad *pad, GstQuery *q);

#endif
