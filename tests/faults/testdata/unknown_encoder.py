#!/usr/bin/python3
"""Run a launch line in which `testh264enc` is an H.264 "encoder" that
golivekitsink's encoder table does not know: a passthrough whose klass says
Codec/Encoder/Video, registered here. Reports like gst-launch-1.0 -m
(element messages and WARNINGs on stdout, ERRORs on stderr) so the harness
reads it the same way; stops after SECONDS.

usage: unknown_encoder.py SECONDS LAUNCH_LINE
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstBase", "1.0")
from gi.repository import GLib, GObject, Gst, GstBase  # noqa: E402

Gst.init(None)


class TestH264Enc(GstBase.BaseTransform):
    __gstmetadata__ = ("Test H.264 encoder", "Codec/Encoder/Video",
                       "Passes H.264 through; an encoder golivekitsink does not know", "golivekitsink tests")
    __gsttemplates__ = (
        Gst.PadTemplate.new("sink", Gst.PadDirection.SINK, Gst.PadPresence.ALWAYS, Gst.Caps.from_string("video/x-h264")),
        Gst.PadTemplate.new("src", Gst.PadDirection.SRC, Gst.PadPresence.ALWAYS, Gst.Caps.from_string("video/x-h264")),
    )

    def __init__(self):
        super().__init__()
        self.set_passthrough(True)


GObject.type_register(TestH264Enc)
Gst.Element.register(None, "testh264enc", Gst.Rank.NONE, TestH264Enc)

seconds, launch = float(sys.argv[1]), sys.argv[2]
pipeline = Gst.parse_launch(launch)
loop = GLib.MainLoop()
state = {"n": 0, "code": 0}


def on_message(_bus, msg):
    state["n"] += 1
    if msg.type == Gst.MessageType.ELEMENT:
        print('Got message #%d from element "%s" (element): %s' % (state["n"], msg.src.get_name(),
                                                                  msg.get_structure().to_string()), flush=True)
    elif msg.type == Gst.MessageType.WARNING:
        err, dbg = msg.parse_warning()
        print("WARNING: from element %s: %s\nAdditional debug info:\n%s\n" % (msg.src.get_path_string(), err.message, dbg),
              flush=True)
    elif msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print("ERROR: from element %s: %s\nAdditional debug info:\n%s\n" % (msg.src.get_path_string(), err.message, dbg),
              file=sys.stderr, flush=True)
        state["code"] = 1
        loop.quit()
    elif msg.type == Gst.MessageType.EOS:
        loop.quit()
    return True


bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add(int(seconds * 1000), lambda: (pipeline.send_event(Gst.Event.new_eos()), False)[1])
loop.run()
pipeline.set_state(Gst.State.NULL)
sys.exit(state["code"])
