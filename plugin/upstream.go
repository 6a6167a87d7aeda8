package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/golivekitsink/golivekitsink/encoderinfo"
)

// Upstream bitrate control (upstream-bitrate-control, off by default since
// the encoder belongs to the application): an encoded video pad's share of
// the estimate goes to the encoder upstream of it, found by walking through
// queues, parsers, capsfilters, tees and the like (upstream.c), and set in
// that encoder's own unit (encoderinfo). An encoder the table does not know
// gets one WARNING per pad.

// startUpstreamEncoders runs when the session is connected: a new publisher
// connection's estimator starts at start-bitrate and reports changes only,
// so with upstream-bitrate-control the application's encoders get their
// share of the last estimate (start-bitrate before the first) right away
// instead of at the first change.
func (e *element) startUpstreamEncoders() {
	e.mu.Lock()
	on, sess, bps := e.props.upstreamBitrateControl, e.sess, int(e.props.ref.encoderBitrate())
	e.mu.Unlock()
	if !on {
		return
	}
	if sess != nil && sess.TargetBitrate() > 0 {
		bps = sess.TargetBitrate()
	}
	e.applyTargetBitrate(bps)
}

// setUpstreamEncoderBitrate sets the encoder upstream of encoded pad p to
// bps bit/s; false when p is not an encoded video pad or no known encoder
// was found. ghost is p's ghost pad, held by the caller.
func (e *element) setUpstreamEncoderBitrate(p *sinkPad, ghost *C.GstPad, bps uint) bool {
	p.mu.Lock()
	encoded := p.chain != nil && p.chain.encoder == nil && p.chain.spec.codec.IsVideo()
	p.mu.Unlock()
	if !encoded {
		return false
	}
	var stoppedAt *C.char
	enc := C.lk_upstream_encoder(ghost, &stoppedAt)
	if enc == nil {
		if stoppedAt != nil {
			e.debugf("%s: no encoder upstream (the walk stopped at %s, which has more or fewer than one sink pad)", p.name, C.GoString(stoppedAt))
			C.g_free(C.gpointer(stoppedAt))
		} else {
			e.debugf("%s: no encoder upstream", p.name)
		}
		return false
	}
	defer C.gst_object_unref(C.gpointer(enc))
	factory := C.GoString(C.lk_element_factory_name(enc))
	name := objectName(enc)
	info, ok := encoderinfo.Lookup(factory)
	if !ok || !isVideoCodec(info.Codec) {
		if p.upstreamWarned.CompareAndSwap(false, true) {
			text := p.name + ": upstream-bitrate-control does not know encoder " + name + " (" + factory +
				"), so its bitrate is left alone; docs/encoders.md lists the encoders it knows"
			e.warnf("%s", text)
			postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_ENCODE, text, "")
		}
		return false
	}
	arg := info.BitrateArg(bps)
	withCString(arg[0], func(k *C.char) {
		withCString(arg[1], func(v *C.char) { C.lk_set_arg(enc, k, v) })
	})
	e.debugf("%s: upstream encoder %s (%s) %s=%s", p.name, name, factory, arg[0], arg[1])
	return true
}

func isVideoCodec(codec string) bool { return codec != encoderinfo.Opus }

func objectName(el *C.GstElement) string {
	n := C.gst_object_get_name((*C.GstObject)(unsafe.Pointer(el)))
	defer C.g_free(C.gpointer(n))
	return C.GoString(n)
}
