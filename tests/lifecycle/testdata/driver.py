#!/usr/bin/python3
"""Drive a golivekitsink pipeline (element name "lk") from a test, one
command per line on stdin; report on stdout, one line each:

  MSG <structure>         every golivekitsink-connection element message
  ERROR <text>            every ERROR on the bus
  <COMMAND> ...           the outcome of each command (see handlers below)

usage: driver.py LAUNCH_LINE
"""
import os
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)
pipeline = Gst.parse_launch(sys.argv[1])
sink = pipeline.get_by_name("lk")
loop = GLib.MainLoop()
out_lock = threading.Lock()
armed = {}  # "sync" -> (state name, target), "notify" -> target


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def state_of(name):
    return getattr(Gst.State, name)


def set_state(target, how):
    start = time.monotonic()
    ret = pipeline.set_state(state_of(target))
    ms = (time.monotonic() - start) * 1000
    say("%s %s ret=%s ms=%.1f thread=%s" % (how, target, ret.value_nick, ms, threading.current_thread().name))


def sync_handler(_bus, msg):
    """Runs on the thread that posts: for connection messages, the element's
    dispatcher goroutine."""
    arm = armed.get("sync")
    if arm and msg.type == Gst.MessageType.ELEMENT:
        s = msg.get_structure()
        if s.get_name() == "golivekitsink-connection" and s.get_string("state") == arm[0]:
            del armed["sync"]
            set_state(arm[1], "SYNCSET")
    return Gst.BusSyncReply.PASS


def on_connection_state(sig, _pspec):
    """notify::connection-state, emitted on the element's dispatcher goroutine."""
    target = armed.get("notify")
    if target and int(sig.get_property("connection-state")) == 0:  # server-disconnected
        del armed["notify"]
        set_state(target, "NOTIFYSET")


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "golivekitsink-connection":
        say("MSG " + msg.get_structure().to_string())
    elif msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        say("ERROR %s (%s)" % (err.message, dbg))
    return True


def count_fds():
    total = sockets = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue  # the directory listing's own fd, gone by now
        total += 1
        if target.startswith("socket:"):
            sockets += 1
    return total, sockets


def pad_of(name):
    """The element's pad that the element called name feeds."""
    return pipeline.get_by_name(name).get_static_pad("src").get_peer()


def release(upstream):
    """Stop the branch (sources first) feeding the element's pad, then
    release that pad. Returns the pad's name."""
    elems = [pipeline.get_by_name(n) for n in upstream]
    pad = pad_of(upstream[-1])
    name = pad.get_name()
    for el in elems:
        el.set_locked_state(True)
        el.set_state(Gst.State.NULL)
    elems[-1].get_static_pad("src").unlink(pad)
    sink.release_request_pad(pad)
    for el in elems:
        pipeline.remove(el)
    return name


def command(line):
    args = line.split()
    if not args:
        return
    cmd = args[0]
    if cmd == "set":
        set_state(args[1], "SET")
    elif cmd == "fds":
        say("FDS total=%d sockets=%d" % count_fds())
    elif cmd == "stats":
        say("STATS " + sink.get_property("stats").to_string())
    elif cmd == "eos":
        ok = pipeline.get_by_name(args[1]).send_event(Gst.Event.new_eos())
        say("EOS %s %s" % (args[1], ok))
    elif cmd == "padof":
        say("PADOF %s %s" % (args[1], pad_of(args[1]).get_name()))
    elif cmd == "release":
        say("RELEASED %s" % release(args[1].split(",")))
    elif cmd == "caps":
        pipeline.get_by_name(args[1]).set_property("caps", Gst.Caps.from_string(args[2]))
        say("CAPS %s %s" % (args[1], args[2]))
    elif cmd == "arm-sync":
        armed["sync"] = (args[1], args[2])
        say("ARMED sync %s %s" % (args[1], args[2]))
    elif cmd == "arm-notify":
        armed["notify"] = args[1]
        say("ARMED notify %s" % args[1])
    elif cmd == "quit":
        loop.quit()
    else:
        say("UNKNOWN %s" % cmd)


pending = b""


def on_stdin(_fd, _cond):
    """Reads raw bytes: a buffered readline would keep lines the watch never
    fires for."""
    global pending
    data = os.read(0, 4096)
    if not data:
        loop.quit()
        return False
    pending += data
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        try:
            command(line.decode().strip())
        except Exception as e:  # report, keep driving
            say("FAILED %s: %r" % (line.decode().strip(), e))
    return True


bus = pipeline.get_bus()
bus.set_sync_handler(sync_handler)
bus.add_signal_watch()
bus.connect("message", on_message)
sink.get_property("signaller").connect("notify::connection-state", on_connection_state)
GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin)
say("HELLO")
loop.run()
pipeline.set_state(Gst.State.NULL)
say("BYE")
