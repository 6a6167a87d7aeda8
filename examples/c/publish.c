/* publish — an application that publishes H.264 + Opus into a LiveKit room
 * with golivekitsink and reports what the element says on the bus.
 *
 *   make && ./publish [seconds]      (default: until Ctrl-C)
 *
 * Settings from the environment: LIVEKIT_URL, LIVEKIT_API_KEY,
 * LIVEKIT_API_SECRET, ROOM, IDENTITY (defaults: the demo's). After the given
 * number of seconds (or on Ctrl-C) it sends EOS and exits once it arrived.
 */
#include <gst/gst.h>
#include <glib-unix.h>
#include <stdlib.h>

static const char *env_or(const char *name, const char *def) {
  const char *v = g_getenv(name);
  return v && *v ? v : def;
}

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline;
  int exit_code;
  gboolean eos_sent;
} App;

static gboolean print_field(GQuark field, const GValue *value, gpointer user_data) {
  gchar *s = gst_value_serialize(value);
  g_print(" %s=%s", g_quark_to_string(field), s ? s : "(null)");
  g_free(s);
  return TRUE;
}

static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer data) {
  App *app = data;
  GError *err = NULL;
  gchar *debug = NULL;

  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ELEMENT: {
    const GstStructure *s = gst_message_get_structure(msg);
    if (s && gst_structure_has_name(s, "golivekitsink-connection")) {
      /* The connection's life: connecting, connected, resuming, ... */
      g_print("golivekitsink-connection:");
      gst_structure_foreach(s, print_field, NULL);
      g_print("\n");
    }
    break;
  }
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning(msg, &err, &debug);
    g_printerr("WARNING from %s: %s (%s)\n", GST_OBJECT_NAME(msg->src), err->message, debug ? debug : "");
    break;
  case GST_MESSAGE_ERROR:
    /* Only raised when the element cannot go on (bad credentials, DISCONNECT). */
    gst_message_parse_error(msg, &err, &debug);
    g_printerr("ERROR from %s: %s (%s)\n", GST_OBJECT_NAME(msg->src), err->message, debug ? debug : "");
    app->exit_code = 1;
    g_main_loop_quit(app->loop);
    break;
  case GST_MESSAGE_EOS:
    g_print("EOS\n");
    g_main_loop_quit(app->loop);
    break;
  default:
    break;
  }
  g_clear_error(&err);
  g_free(debug);
  return G_SOURCE_CONTINUE;
}

static gboolean eos_timeout(gpointer data) {
  App *app = data;
  g_printerr("EOS did not arrive within 10 s, stopping\n");
  app->exit_code = 1;
  g_main_loop_quit(app->loop);
  return G_SOURCE_REMOVE;
}

/* EOS lets the element leave the room cleanly before the pipeline stops. */
static gboolean send_eos(gpointer data) {
  App *app = data;
  if (!app->eos_sent) {
    app->eos_sent = TRUE;
    g_print("sending EOS\n");
    gst_element_send_event(app->pipeline, gst_event_new_eos());
    g_timeout_add_seconds(10, eos_timeout, app);
  }
  return G_SOURCE_CONTINUE; /* keep the signal handlers installed */
}

static gboolean send_eos_once(gpointer data) {
  send_eos(data);
  return G_SOURCE_REMOVE;
}

int main(int argc, char **argv) {
  App app = {0};
  GError *err = NULL;
  int seconds = argc > 1 ? atoi(argv[1]) : 0;

  gst_init(&argc, &argv);
  app.pipeline = gst_parse_launch(
      "videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 "
      "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! golivekitsink name=lk "
      "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk.",
      &err);
  if (!app.pipeline) {
    g_printerr("pipeline: %s\n", err->message);
    return 2;
  }

  /* "signaller::" properties go through GstChildProxy, as with livekitwebrtcsink. */
  GstElement *lk = gst_bin_get_by_name(GST_BIN(app.pipeline), "lk");
  gst_child_proxy_set(GST_CHILD_PROXY(lk),
      "signaller::ws-url", env_or("LIVEKIT_URL", "ws://127.0.0.1:7880"),
      "signaller::api-key", env_or("LIVEKIT_API_KEY", "devkey"),
      "signaller::secret-key", env_or("LIVEKIT_API_SECRET", "golivekitsink-demo-secret-0123456789abcdef"),
      "signaller::room-name", env_or("ROOM", "demo"),
      "signaller::identity", env_or("IDENTITY", "c-example"),
      NULL);
  gst_object_unref(lk);

  app.loop = g_main_loop_new(NULL, FALSE);
  GstBus *bus = gst_element_get_bus(app.pipeline);
  gst_bus_add_watch(bus, on_bus, &app);
  gst_object_unref(bus);
  g_unix_signal_add(SIGINT, send_eos, &app);
  g_unix_signal_add(SIGTERM, send_eos, &app);
  if (seconds > 0)
    g_timeout_add_seconds_full(G_PRIORITY_DEFAULT, seconds, send_eos_once, &app, NULL);

  if (gst_element_set_state(app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr("could not start the pipeline (is golivekitsink on GST_PLUGIN_PATH?)\n");
    app.exit_code = 1;
  } else {
    g_main_loop_run(app.loop);
  }
  gst_element_set_state(app.pipeline, GST_STATE_NULL);
  gst_object_unref(app.pipeline);
  g_main_loop_unref(app.loop);
  return app.exit_code;
}
