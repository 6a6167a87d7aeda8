#!/usr/bin/python3
"""Soak host: one GStreamer process with golivekitsink elements, as an
application embeds them (PyGObject), reporting what a leak would grow.

    host.py SAMPLE_SECONDS 'gst-launch description'

Prints, like gst-launch-1.0 -m, every element message on stdout and every
ERROR/WARNING as "ERROR: from element …" / "WARNING: from element …" on
stderr, and every SAMPLE_SECONDS a line
    SAMPLE t=<s> rss_kb=<n> fds=<n> goroutines=<n> states=<a,b>
read from /proc/self and the elements' "stats" property. SIGINT sends EOS
and exits once it arrived (or after 10 s).
"""
import os
import signal
import sys
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main():
    period = float(sys.argv[1])
    Gst.init(None)
    pipeline = Gst.parse_launch(sys.argv[2])
    sinks = []
    pipeline.iterate_all_by_element_factory_name("golivekitsink").foreach(sinks.append)
    loop = GLib.MainLoop()
    t0 = time.monotonic()
    state = {"code": 0}

    def on_message(bus, msg):
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None:
                print(f"Got message #0 from element \"{msg.src.get_name()}\" (element): {s.to_string()}", flush=True)
        elif t == Gst.MessageType.WARNING:
            err, debug = msg.parse_warning()
            print(f"WARNING: from element {msg.src.get_path_string()}: {err.message}\nAdditional debug info:\n{debug}",
                  file=sys.stderr, flush=True)
        elif t == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            print(f"ERROR: from element {msg.src.get_path_string()}: {err.message}\nAdditional debug info:\n{debug}",
                  file=sys.stderr, flush=True)
            state["code"] = 1
            loop.quit()
        elif t == Gst.MessageType.EOS:
            loop.quit()

    def sample():
        goroutines, states = -1, []
        for e in sinks:
            st = e.get_property("stats")
            if st is not None:
                ok, n = st.get_int("goroutines")
                if ok:
                    goroutines = n  # one Go runtime per process: every element reports the same
                states.append(st.get_string("state") or "?")
        fds = len(os.listdir("/proc/self/fd"))
        print(f"SAMPLE t={time.monotonic() - t0:.1f} rss_kb={rss_kb()} fds={fds} goroutines={goroutines} "
              f"states={','.join(states)}", flush=True)
        return GLib.SOURCE_CONTINUE

    def on_sigint():
        pipeline.send_event(Gst.Event.new_eos())
        GLib.timeout_add_seconds(10, loop.quit)
        return GLib.SOURCE_REMOVE

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, on_sigint)
    GLib.timeout_add(int(period * 1000), sample)
    pipeline.set_state(Gst.State.PLAYING)
    sample()
    loop.run()
    pipeline.set_state(Gst.State.NULL)
    sys.exit(state["code"])


if __name__ == "__main__":
    main()
