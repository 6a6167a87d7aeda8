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
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"
	"github.com/google/uuid"
	"golang.org/x/net/html"

	"github.com/golivekitsink/golivekitsink/session"
)

// textPad is one text_N request pad (GstGoLiveKitTextPad): every buffer
// (a caption) becomes a LiveKit text stream when its running time comes
// (docs/properties.md, "Captions").
type textPad struct {
	e       *element
	name    string
	ghost   *C.GstPad     // owned by the element
	appsink *C.GstElement // owned by the element (bin child)
	seq     atomic.Uint64 // segment ids of buffers without a cue id
	prefix  string        // makes segment ids unique per pad and element instance

	mu               sync.Mutex // guards the properties
	transcribedTrack *string
	topic            *string
}

// textPadObject is the Go side of a GstGoLiveKitTextPad instance.
type textPadObject struct{ textPad }

var textPadType glib.Type

func registerTextPadClass() bool {
	textPadType = glib.RegisterGoType("GstGoLiveKitTextPad", &textPadObject{}, extendsGhostPad{})
	return textPadType != 0
}

func (*textPadObject) New() glib.GoObjectSubclass {
	return &textPadObject{textPad{topic: strp(session.TopicTranscription)}}
}

func (*textPadObject) ClassInit(klass *glib.ObjectClass) { installProperties(klass, textPadProperties) }

func (o *textPadObject) SetProperty(self *glib.Object, id uint, v *glib.Value) {
	defer returnToC(nil, "text pad set-property")
	setProperty(textPadProperties, &o.textPad, o.lock, id, v)
}

func (o *textPadObject) GetProperty(self *glib.Object, id uint) *glib.Value {
	defer returnToC(nil, "text pad get-property")
	return getProperty(textPadProperties, &o.textPad, o.lock, id)
}

func (p *textPad) lock() func() {
	p.mu.Lock()
	return p.mu.Unlock
}

// textPadProperties is the text pads' property table (proptable.go).
var textPadProperties = []property[*textPad]{
	stringProp("transcribed-track", "Transcribed track",
		"Name of the audio pad (audio_N) whose track these captions transcribe; NULL: the first audio pad. "+
			"Without an audio track the text goes out as a plain text stream on topic",
		nil, rwAny, func(p *textPad) **string { return &p.transcribedTrack },
		propDoc{def: "NULL (the first audio pad)", use: "the audio pad (`audio_N`) whose track the captions transcribe (`lk.transcribed_track_id`)"}),
	stringProp("topic", "Topic",
		"Text stream topic. lk.transcription (the default) sends transcription segments of the transcribed track; "+
			"another topic, or no audio track, plain text streams",
		strp(session.TopicTranscription), rwAny, func(p *textPad) **string { return &p.topic },
		propDoc{use: "`lk.transcription`: transcription segments of the audio track; another topic (or no audio track): plain text streams"}),
}

// requestTextPad creates text_N. Called from RequestNewPad.
func (e *element) requestTextPad(templ *gst.PadTemplate) *gst.Pad {
	e.mu.Lock()
	name := fmt.Sprintf("text_%d", e.nextText)
	e.nextText++
	e.mu.Unlock()
	var ghost *C.GstPad
	withCString(name, func(n *C.char) {
		ghost = C.lk_text_pad_new((*C.GstPadTemplate)(templ.Unsafe()), n, C.GType(textPadType))
	})
	o, ok := glib.FromObjectUnsafePrivate(unsafe.Pointer(ghost)).(*textPadObject)
	if !ok {
		C.gst_object_unref(C.gpointer(C.gst_object_ref_sink(C.gpointer(ghost))))
		return nil
	}
	p := &o.textPad
	p.e, p.name, p.ghost, p.prefix = e, name, ghost, "GLK_"+uuid.NewString()[:8]+"_"+name
	h := cgo.NewHandle(p)
	if p.appsink = C.lk_text_pad_attach(e.gst, ghost, C.uintptr_t(h)); p.appsink == nil {
		h.Delete()
		C.gst_object_unref(C.gpointer(C.gst_object_ref_sink(C.gpointer(ghost))))
		postError(e.gst, C.lk_core_error_quark(), C.GST_CORE_ERROR_MISSING_PLUGIN, name+": no appsink element", "")
		return nil
	}
	e.mu.Lock()
	e.textPads[ghost] = p
	e.mu.Unlock()
	if C.gst_element_add_pad(e.gst, ghost) == 0 {
		e.releaseTextPad(ghost)
		return nil
	}
	C.lk_child_added(e.gst, ghost) // gst-launch sets "text_0::prop=..." on this signal
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
		yieldP()
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
	p.mu.Lock()
	topic, transcribed := deref(p.topic), deref(p.transcribedTrack)
	p.mu.Unlock()
	e := p.e
	e.mu.Lock()
	s := e.sess
	track := e.transcribedTrackLocked(transcribed)
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
