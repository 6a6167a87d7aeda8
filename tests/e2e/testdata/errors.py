#!/usr/bin/python3
"""Runs a gst-launch description and prints the first ERROR as an
application sees it: its GStreamer domain and code, the text and the debug
string, on one line each:
    DOMAIN resource
    CODE not-authorized
    TEXT …
    DEBUG …
Exits 0 when an ERROR came within the timeout (argv[2] seconds), 1 if not."""
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

ENUMS = {
    Gst.ResourceError.quark(): ("resource", Gst.ResourceError),
    Gst.StreamError.quark(): ("stream", Gst.StreamError),
    Gst.CoreError.quark(): ("core", Gst.CoreError),
    Gst.LibraryError.quark(): ("library", Gst.LibraryError),
}


def main():
    Gst.init(None)
    pipeline = Gst.parse_launch(sys.argv[1])
    bus = pipeline.get_bus()
    pipeline.set_state(Gst.State.PLAYING)
    msg = bus.timed_pop_filtered(int(float(sys.argv[2]) * Gst.SECOND), Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None:
        print("no ERROR", flush=True)
        sys.exit(1)
    err, debug = msg.parse_error()
    name, enum = ENUMS.get(GLib.quark_from_string(err.domain), (err.domain, None))
    print("DOMAIN", name)
    print("CODE", enum(err.code).value_nick if enum else err.code)
    print("TEXT", err.message)
    print("DEBUG", (debug or "").replace("\n", " "))


if __name__ == "__main__":
    main()
