#!/usr/bin/python3
"""Run a golivekitsink pipeline (element named lk) for SECONDS, printing the
element's stats property every 100 ms as "STATS <unix ms> <structure>" and
every golivekitsink-* element message as "MSG <unix ms> <structure>".

usage: stats.py SECONDS LAUNCH_LINE
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

seconds, launch = float(sys.argv[1]), sys.argv[2]
Gst.init(None)
pipeline = Gst.parse_launch(launch)
sink = pipeline.get_by_name("lk")
loop = GLib.MainLoop()
state = {"code": 0}


def now_ms():
    return int(time.time() * 1000)


def print_stats():
    print("STATS %d %s" % (now_ms(), sink.get_property("stats").to_string()), flush=True)
    return True


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name().startswith("golivekitsink-"):
        print("MSG %d %s" % (now_ms(), msg.get_structure().to_string()), flush=True)
    elif msg.type == Gst.MessageType.WARNING:
        err, dbg = msg.parse_warning()
        print("WARNING %s (%s)" % (err.message, dbg), flush=True)
    elif msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print("ERROR %s (%s)" % (err.message, dbg), flush=True)
        state["code"] = 1
        loop.quit()
    elif msg.type == Gst.MessageType.EOS:
        loop.quit()
    return True


bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add(100, print_stats)
GLib.timeout_add(int(seconds * 1000), lambda: (loop.quit(), False)[1])
loop.run()
pipeline.set_state(Gst.State.NULL)
sys.exit(state["code"])
