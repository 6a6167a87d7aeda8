#!/usr/bin/python3
"""The bench's webrtcbin publisher: GStreamer's own WebRTC stack (webrtcbin,
the stack under livekitwebrtcsink) publishing into a LiveKit room through
livekit-server's WHIP endpoint (POST /whip/v1, RFC 9725, no trickle).

The pipeline is LAUNCH; its webrtcbin is named "wb". Every transceiver is made
sendonly, the offer goes out once ICE gathering is complete, the answer comes
back in the 201 response. At EOS on every sink pad of wb (or on SIGINT,
which sends EOS as gst-launch -e does) the WHIP resource is deleted, so the participant leaves,
and the script exits 0; an ERROR on the bus or a failed request exits 1.

usage: whippub.py WHIP_URL TOKEN LAUNCH
"""
import signal
import sys
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

whip_url, token, launch = sys.argv[1:4]
Gst.init(None)
pipeline = Gst.parse_launch(launch)
wb = pipeline.get_by_name("wb")
loop = GLib.MainLoop()
state = {"resource": None, "offered": False, "ended": set(), "code": 0}


def fail(why):
    sys.stderr.write("whippub: %s\n" % why)
    state["code"] = 1
    loop.quit()


def request(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", "Bearer " + token)
    if body is not None:
        req.add_header("Content-Type", "application/sdp")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Location"), resp.read()


def post_offer():
    # Runs on the main loop, not on webrtcbin's thread that reported gathering.
    offer = wb.get_property("local-description").sdp.as_text()
    try:
        status, location, answer = request("POST", whip_url, offer.encode())
    except Exception as e:  # noqa: BLE001 (any failure ends the run)
        fail("POST offer: %s" % e)
        return False
    if status != 201 or not location:
        fail("POST offer: status %d, Location %r" % (status, location))
        return False
    state["resource"] = urllib.parse.urljoin(whip_url, location)
    _, sdp = GstSdp.SDPMessage.new_from_text(answer.decode())
    desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
    wb.emit("set-remote-description", desc, None)
    print("whippub: answered", flush=True)
    return False


def on_gathering(element, _pspec):
    if element.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not state["offered"]:
        state["offered"] = True
        GLib.idle_add(post_offer)


def on_offer(promise, _):
    promise.wait()
    reply = promise.get_reply()
    if reply is None or reply.get_value("offer") is None:
        GLib.idle_add(fail, "create-offer: %s" % (reply.to_string() if reply else "no reply"))
        return
    offer = reply.get_value("offer")
    wb.emit("set-local-description", offer, None)


def on_negotiation_needed(element):
    # get-transceivers returns a GArray, which PyGObject cannot iterate.
    i = 0
    while (t := element.emit("get-transceiver", i)) is not None:
        t.set_property("direction", GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        i += 1
    element.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))


def leave():
    if state["resource"]:
        try:
            request("DELETE", state["resource"])
        except Exception as e:  # noqa: BLE001
            fail("DELETE: %s" % e)
            return GLib.SOURCE_REMOVE
    loop.quit()
    return GLib.SOURCE_REMOVE


def on_eos_probe(pad, info):
    # webrtcbin never posts EOS on the bus (its RTCP keeps the transport's
    # funnel open), so the end of the media is EOS on each of its sink pads.
    if info.get_event().type == Gst.EventType.EOS:
        state["ended"].add(pad.get_name())
        if len(state["ended"]) == len(wb.sinkpads):
            GLib.idle_add(leave)
    return Gst.PadProbeReturn.OK


def on_message(_bus, msg):
    if msg.type == Gst.MessageType.ERROR:
        err, debug = msg.parse_error()
        fail("%s | %s" % (err.message, debug))


def on_sigint():
    pipeline.send_event(Gst.Event.new_eos())
    return GLib.SOURCE_REMOVE


for sinkpad in wb.sinkpads:
    sinkpad.add_probe(Gst.PadProbeType.EVENT_DOWNSTREAM, on_eos_probe)
wb.connect("on-negotiation-needed", on_negotiation_needed)
wb.connect("notify::ice-gathering-state", on_gathering)
wb.connect("notify::connection-state", lambda e, _: print("whippub: connection %s" % e.get_property("connection-state").value_nick, flush=True))
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, on_sigint)
pipeline.set_state(Gst.State.PLAYING)
loop.run()
pipeline.set_state(Gst.State.NULL)
sys.exit(state["code"])
