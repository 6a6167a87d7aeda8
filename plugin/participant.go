package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"unsafe"

	"github.com/golivekitsink/golivekitsink/session"
)

// The participant's name, metadata and attributes (signaller::participant-
// name, participant-metadata, participant-attributes): their values at
// start go into session.Config; changes while a session runs are sent
// with SetName/SetMetadata/SetAttributes (docs/properties.md).

// liveParticipant is the session a signaller's participant properties
// reach, and the attributes it was last given. Guarded by signaller.mu.
type liveParticipant struct {
	sess  *session.Session
	attrs map[string]string
}

// participantNameProp is signaller::participant-name.
func participantNameProp() property[*signaller] {
	name := stringProp("participant-name", "Participant name",
		"Display name of the publishing participant (token 'name' claim when minting); changeable in PLAYING (needs the canUpdateOwnMetadata grant, which minted tokens carry)",
		strp(defaultPartName), rwAny, func(s *signaller) **string { return &s.partName },
		propDoc{use: "token `name`; **changeable in PLAYING** (UpdateParticipantMetadata, kept across a reconnect)"})
	name.unlocked = true
	name.set = func(s *signaller, v *C.GValue) {
		n := gvalueString(v)
		s.setParticipant(func() { s.partName = n }, func(p *session.Session) {
			if n != nil && *n != "" {
				p.SetName(*n)
			}
		})
	}
	return name
}

// participantDataProps are signaller::participant-metadata and
// participant-attributes.
func participantDataProps() []property[*signaller] {
	meta := stringProp("participant-metadata", "Participant metadata",
		"The participant's metadata (free text, often JSON); in the minted token, changeable in PLAYING. LiveKit cannot clear metadata: an empty value is not sent",
		nil, rwAny, func(s *signaller) **string { return &s.partMeta },
		propDoc{use: "golivekitsink only: participant metadata; **changeable in PLAYING**. An empty value is not sent (LiveKit cannot clear it)"})
	meta.unlocked = true
	meta.set = func(s *signaller, v *C.GValue) {
		m := gvalueString(v)
		s.setParticipant(func() { s.partMeta = m }, func(p *session.Session) {
			if m != nil && *m != "" {
				p.SetMetadata(*m)
			}
		})
	}
	attrs := structureProp("participant-attributes", "Participant attributes",
		"The participant's attributes as a GstStructure (any name; each field a key, its value as a string), changeable in PLAYING; a field removed from the structure removes the attribute",
		rwAny, func(s *signaller) **string { return &s.partAttrs },
		propDoc{use: "golivekitsink only: participant attributes, e.g. `attrs,role=camera`; **changeable in PLAYING**; a removed field removes the attribute"})
	attrs.unlocked = true
	attrs.set = func(s *signaller, v *C.GValue) {
		a := takeCString(C.lk_value_dup_structure_string(v))
		var changed map[string]string
		s.setParticipant(func() {
			s.partAttrs = a
			if s.live.sess != nil {
				changed = attributeChanges(s.live.attrs, structureFields(a))
				s.live.attrs = structureFields(a)
			}
		}, func(p *session.Session) {
			if len(changed) > 0 {
				p.SetAttributes(changed)
			}
		})
	}
	return []property[*signaller]{meta, attrs}
}

// setParticipant stores a value under s.mu and, when a session runs, sends
// the change outside the lock.
func (s *signaller) setParticipant(store func(), send func(*session.Session)) {
	s.mu.Lock()
	store()
	sess := s.live.sess
	s.mu.Unlock()
	if sess != nil {
		send(sess)
	}
}

// attach makes property changes reach sess from now on, and sends what
// changed since cfg was read.
func (s *signaller) attach(sess *session.Session, cfg session.Config) {
	s.mu.Lock()
	now := s.snapshotLocked()
	s.live = liveParticipant{sess: sess, attrs: now.attrs}
	s.mu.Unlock()
	if now.partName != cfg.Name && now.partName != "" {
		sess.SetName(now.partName)
	}
	if now.metadata != cfg.Metadata && now.metadata != "" {
		sess.SetMetadata(now.metadata)
	}
	if changed := attributeChanges(cfg.Attributes, now.attrs); len(changed) > 0 {
		sess.SetAttributes(changed)
	}
}

func (s *signaller) detach() {
	s.mu.Lock()
	s.live = liveParticipant{}
	s.mu.Unlock()
}

// attributeChanges is what turns attributes old into new: changed and new
// keys, and removed ones with an empty value (LiveKit removes those).
func attributeChanges(old, new map[string]string) map[string]string {
	changed := map[string]string{}
	for k, v := range new {
		if ov, ok := old[k]; !ok || ov != v {
			changed[k] = v
		}
	}
	for k := range old {
		if _, ok := new[k]; !ok {
			changed[k] = ""
		}
	}
	return changed
}

// structureFields reads a serialized GstStructure's fields as attributes.
func structureFields(str *string) map[string]string {
	if str == nil {
		return nil
	}
	var list **C.char
	withCString(*str, func(c *C.char) { list = C.lk_structure_fields(c) })
	defer C.g_strfreev(list)
	fields := map[string]string{}
	kv := unsafe.Slice(list, 1<<20)
	for i := 0; kv[i] != nil; i += 2 {
		fields[C.GoString(kv[i])] = C.GoString(kv[i+1])
	}
	return fields
}
