#!/usr/bin/python3
"""Publish H.264 + Opus into a LiveKit room with golivekitsink (PyGObject).

    ./publish.py [seconds]        (default: until Ctrl-C)

Settings from the environment: LIVEKIT_URL, LIVEKIT_API_KEY,
LIVEKIT_API_SECRET, ROOM, IDENTITY (defaults: the demo's). Needs Debian's
python3-gi and gir1.2-gstreamer-1.0 (hence /usr/bin/python3, not a pyenv or
venv python without them), and the plugin on GST_PLUGIN_PATH or
installed. Prints every golivekitsink-connection bus message; after the given
number of seconds (or on Ctrl-C) it prints the element's stats, sends EOS and
exits once it arrived.
"""
import os
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def env(name, default):
    return os.environ.get(name) or default


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 "
        "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! golivekitsink name=lk "
        "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk."
    )
    lk = pipeline.get_by_name("lk")

    # Two ways to reach the signaller settings, both as with livekitwebrtcsink:
    # 1. GstChildProxy with the "signaller::" prefix (what gst-launch does);
    #    the element implements Gst.ChildProxy.
    Gst.ChildProxy.set_property(lk, "signaller::ws-url", env("LIVEKIT_URL", "ws://127.0.0.1:7880"))
    Gst.ChildProxy.set_property(lk, "signaller::room-name", env("ROOM", "demo"))
    # 2. The "signaller" object property, then plain GObject properties on it.
    signaller = lk.get_property("signaller")
    signaller.set_property("api-key", env("LIVEKIT_API_KEY", "devkey"))
    signaller.set_property("secret-key", env("LIVEKIT_API_SECRET", "golivekitsink-demo-secret-0123456789abcdef"))
    signaller.set_property("identity", env("IDENTITY", "python-example"))

    loop = GLib.MainLoop()
    state = {"code": 0, "eos_sent": False}

    def on_message(bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "golivekitsink-connection":
                print(s.to_string(), flush=True)
        elif t == Gst.MessageType.WARNING:
            err, debug = msg.parse_warning()
            print(f"WARNING from {msg.src.get_name()}: {err.message} ({debug})", file=sys.stderr, flush=True)
        elif t == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"ERROR from {msg.src.get_name()}: {err.message} ({debug})", file=sys.stderr, flush=True)
            state["code"] = 1
            loop.quit()
        elif t == Gst.MessageType.EOS:
            print("EOS", flush=True)
            loop.quit()

    def eos_timeout():
        print("EOS did not arrive within 10 s, stopping", file=sys.stderr, flush=True)
        state["code"] = 1
        loop.quit()
        return GLib.SOURCE_REMOVE

    def send_eos():
        # EOS lets the element leave the room cleanly before the pipeline stops.
        if not state["eos_sent"]:
            state["eos_sent"] = True
            # What was published, as the reference element's "stats" property.
            print("stats:", lk.get_property("stats").to_string(), flush=True)
            print("sending EOS", flush=True)
            pipeline.send_event(Gst.Event.new_eos())
            GLib.timeout_add_seconds(10, eos_timeout)
        return GLib.SOURCE_REMOVE

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, lambda: send_eos() or GLib.SOURCE_CONTINUE)
    if seconds > 0:
        GLib.timeout_add_seconds(seconds, send_eos)

    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("could not start the pipeline (is golivekitsink on GST_PLUGIN_PATH?)", file=sys.stderr)
        state["code"] = 1
    else:
        loop.run()
    pipeline.set_state(Gst.State.NULL)
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
