#!/usr/bin/python3
"""Publish Opus audio with live captions and data packets with golivekitsink.

    ./data_captions.py [seconds]        (default: until Ctrl-C)

Settings from the environment as in publish.py: LIVEKIT_URL,
LIVEKIT_API_KEY, LIVEKIT_API_SECRET, ROOM, IDENTITY. Once a second it
  * pushes a caption into the element's text_0 pad (an appsrc with live
    timestamps): LiveKit clients get it as a final transcription segment
    of the audio track (topic lk.transcription);
  * sends a reliable data packet on topic "status" with publish-data;
  * updates the participant attribute "uptime" (signaller::participant-attributes).
Data other participants send is printed ("data from ...").
"""
import json
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
        "golivekitsink name=lk "
        "audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk.audio_0 "
        "appsrc name=captions is-live=true format=time do-timestamp=true "
        "caps=text/x-raw,format=utf8 ! lk.text_0"
    )
    lk = pipeline.get_by_name("lk")
    captions = pipeline.get_by_name("captions")
    signaller = lk.get_property("signaller")
    signaller.set_property("ws-url", env("LIVEKIT_URL", "ws://127.0.0.1:7880"))
    signaller.set_property("room-name", env("ROOM", "demo"))
    signaller.set_property("api-key", env("LIVEKIT_API_KEY", "devkey"))
    signaller.set_property("secret-key", env("LIVEKIT_API_SECRET", "golivekitsink-demo-secret-0123456789abcdef"))
    signaller.set_property("identity", env("IDENTITY", "python-data-example"))
    signaller.set_property("participant-attributes", Gst.Structure.new_from_string("attrs, role=(string)captioner"))

    def on_data(_element, identity, topic, payload):
        print(f"data from {identity} on {topic or '-'}: {payload.get_data().decode(errors='replace')}", flush=True)

    lk.connect("data-received", on_data)

    loop = GLib.MainLoop()
    state = {"code": 0, "eos_sent": False, "tick": 0}

    def tick():
        state["tick"] += 1
        n = state["tick"]
        captions.emit("push-buffer", Gst.Buffer.new_wrapped(f"caption {n}".encode()))
        status = json.dumps({"tick": n}).encode()
        queued = lk.emit("publish-data", GLib.Bytes.new(status), "status", True, None)
        print(f"tick {n}: caption pushed, status queued={queued}", flush=True)
        signaller.set_property("participant-attributes",
                               Gst.Structure.new_from_string(f"attrs, role=(string)captioner, uptime=(string){n}"))
        return GLib.SOURCE_CONTINUE

    def on_message(_bus, msg):
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
        if not state["eos_sent"]:
            state["eos_sent"] = True
            print("sending EOS", flush=True)
            captions.emit("end-of-stream")
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
        GLib.timeout_add_seconds(1, tick)
        loop.run()
    pipeline.set_state(Gst.State.NULL)
    return state["code"]


if __name__ == "__main__":
    sys.exit(main())
