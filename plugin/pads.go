package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/go-gst/go-gst/gst"
	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/simulcast"
	"github.com/livekit/protocol/livekit"
)

// sinkPad is one request pad (video_N / audio_N): a ghost pad of our pad
// class (padclass.go) whose target is set when its chain is built on the
// first CAPS event.
type sinkPad struct {
	e     *element
	name  string
	video bool
	ghost *C.GstPad // owned by the element

	// mu guards chain and gen; held while a chain is built or replaced.
	mu    sync.Mutex
	chain *chain
	gen   int

	// sinkMu guards appsink (a ref of the current chain's appsink) for
	// keyframe requests, which must not wait for a chain build.
	sinkMu  sync.Mutex
	appsink *C.GstElement
	layers  []*layerBranch // raw simulcast: the chain's layers (dynacast.go)

	// grp is the simulcast group the pad's frames go to (simulcastgroup.go).
	grp atomic.Pointer[simulcastGroup]

	// track is read for every frame; nil while there is no published track.
	track atomic.Pointer[session.Track]
	eos   atomic.Bool
	// upstreamWarned: the one WARNING about an encoder upstream-bitrate-control
	// does not know was posted (upstream.go).
	upstreamWarned atomic.Bool

	// propsMu guards props (the pad properties); take no other lock under it.
	propsMu sync.Mutex
	props   padProps

	// Guarded by element.mu.
	spec *session.TrackSpec
	// unpublishable: publishing spec failed (reported once); a new spec or
	// session tries again.
	unpublishable bool
	released      bool
	member        *groupMember // a simulcast group pad's layer, once it has caps
}

// RequestNewPad creates video_N / audio_N: the requested name when one is
// given (lk.video_5), else the next free number of the template.
func (e *element) RequestNewPad(self *gst.Element, templ *gst.PadTemplate, name string, caps *gst.Caps) (ret *gst.Pad) {
	defer returnToC(e.gst, "request-new-pad")
	testPanic("request-new-pad")
	if strings.HasPrefix(templ.Name(), "text") {
		return e.requestTextPad(templ)
	}
	video := strings.HasPrefix(templ.Name(), "video")
	prefix := "audio_"
	if video {
		prefix = "video_"
	}
	e.mu.Lock()
	next := &e.nextAudio
	if video {
		next = &e.nextVideo
	}
	pname, err := padName(prefix, name, next)
	e.mu.Unlock()
	if err != nil {
		e.warnf("%v", err)
		return nil
	}

	var ghost *C.GstPad
	withCString(pname, func(n *C.char) {
		ghost = C.lk_ghost_pad_new(e.gst, (*C.GstPadTemplate)(templ.Unsafe()), n)
	})
	if ghost == nil {
		return nil
	}
	p := padOf(unsafe.Pointer(ghost))
	if p == nil { // a template of another class: cannot happen with ours
		C.gst_object_unref(C.gpointer(C.gst_object_ref_sink(C.gpointer(ghost))))
		return nil
	}
	p.e, p.name, p.video, p.ghost = e, pname, video, ghost
	p.props = defaultPadProps(video)
	C.lk_ghost_pad_setup(ghost, C.uintptr_t(cgo.NewHandle(p))) // the pad's destroy notify deletes the handle
	e.mu.Lock()
	e.pads[ghost] = p
	e.mu.Unlock()
	if C.gst_element_add_pad(e.gst, ghost) == 0 {
		e.mu.Lock()
		delete(e.pads, ghost)
		e.mu.Unlock()
		e.warnf("cannot add pad %s (a pad of that name exists)", pname)
		C.gst_object_unref(C.gpointer(C.gst_object_ref_sink(C.gpointer(ghost))))
		return nil
	}
	C.lk_child_added(e.gst, ghost) // gst-launch sets "video_0::prop=..." on this signal
	e.debugf("pad %s requested", pname)
	return gst.FromGstPadUnsafeNone(unsafe.Pointer(ghost))
}

// padName is the requested name when it is prefix followed by a number
// (gst_element_request_pad has checked it against the template), else
// prefix and the next free number. next only grows. e.mu is held.
func padName(prefix, requested string, next *uint) (string, error) {
	if requested == "" {
		n := *next
		*next++
		return fmt.Sprintf("%s%d", prefix, n), nil
	}
	n, err := strconv.ParseUint(strings.TrimPrefix(requested, prefix), 10, 32)
	if err != nil || !strings.HasPrefix(requested, prefix) {
		return "", fmt.Errorf("requested pad name %q is not %s<number>", requested, prefix)
	}
	if uint(n) >= *next {
		*next = uint(n) + 1
	}
	return requested, nil
}

// ReleasePad unpublishes the pad's track, removes its chain and the pad.
func (e *element) ReleasePad(self *gst.Element, pad *gst.Pad) {
	defer returnToC(e.gst, "release-pad")
	ghost := (*C.GstPad)(pad.Unsafe())
	if e.releaseTextPad(ghost) {
		return
	}
	e.mu.Lock()
	p := e.pads[ghost]
	delete(e.pads, ghost)
	if p != nil {
		p.released = true
	}
	sess := e.sess
	e.mu.Unlock()
	if p == nil {
		return
	}
	if t := p.track.Swap(nil); t != nil {
		e.forgetTrack(t)
		if sess != nil {
			sess.RemoveTrack(t)
		}
	}
	p.mu.Lock()
	c := p.chain
	p.chain = nil
	p.mu.Unlock()
	p.setAppsink(nil)
	p.setLayerBranches(nil)
	c.teardown(e, ghost)
	C.gst_pad_set_active(ghost, 0)
	C.lk_child_removed(e.gst, ghost)
	C.gst_element_remove_pad(e.gst, ghost)
	e.debugf("pad %s released", p.name)
}

func (p *sinkPad) setAppsink(sink *C.GstElement) {
	if sink != nil {
		C.gst_object_ref(C.gpointer(sink))
	}
	p.sinkMu.Lock()
	old := p.appsink
	p.appsink = sink
	p.sinkMu.Unlock()
	if old != nil {
		C.gst_object_unref(C.gpointer(old))
	}
}

// requestKeyframe sends GstForceKeyUnit upstream from the pad's appsink.
func (p *sinkPad) requestKeyframe() bool {
	p.sinkMu.Lock()
	sink := p.appsink
	if sink != nil {
		C.gst_object_ref(C.gpointer(sink))
	}
	p.sinkMu.Unlock()
	if sink == nil {
		return false
	}
	defer C.gst_object_unref(C.gpointer(sink))
	return C.lk_send_force_key_unit(sink) != 0
}

// onCaps runs on the streaming thread for every CAPS event: the first one
// builds the chain and publishes the track; a later one that needs another
// chain (codec, memory, encoder) replaces both. Returning false rejects the
// caps.
func (p *sinkPad) onCaps(ci capsInfo) bool {
	e := p.e
	var cs *chainSpec
	if ci.raw() && strings.HasPrefix(ci.media, "video") == p.video {
		var err error
		cs, err = e.rawChainSpec(p, ci, C.lk_pad_upstream_is_live(p.ghost) != 0)
		if err == nil {
			cs, err = p.simulcastSpec(ci, cs)
		}
		if err != nil {
			postError(e.gst, C.lk_core_error_quark(), C.GST_CORE_ERROR_MISSING_PLUGIN, err.Error(), "")
			return false
		}
	} else {
		cs = encodedChain(ci)
	}
	if cs == nil || cs.codec.IsVideo() != p.video {
		postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_WRONG_TYPE,
			fmt.Sprintf("%s: unsupported caps %s", p.name, ci.str), "")
		return false
	}
	props := p.padProps()
	spec := session.TrackSpec{Name: props.trackName(p.name), Source: livekit.TrackSource(props.source),
		Codec: cs.codec, Width: ci.width, Height: ci.height}
	if cs.codec == rtp.CodecOpus {
		spec.Channels = ci.channels
		if spec.Channels <= 0 {
			spec.Channels = 2
		}
		if ci.raw() && spec.Channels > 2 {
			spec.Channels = 2 // the raw chain mixes down to stereo
		}
	}
	capsStr := ci.str
	if group := p.simulcastGroup(); group != "" && p.video && !ci.raw() {
		return p.onGroupCaps(cs, spec, group)
	}
	if len(cs.layers) > 0 {
		spec.Layers = simulcast.Specs(cs.layers, int(e.startBitrate()))
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chain != nil && p.chain.spec.key == cs.key {
		// Same codec: the track stays; a new video size reaches LiveKit's
		// track info.
		e.mu.Lock()
		old := p.spec
		p.spec = &spec
		e.mu.Unlock()
		if t := p.track.Load(); t != nil && p.video && spec.Width > 0 && spec.Height > 0 &&
			(old == nil || old.Width != spec.Width || old.Height != spec.Height) {
			e.infof("%s: video size changed to %dx%d", p.name, spec.Width, spec.Height)
			t.SetVideoSize(spec.Width, spec.Height)
		}
		return true
	}
	e.mu.Lock()
	released := p.released
	e.mu.Unlock()
	if released {
		return false
	}
	if p.chain != nil { // codec changed: new chain, new track
		e.infof("%s: caps changed to %s, rebuilding", p.name, capsStr)
		e.dropTrack(p)
		p.setAppsink(nil)
		p.setLayerBranches(nil)
		p.chain.teardown(e, p.ghost)
		p.chain = nil
	}
	p.gen++
	c, err := buildChain(e, p, cs, p.gen)
	if err != nil {
		code := C.gint(C.GST_CORE_ERROR_NEGOTIATION)
		if ce, ok := err.(*chainError); ok && ce.missingPlugin {
			code = C.GST_CORE_ERROR_MISSING_PLUGIN
		}
		postError(e.gst, C.lk_core_error_quark(), code, err.Error(), "")
		return false
	}
	p.chain = c
	p.setAppsink(c.appsink)
	p.setLayerBranches(c.layers)
	e.debugf("%s: %s chain built for %s", p.name, cs.codec, capsStr)

	e.mu.Lock()
	p.spec, p.unpublishable = &spec, false
	e.publishReadyLocked()
	e.mu.Unlock()
	return true
}

// onEOS mutes the track. A pad that never had caps gets a bare appsink so
// that the bin can still aggregate EOS over its sinks.
func (p *sinkPad) onEOS() {
	if !p.eos.Swap(true) {
		p.e.debugf("%s: EOS, muting", p.name)
	}
	p.applyMute()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.chain != nil {
		return
	}
	p.e.mu.Lock()
	released := p.released
	p.e.mu.Unlock()
	if released {
		return
	}
	p.gen++
	c, err := buildChain(p.e, p, &eosOnlyChain, p.gen)
	if err != nil {
		p.e.warnf("%s: %v", p.name, err)
		return
	}
	p.chain = c
}

// dropTrack unpublishes p's track, if any.
func (e *element) dropTrack(p *sinkPad) {
	t := p.track.Swap(nil)
	if t == nil {
		return
	}
	e.forgetTrack(t)
	e.mu.Lock()
	sess := e.sess
	e.mu.Unlock()
	if sess != nil {
		sess.RemoveTrack(t)
	}
}

// addTrackLocked publishes p's spec on the current session (publishhold.go
// decides when). e.mu is held.
func (e *element) addTrackLocked(p *sinkPad) {
	spec := *p.spec
	spec.Muted = p.padProps().muted || p.eos.Load()
	if !e.encryptLocked(p, &spec) {
		p.unpublishable = true
		return
	}
	t, err := e.sess.AddTrack(spec)
	if err != nil || t == nil {
		p.unpublishable = true
		postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FAILED,
			fmt.Sprintf("%s: cannot publish track: %v", p.name, err), "")
		return
	}
	e.rememberTrack(t, p)
	p.track.Store(t)
	p.applyMute()
}

// onStreamStart unmutes a track that EOS muted: a new stream begins. It
// reports whether the pad was at EOS.
func (p *sinkPad) onStreamStart() bool {
	if !p.eos.Swap(false) {
		return false
	}
	p.e.debugf("%s: new stream after EOS, unmuting", p.name)
	p.applyMute()
	return true
}

// setMuted is the muted property's setter.
func (p *sinkPad) setMuted(m bool) {
	p.propsMu.Lock()
	p.props.muted = m
	p.propsMu.Unlock()
	p.applyMute()
}

// applyMute tells the track whether it is muted: by the property or by
// EOS. Serialised by propsMu so that the last state wins.
func (p *sinkPad) applyMute() {
	p.propsMu.Lock()
	defer p.propsMu.Unlock()
	if t := p.track.Load(); t != nil {
		if m := p.props.muted || p.eos.Load(); m != t.Muted() {
			t.SetMuted(m)
		}
	}
}
