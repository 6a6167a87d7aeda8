package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime/cgo"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/go-gst/go-gst/gst"
	"github.com/google/uuid"
	"golang.org/x/net/html"

	"github.com/golivekitsink/golivekitsink/session"
)

// textPad is one text_N request pad: every buffer (a caption) becomes a
// LiveKit text stream when its running time comes (docs/properties.md,
// "Captions").
type textPad struct {
	e       *element
	name    string
	ghost   *C.GstPad     // owned by the element
	appsink *C.GstElement // owned by the element (bin child)
	seq     atomic.Uint64 // segment ids of buffers without a cue id
	prefix  string        // makes segment ids unique per pad and element instance
}

// requestTextPad creates text_N. Called from RequestNewPad.
func (e *element) requestTextPad(templ *gst.PadTemplate) *gst.Pad {
	e.mu.Lock()
	name := fmt.Sprintf("text_%d", e.nextText)
	e.nextText++
	e.mu.Unlock()
	p := &textPad{e: e, name: name, prefix: "GLK_" + uuid.NewString()[:8] + "_" + name}
	h := cgo.NewHandle(p)
	var ghost *C.GstPad
	withCString(name, func(n *C.char) {
		ghost = C.lk_text_pad_new(e.gst, (*C.GstPadTemplate)(templ.Unsafe()), n, C.uintptr_t(h), &p.appsink)
	})
	if ghost == nil {
		h.Delete()
		e.warnf("%s: cannot create the text pad (no appsink?)", name)
		return nil
	}
	p.ghost = ghost
	e.mu.Lock()
	e.textPads[ghost] = p
	e.mu.Unlock()
	if C.gst_element_add_pad(e.gst, ghost) == 0 {
		e.releaseTextPad(ghost)
		return nil
	}
	e.debugf("pad %s requested", name)
	return gst.FromGstPadUnsafeNone(unsafe.Pointer(ghost))
}

// releaseTextPad removes a text pad and its appsink; false if ghost is not one.
func (e *element) releaseTextPad(ghost *C.GstPad) bool {
	e.mu.Lock()
	p := e.textPads[ghost]
	delete(e.textPads, ghost)
	e.mu.Unlock()
	if p == nil {
		return false
	}
	C.gst_element_set_locked_state(p.appsink, 1)
	C.gst_element_set_state(p.appsink, C.GST_STATE_NULL)
	C.gst_pad_set_active(ghost, 0)
	C.gst_element_remove_pad(e.gst, ghost)
	C.gst_bin_remove((*C.GstBin)(unsafe.Pointer(e.gst)), p.appsink)
	e.debugf("pad %s released", p.name)
	return true
}

//export goLkTextSample
func goLkTextSample(h C.uintptr_t, data unsafe.Pointer, size C.size_t, media, format *C.char) (ret C.int) {
	var p *textPad
	defer func() {
		if r := recover(); r != nil {
			if p != nil {
				reportPanic(p.e.gst, "text sample", r)
			}
			ret = C.GST_FLOW_ERROR
		}
	}()
	p = cgo.Handle(h).Value().(*textPad)
	raw := C.GoStringN((*C.char)(data), C.int(size))
	p.send(captionOf(C.GoString(media), C.GoString(format), raw))
	return C.GST_FLOW_OK
}

// caption is the text of one buffer and its segment id, if it has one.
type caption struct{ id, text string }

// captionOf reads a buffer of the pad's caps: plain UTF-8, Pango markup
// (tags dropped, entities decoded), or a WebVTT cue (its identifier line
// is the segment id; cue settings and tags dropped).
func captionOf(media, format, raw string) caption {
	raw = strings.TrimRight(raw, "\x00")
	switch {
	case media == "application/x-subtitle-vtt":
		return vttCue(raw)
	case format == "pango-markup":
		return caption{text: stripMarkup(raw)}
	}
	return caption{text: raw}
}

// vttCue parses a cue block: [identifier] timings [settings], payload.
func vttCue(block string) caption {
	lines := strings.Split(strings.ReplaceAll(block, "\r\n", "\n"), "\n")
	var c caption
	for i, l := range lines {
		if strings.Contains(l, "-->") {
			if i > 0 {
				c.id = strings.TrimSpace(lines[i-1])
			}
			lines = lines[i+1:]
			break
		}
	}
	c.text = stripMarkup(strings.TrimSpace(strings.Join(lines, "\n")))
	return c
}

// stripMarkup keeps the text of Pango or WebVTT markup (their tags and
// entities are HTML-like).
func stripMarkup(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		}
	}
}

// send sends one caption: a final transcription segment of the transcribed
// audio track on lk.transcription, or a plain text stream on topic.
func (p *textPad) send(c caption) {
	if strings.TrimSpace(c.text) == "" {
		return
	}
	topic := p.prop("topic")
	e := p.e
	e.mu.Lock()
	s := e.sess
	track := e.transcribedTrackLocked(p.prop("transcribed-track"))
	e.mu.Unlock()
	if s == nil {
		return
	}
	if c.id == "" {
		c.id = fmt.Sprintf("%s_%d", p.prefix, p.seq.Add(1))
	}
	var err error
	if track != nil && (topic == "" || topic == session.TopicTranscription) {
		err = s.SendTranscription(c.text, c.id, true, track, session.TextOptions{})
	} else {
		if topic == "" {
			topic = session.TopicTranscription
		}
		err = s.SendText(topic, c.text, nil, session.TextOptions{})
	}
	switch {
	case err == nil:
		e.debugf("%s: caption %s sent (%d bytes)", p.name, c.id, len(c.text))
	case errors.Is(err, session.ErrDataQueueFull):
		postWarning(e.gst, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_WRITE, p.name+": caption not sent: "+err.Error(), "")
	default:
		e.debugf("%s: caption not sent: %v", p.name, err)
	}
}

func (p *textPad) prop(name string) string {
	var v *C.char
	withCString(name, func(n *C.char) { v = C.lk_text_pad_get(p.ghost, n) })
	if s := takeCString(v); s != nil {
		return *s
	}
	return ""
}

// transcribedTrackLocked is the published track of the audio pad called
// name, or of the first audio pad when name is empty. e.mu is held.
func (e *element) transcribedTrackLocked(name string) *session.Track {
	var best *sinkPad
	for _, p := range e.pads {
		if p.video || p.track.Load() == nil {
			continue
		}
		if name != "" {
			if p.name == name {
				return p.track.Load()
			}
			continue
		}
		if best == nil || padIndex(p.name) < padIndex(best.name) {
			best = p
		}
	}
	if best == nil {
		return nil
	}
	return best.track.Load()
}

// padIndex is N of audio_N.
func padIndex(name string) int {
	var n int
	_, _ = fmt.Sscanf(name[strings.LastIndexByte(name, '_')+1:], "%d", &n)
	return n
}
