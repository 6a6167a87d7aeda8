#!/usr/bin/python3
"""A GStreamer application for the plugin tests: runs a pipeline whose
golivekitsink is named "lk" and obeys one command per line on stdin.
Every answer is one line on stdout:

  HELLO                        ready for commands
  ERROR <domain> <code> <text> | <debug>      every ERROR on the bus
  WARNING <domain> <code> <text> | <debug>    every WARNING on the bus
  MSG <structure>              every golivekitsink-connection message
  <COMMAND> ...                the answer to each command (see command())
  FAILED <command>: <why>      a command raised

usage: host.py LAUNCH_LINE
"""
import ctypes
import os
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, GObject, Gst  # noqa: E402

Gst.init(None)
pipeline = Gst.parse_launch(sys.argv[1])
if not isinstance(pipeline, Gst.Pipeline):  # a description of the element alone
    element, pipeline = pipeline, Gst.Pipeline.new("host")
    pipeline.add(element)
sink = pipeline.get_by_name("lk")
loop = GLib.MainLoop()
out_lock = threading.Lock()
branches = {}  # id -> (bin, element pad)

DOMAINS = {
    Gst.ResourceError.quark(): ("resource", Gst.ResourceError),
    Gst.StreamError.quark(): ("stream", Gst.StreamError),
    Gst.CoreError.quark(): ("core", Gst.CoreError),
    Gst.LibraryError.quark(): ("library", Gst.LibraryError),
}


def say(line):
    with out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def describe_gerror(err, debug):
    name, enum = DOMAINS.get(GLib.quark_from_string(err.domain), (err.domain, None))
    code = enum(err.code).value_nick if enum else str(err.code)
    return "%s %s %s | %s" % (name, code, err.message, (debug or "").replace("\n", " "))


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        say("ERROR " + describe_gerror(*msg.parse_error()))
    elif msg.type == Gst.MessageType.WARNING:
        say("WARNING " + describe_gerror(*msg.parse_warning()))
    elif msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "golivekitsink-connection":
        say("MSG " + msg.get_structure().to_string())
    return True


def set_state(target):
    start = time.monotonic()
    ret = pipeline.set_state(getattr(Gst.State, target))
    if ret == Gst.StateChangeReturn.ASYNC:
        ret, _, _ = pipeline.get_state(10 * Gst.SECOND)
    say("SET %s ret=%s ms=%.1f" % (target, ret.value_nick, (time.monotonic() - start) * 1000))


def add_branch(bid, kind, desc):
    """A source bin (desc, its last element's src pad ghosted) linked to a
    new request pad of the element, brought to the pipeline's state. A kind
    of video:unchecked (audio:unchecked) links without checking the caps,
    so that caps outside the pad template reach the pad."""
    kind, _, unchecked = kind.partition(":")
    b = Gst.parse_bin_from_description(desc, True)
    b.set_name("branch-" + bid)
    pipeline.add(b)
    pad = sink.request_pad_simple(kind + "_%u")
    if pad is None:
        pipeline.remove(b)
        raise RuntimeError("no %s pad" % kind)
    check = Gst.PadLinkCheck.NOTHING if unchecked else Gst.PadLinkCheck.DEFAULT
    res = b.get_static_pad("src").link_full(pad, check)
    if res != Gst.PadLinkReturn.OK:
        raise RuntimeError("link: %s" % res.value_nick)
    branches[bid] = (b, pad)
    b.sync_state_with_parent()
    say("BRANCH %s %s" % (bid, pad.get_name()))


def release_branch(bid):
    """As an application removes a live branch: stop it, unlink, release."""
    b, pad = branches.pop(bid)
    b.set_locked_state(True)
    b.set_state(Gst.State.NULL)
    b.get_static_pad("src").unlink(pad)
    name = pad.get_name()
    sink.release_request_pad(pad)
    pipeline.remove(b)
    left = [p.get_name() for p in sink.sinkpads]
    say("RELEASED %s %s left=%s" % (bid, name, ",".join(sorted(left)) or "-"))


def count_fds():
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue  # the listing's own descriptor, closed by now
        n += 1
    return n


# --- property round-trips ---------------------------------------------------
# PyGObject cannot convert every property type (GstValueArray), so values
# go through GStreamer's own string form: gst_value_deserialize into a
# GValue of the property's type, g_object_set_property (or
# gst_child_proxy_set_property), g_object_get_property, gst_value_serialize.

_gobject = ctypes.CDLL("libgobject-2.0.so.0")
_gst = ctypes.CDLL("libgstreamer-1.0.so.0")
_glib = ctypes.CDLL("libglib-2.0.so.0")
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class GValue(ctypes.Structure):
    _fields_ = [("g_type", ctypes.c_size_t), ("data", ctypes.c_uint64 * 2)]


for _lib, _name, _args, _res in [
    (_gobject, "g_type_from_name", [ctypes.c_char_p], ctypes.c_size_t),
    (_gobject, "g_value_init", [ctypes.c_void_p, ctypes.c_size_t], ctypes.c_void_p),
    (_gobject, "g_value_unset", [ctypes.c_void_p], None),
    (_gobject, "g_object_get_property", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p], None),
    (_gobject, "g_object_set_property", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p], None),
    (_gst, "gst_value_serialize", [ctypes.c_void_p], ctypes.c_void_p),
    (_gst, "gst_value_deserialize", [ctypes.c_void_p, ctypes.c_char_p], ctypes.c_int),
    (_gst, "gst_child_proxy_set_property", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p], None),
    (_gst, "gst_child_proxy_get_property", [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p], None),
    (_glib, "g_free", [ctypes.c_void_p], None),
]:
    getattr(_lib, _name).argtypes = _args
    getattr(_lib, _name).restype = _res


def _ptr(obj):
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


def _new_value(ps):
    v = GValue()
    _gobject.g_value_init(ctypes.byref(v), _gobject.g_type_from_name(ps.value_type.name.encode()))
    return v


def _serialize(v, ps):
    if v.data[0] == 0 and ps.value_type.is_a(GObject.TYPE_BOXED):
        return "NULL"  # gst_value_serialize asserts on a NULL structure
    p = _gst.gst_value_serialize(ctypes.byref(v))
    if not p:
        return "NULL"
    s = ctypes.string_at(p).decode()
    _glib.g_free(p)
    return s


def read_prop(obj, ps, via_child=None):
    if ps.value_type.is_a(GObject.TYPE_OBJECT):
        o = obj.get_property(ps.name)
        return "NULL" if o is None else "object@%x" % _ptr(o)
    v = _new_value(ps)
    if via_child:
        _gst.gst_child_proxy_get_property(_ptr(sink), via_child.encode(), ctypes.byref(v))
    else:
        _gobject.g_object_get_property(_ptr(obj), ps.name.encode(), ctypes.byref(v))
    s = _serialize(v, ps)
    _gobject.g_value_unset(ctypes.byref(v))
    return s


def write_prop(obj, ps, text, via_child=None):
    """Sets ps from its string form; returns the value set, serialized."""
    if ps.value_type.is_a(GObject.TYPE_OBJECT):
        o = GObject.new(ps.value_type)
        obj.set_property(ps.name, o)
        return "object@%x" % _ptr(o)
    v = _new_value(ps)
    if not _gst.gst_value_deserialize(ctypes.byref(v), text.encode()):
        raise RuntimeError("cannot deserialize %r as %s" % (text, ps.value_type.name))
    if via_child:
        _gst.gst_child_proxy_set_property(_ptr(sink), via_child.encode(), ctypes.byref(v))
    else:
        _gobject.g_object_set_property(_ptr(obj), ps.name.encode(), ctypes.byref(v))
    s = _serialize(v, ps)
    _gobject.g_value_unset(ctypes.byref(v))
    return s


SPECIAL_VALUES = {
    "ws-url": "wss://user:pw@round.trip.invalid:7443/lk",
    "stun-server": "stun://stun.round.trip.invalid:3478",
    "web-server-host-addr": "http://127.0.0.2:8081",
    "video-caps": "video/x-h264, profile=(string)high",
    "audio-caps": "audio/x-opus, channel-mapping-family=(int)0",
    "turn-servers": '< "turn://user:pw@turn.round.trip.invalid:3478" >',
    "meta": "round.trip, meta=(int)1",
    "participant-attributes": "round.trip, role=(string)camera",
}


def other_value(obj, ps, tag):
    """The string form of a valid value of ps other than its current one;
    strings carry tag, so that each mode writes its own."""
    if ps.name in SPECIAL_VALUES:
        return SPECIAL_VALUES[ps.name].replace("round.trip", tag + ".round.trip")
    t = ps.value_type
    if t == GObject.TYPE_BOOLEAN:
        return "false" if obj.get_property(ps.name) else "true"
    if t in (GObject.TYPE_INT, GObject.TYPE_UINT, GObject.TYPE_INT64, GObject.TYPE_UINT64,
             GObject.TYPE_LONG, GObject.TYPE_ULONG, GObject.TYPE_DOUBLE, GObject.TYPE_FLOAT):
        cur = obj.get_property(ps.name)
        return str(next(v for v in (cur + 7, cur - 7, cur + 1, cur - 1) if ps.minimum <= v <= ps.maximum))
    if t == GObject.TYPE_STRING:
        return "%s-%s" % (tag, ps.name)
    if t.is_a(GObject.TYPE_ENUM):
        cur = int(obj.get_property(ps.name))
        return str(next(v for v in sorted(ps.enum_class.__enum_values__) if v != cur))
    if t.is_a(GObject.TYPE_FLAGS):
        return "1" if int(obj.get_property(ps.name)) != 1 else "2"
    if t == Gst.ValueArray.__gtype__:
        return '< "%s-a", "%s-b" >' % (tag, tag)
    if t.is_a(GObject.TYPE_OBJECT):
        return ""
    raise RuntimeError("no value for %s of type %s" % (ps.name, t.name))


def flag_names(ps):
    names = []
    if ps.flags & GObject.ParamFlags.READABLE:
        names.append("r")
    if ps.flags & GObject.ParamFlags.WRITABLE:
        names.append("w")
    if ps.flags & Gst.PARAM_MUTABLE_READY:
        names.append("ready")
    if ps.flags & Gst.PARAM_MUTABLE_PLAYING:
        names.append("playing")
    return "+".join(names) or "-"


def prop_lines(mode):
    """One PROP line per property that the element and its signaller (the
    child proxy's "signaller") install themselves, as
    g_object_class_list_properties lists them:
      PROP <name> <flags> <verdict> set=<value> got=<value>
    with values in GStreamer's string form. The verdict is changed or
    unchanged (the read-back against the value before), or, for a property
    that is not writable, refused or accepted (GObject's check).
    mode "set": set on the owner; "child": set and read the signaller's
    through the element's child proxy (signaller::<name>); "state": only
    the properties flagged changeable in NULL/READY only, in the current
    state."""
    # The signaller is looked up after the element's own properties: the
    # round-trip of "signaller" replaces it. Then the request pads' own
    # properties (their pad class's), as <pad>::<name>.
    owners = [("", lambda: sink), ("signaller::", lambda: sink.get_property("signaller"))]
    owners += [(p.get_name() + "::", lambda p=p: p) for p in sink.sinkpads]
    for prefix, owner in owners:
        if mode == "child" and not prefix:
            continue
        obj = owner()
        for ps in obj.list_properties():
            if ps.owner_type != type(obj).__gtype__:
                continue  # GstObject's and GstBin's, not the element's
            if mode == "state" and not ps.flags & Gst.PARAM_MUTABLE_READY:
                continue
            full = prefix + ps.name
            child = full if mode == "child" else None
            if not ps.flags & GObject.ParamFlags.READABLE:  # a secret such as e2ee-shared-key
                value = write_prop(obj, ps, other_value(obj, ps, mode), child)
                say("PROP %s %s write-only set=%s got=-" % (full, flag_names(ps), value))
                continue
            before = read_prop(obj, ps, child)
            if not ps.flags & GObject.ParamFlags.WRITABLE:
                try:
                    obj.set_property(ps.name, obj.get_property(ps.name))
                    verdict = "accepted"
                except TypeError:
                    verdict = "refused"
                say("PROP %s %s %s got=%s" % (full, flag_names(ps), verdict, before))
                continue
            value = write_prop(obj, ps, other_value(obj, ps, mode), child)
            got = read_prop(obj, ps, child)
            verdict = "changed" if got != before else "unchanged"
            say("PROP %s %s %s set=%s got=%s" % (full, flag_names(ps), verdict, value, got))
    say("PROPS done")


def command(line):
    args = line.split(None, 1)
    if not args:
        return
    cmd, rest = args[0], (args[1] if len(args) > 1 else "")
    if cmd == "set":
        set_state(rest)
    elif cmd == "branch":  # branch ID video|audio DESCRIPTION
        bid, kind, desc = rest.split(None, 2)
        add_branch(bid, kind, desc)
    elif cmd == "release":
        release_branch(rest)
    elif cmd == "request":  # request TEMPLATE [NAME]: a request pad, not linked
        templ, _, name = rest.partition(" ")
        pad = sink.request_pad(sink.get_pad_template(templ), name or None, None)
        say("PAD %s" % (pad.get_name() if pad else "none"))
    elif cmd == "padset":  # padset PAD::PROP VALUE, through the element's child proxy
        path, value = rest.split(None, 1)
        padname, prop = path.split("::", 1)
        pad = sink.get_static_pad(padname)
        ps = pad.find_property(prop)
        write_prop(pad, ps, value, path)
        say("PADSET %s got=%s" % (path, read_prop(pad, ps, path)))
    elif cmd == "eos":  # eos ID: the branch's source sends EOS
        branches[rest][0].send_event(Gst.Event.new_eos())
        say("EOS %s" % rest)
    elif cmd == "restart":  # restart ID DESCRIPTION: a new source bin on the branch's pad (a new STREAM_START)
        bid, desc = rest.split(None, 1)
        old, pad = branches[bid]
        old.set_state(Gst.State.NULL)
        old.get_static_pad("src").unlink(pad)
        pipeline.remove(old)
        b = Gst.parse_bin_from_description(desc, True)
        pipeline.add(b)
        if b.get_static_pad("src").link(pad) != Gst.PadLinkReturn.OK:
            raise RuntimeError("relink failed")
        branches[bid] = (b, pad)
        b.sync_state_with_parent()
        say("RESTARTED %s" % bid)
    elif cmd == "caps":  # caps CAPSFILTER CAPS
        name, caps = rest.split(None, 1)
        pipeline.get_by_name(name).set_property("caps", Gst.Caps.from_string(caps))
        say("CAPS %s" % name)
    elif cmd == "stats":
        say("STATS " + sink.get_property("stats").to_string())
    elif cmd == "fds":
        say("FDS %d" % count_fds())
    elif cmd == "props":
        prop_lines(rest or "set")
    elif cmd == "new-signaller":
        sig = GObject.new(sink.get_property("signaller").__gtype__)
        sink.set_property("signaller", sig)
        say("NEW-SIGNALLER %s" % (sink.get_property("signaller") == sig))
    elif cmd == "data":  # data TOPIC reliable|lossy PAYLOAD
        topic, kind, payload = rest.split(None, 2)
        ok = sink.emit("publish-data", GLib.Bytes.new(payload.encode()), topic, kind == "reliable", [])
        say("DATA %s" % ok)
    elif cmd == "burst":  # burst N TOPIC once|retry: reliable payloads "0".."N-1"
        n, topic, mode = rest.split()
        queued, refusals, first_refused = 0, 0, -1
        for i in range(int(n)):
            while True:
                if sink.emit("publish-data", GLib.Bytes.new(str(i).encode()), topic, True, None):
                    queued += 1
                    break
                refusals += 1
                if first_refused < 0:
                    first_refused = i
                if mode != "retry" or refusals > 5000:
                    break
                time.sleep(0.005)  # as an application waits for the recovery
        say("BURST queued=%d first-refused=%d refusals=%d" % (queued, first_refused, refusals))
    elif cmd == "hammer":  # hammer SECONDS BACKOFF_MS TOPIC: reliable publish-data back to back for SECONDS, sleeping BACKOFF_MS after a refusal
        seconds, backoff, topic = rest.split()
        accepted, refused, i = 0, 0, 0
        end = time.monotonic() + float(seconds)
        while time.monotonic() < end:
            if sink.emit("publish-data", GLib.Bytes.new(str(i).encode()), topic, True, None):
                accepted += 1
                i += 1
            else:
                refused += 1
                time.sleep(float(backoff) / 1000)
        say("HAMMER accepted=%d refused=%d" % (accepted, refused))
    elif cmd == "eprop":  # eprop NAME VALUE: an element property from its string form
        name, value = rest.split(None, 1)
        ps = sink.find_property(name)
        write_prop(sink, ps, value)
        say("EPROP %s got=%s" % (name, read_prop(sink, ps)))
    elif cmd == "sprop":  # sprop NAME VALUE: a signaller property, a structure from its string form
        name, value = rest.split(None, 1)
        sig = sink.get_property("signaller")
        if name == "participant-attributes":
            value = Gst.Structure.new_from_string(value)
        sig.set_property(name, value)
        say("SPROP %s" % name)
    elif cmd == "e2ee-key":  # e2ee-key INDEX KEY: rotate with set-e2ee-key
        index, key = rest.split(None, 1)
        say("E2EE-KEY %s" % sink.emit("set-e2ee-key", GLib.Bytes.new(key.encode()), int(index)))
    elif cmd == "quit":
        loop.quit()
    else:
        say("UNKNOWN " + cmd)


pending = b""


def on_stdin(_fd, _cond):
    """Reads raw bytes: a buffered readline would keep lines the watch never
    fires for."""
    global pending
    data = os.read(0, 65536)
    if not data:
        loop.quit()
        return False
    pending += data
    while b"\n" in pending:
        line, pending = pending.split(b"\n", 1)
        line = line.decode().strip()
        try:
            command(line)
        except Exception as e:  # report, keep going
            say("FAILED %s: %r" % (line, e))
    return True


def on_data(_sink, identity, topic, payload):
    say("RECEIVED %s %s %s" % (identity, topic or "-", payload.get_data().decode(errors="replace")))


if sink is not None:
    sink.connect("data-received", on_data)
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin)
say("HELLO")
loop.run()
ret = pipeline.set_state(Gst.State.NULL)
say("BYE %s" % ret.value_nick)
