package session

import (
	"strings"

	"github.com/livekit/protocol/livekit"
)

// onSubscribedQualityUpdate applies dynacast to a simulcast track: a layer
// no subscriber wants is paused (WriteFrame drops it), one wanted again
// resumes with a keyframe request. What the SFU sends when, and why the
// session follows it as it is: docs/protocol.md, "Simulcast and dynacast".
// A track without simulcast keeps sending, as server-sdk-go does.
func (s *Session) onSubscribedQualityUpdate(u *livekit.SubscribedQualityUpdate) {
	for _, ts := range s.tracks {
		if ts.info == nil || ts.info.GetSid() != u.GetTrackSid() || !ts.t.Simulcast() {
			continue
		}
		qualities := u.GetSubscribedQualities() // servers before codec lists
		for _, c := range u.GetSubscribedCodecs() {
			if strings.EqualFold(c.GetCodec(), ts.t.spec.Codec.String()) || strings.EqualFold(c.GetCodec(), ts.t.spec.Codec.MimeType()) {
				qualities = c.GetQualities()
			}
		}
		enabled := map[Quality]bool{}
		for _, l := range ts.t.layers {
			enabled[l.spec.Quality] = l.enabled.Load()
		}
		for _, q := range qualities {
			if _, ok := enabled[q.GetQuality()]; ok {
				enabled[q.GetQuality()] = q.GetEnabled()
			}
		}
		s.setLayers(ts, enabled)
	}
}

// setLayers enables the layers of a simulcast track that enabled says
// (nil: all of them), tells the handler when anything changed, and asks
// for a keyframe on each layer that comes back.
func (s *Session) setLayers(ts *trackState, enabled map[Quality]bool) {
	t := ts.t
	if !t.Simulcast() {
		return
	}
	changed := false
	now := map[Quality]bool{}
	for _, l := range t.layers {
		on := enabled == nil || enabled[l.spec.Quality]
		now[l.spec.Quality] = on
		if l.enabled.Swap(on) == on {
			continue
		}
		changed = true
		s.log.Infof("track %s: layer %s %s", t.spec.Name, l.rid, map[bool]string{true: "resumed", false: "paused (no subscriber wants it)"}[on])
		if on && t.flowing.Load() {
			l.requestKeyframe(true)
		}
	}
	if !changed {
		return
	}
	if lh, ok := s.h.(LayerHandler); ok {
		s.disp.post(func() { lh.OnLayersChanged(t, now) })
	}
}
