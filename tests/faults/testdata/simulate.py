#!/usr/bin/python3
"""Run a golivekitsink pipeline, and once it is connected emit the element's
simulate-scenario action signal; print every connection message.

usage: simulate.py SCENARIO SECONDS_AFTER LAUNCH_LINE
"""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

scenario, after, launch = sys.argv[1], float(sys.argv[2]), sys.argv[3]
Gst.init(None)
pipeline = Gst.parse_launch(launch)
sink = pipeline.get_by_name("lk")
loop = GLib.MainLoop()
state = {"simulated": False, "code": 0}


SETTLE_MS = 1000


def simulate():
    ok = sink.emit("simulate-scenario", scenario)
    print("SIMULATE %s %s" % (scenario, ok), flush=True)
    GLib.timeout_add(int(after * 1000), stop)
    return False


def stop():
    pipeline.send_event(Gst.Event.new_eos())
    return False


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "golivekitsink-connection":
        s = msg.get_structure()
        print("MSG " + s.to_string(), flush=True)
        published = "video_0" in (s.get_string("track-sids") or "")
        if s.get_string("state") == "connected" and published and not state["simulated"]:
            state["simulated"] = True
            # Give livekit-server a moment to finish setting up the
            # participant it only just made before asking it to move it: a
            # scenario sent at the join raced that setup, and the rejoin came
            # without force_relay.
            GLib.timeout_add(SETTLE_MS, simulate)
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
GLib.timeout_add_seconds(60, lambda: (loop.quit(), False)[1])
loop.run()
pipeline.set_state(Gst.State.NULL)
sys.exit(state["code"])
