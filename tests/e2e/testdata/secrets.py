#!/usr/bin/python3
"""Run a golivekitsink pipeline until it is connected, then print what an
application or a DOT dump can see: the properties read back, the DOT dump,
and every golivekitsink-connection message.

usage: secrets.py LAUNCH_LINE AUTH_TOKEN DOT_DIR
The launch line names the sink "lk". AUTH_TOKEN is set on a second,
unconnected element (it would win over api-key/secret-key on the first).
"""
import sys
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

warnings.simplefilter("ignore", DeprecationWarning)  # GValueArray.get_nth

launch, auth_token, dot_dir = sys.argv[1], sys.argv[2], sys.argv[3]
Gst.init(None)
pipeline = Gst.parse_launch(launch)
sink = pipeline.get_by_name("lk")
loop = GLib.MainLoop()
state = {"code": 1}


def show(what, value):
    print("READ %s=%s" % (what, value), flush=True)


def inspect():
    sig = sink.get_property("signaller")
    for prop in ("ws-url", "secret-key", "auth-token"):
        show("signaller::" + prop, sig.get_property(prop))
    # PyGObject cannot convert a GstValueArray property; GStreamer's helper can.
    ok, servers = Gst.util_get_object_array(sink, "turn-servers")
    show("turn-servers", [servers.get_nth(i) for i in range(servers.n_values)] if ok else None)
    other = Gst.ElementFactory.make("golivekitsink", None)
    other.get_property("signaller").set_property("auth-token", auth_token)
    show("other:signaller::auth-token", other.get_property("signaller").get_property("auth-token"))
    pipeline.add(other)  # dumped with the pipeline
    for line in Gst.debug_bin_to_dot_data(pipeline, Gst.DebugGraphDetails.ALL).splitlines():
        print("DOT " + line, flush=True)
    Gst.debug_bin_to_dot_file(pipeline, Gst.DebugGraphDetails.ALL, "secrets")  # into GST_DEBUG_DUMP_DOT_DIR
    pipeline.remove(other)
    other.set_state(Gst.State.NULL)


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "golivekitsink-connection":
        s = msg.get_structure()
        print("MSG " + s.to_string(), flush=True)
        if s.get_string("state") == "connected" and state["code"] == 1:
            try:
                inspect()
                state["code"] = 0
            finally:
                pipeline.send_event(Gst.Event.new_eos())
    elif msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print("ERROR %s (%s)" % (err.message, dbg), flush=True)
        state["code"] = 2
        loop.quit()
    elif msg.type == Gst.MessageType.EOS:
        loop.quit()
    return True


bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add_seconds(60, lambda: (loop.quit(), False)[1])
loop.run()
pipeline.set_state(Gst.State.NULL)
sys.exit(state["code"])
