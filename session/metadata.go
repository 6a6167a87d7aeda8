package session

import (
	"errors"
	"fmt"
	"maps"

	"github.com/livekit/protocol/livekit"
)

// The participant's name, metadata and attributes at runtime, sent with
// UpdateParticipantMetadata and sent again to the new participant of a
// full reconnect (docs/protocol.md, "Name, metadata and attributes").

// ErrMetadataNotAllowed: the server refused a name, metadata or attribute
// change because the token lacks the canUpdateOwnMetadata grant.
var ErrMetadataNotAllowed = errors.New("the token lacks the canUpdateOwnMetadata grant")

// participantMeta is what the application set at runtime. Owned by run.
type participantMeta struct {
	set      bool // anything set at runtime: a new participant gets it all
	name     string
	metadata string
	attrs    map[string]string // an empty value removes the key
	pending  *livekit.UpdateParticipantMetadata
	lastID   uint32
	inFlight map[uint32]bool // request ids the server has not answered yet
}

// SetName changes the participant's name (needs canUpdateOwnMetadata;
// minted tokens carry it). A refusal reaches the Handler as a warning
// wrapping ErrMetadataNotAllowed.
func (s *Session) SetName(name string) error {
	return s.updateMeta(&livekit.UpdateParticipantMetadata{Name: name})
}

// SetMetadata changes the participant's metadata. LiveKit ignores an empty
// string: metadata cannot be cleared, only replaced.
func (s *Session) SetMetadata(metadata string) error {
	return s.updateMeta(&livekit.UpdateParticipantMetadata{Metadata: metadata})
}

// SetAttributes changes the given attributes; a key with an empty value is
// removed, keys not given stay as they are.
func (s *Session) SetAttributes(attrs map[string]string) error {
	return s.updateMeta(&livekit.UpdateParticipantMetadata{Attributes: maps.Clone(attrs)})
}

func (s *Session) updateMeta(u *livekit.UpdateParticipantMetadata) error {
	if !s.post(evCall(func(s *Session) { s.onUpdateMeta(u) })) {
		return ErrClosed
	}
	return nil
}

func (s *Session) onUpdateMeta(u *livekit.UpdateParticipantMetadata) {
	m := &s.meta
	m.set = true
	if m.pending == nil {
		m.pending = &livekit.UpdateParticipantMetadata{}
	}
	if u.Name != "" {
		m.name, m.pending.Name = u.Name, u.Name
	}
	if u.Metadata != "" {
		m.metadata, m.pending.Metadata = u.Metadata, u.Metadata
	}
	for k, v := range u.Attributes {
		if m.attrs == nil {
			m.attrs = map[string]string{}
		}
		if m.pending.Attributes == nil {
			m.pending.Attributes = map[string]string{}
		}
		m.attrs[k], m.pending.Attributes[k] = v, v
	}
	s.flushMeta()
}

// metaNewParticipant: a join made a new participant, which has only what
// the token says; everything set at runtime goes again.
func (s *Session) metaNewParticipant() {
	m := &s.meta
	m.inFlight = nil
	if !m.set {
		return
	}
	m.pending = &livekit.UpdateParticipantMetadata{Name: m.name, Metadata: m.metadata, Attributes: maps.Clone(m.attrs)}
}

// flushMeta sends the changes that wait, once connected.
func (s *Session) flushMeta() {
	m := &s.meta
	if m.pending == nil || s.phase != phaseConnected || s.conn == nil {
		return
	}
	m.lastID++
	m.pending.RequestId = m.lastID
	if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: m.pending}}); err != nil {
		s.log.Debugf("participant update: %v (sent again once connected)", err)
		return
	}
	if m.inFlight == nil {
		m.inFlight = map[uint32]bool{}
	}
	m.inFlight[m.lastID] = true
	m.pending = nil
}

// onMetadataResponse handles the server's answer to an update and reports
// whether r was one.
func (s *Session) onMetadataResponse(r *livekit.RequestResponse) bool {
	m := &s.meta
	if !m.inFlight[r.GetRequestId()] && r.GetUpdateMetadata() == nil {
		return false
	}
	delete(m.inFlight, r.GetRequestId())
	var err error
	switch r.GetReason() {
	case livekit.RequestResponse_OK:
		s.log.Debugf("participant update %d applied", r.GetRequestId())
		return true
	case livekit.RequestResponse_NOT_ALLOWED:
		err = fmt.Errorf("%w: the server refused the name/metadata/attributes change (%s)", ErrMetadataNotAllowed, r.GetMessage())
	default:
		err = fmt.Errorf("the server refused the name/metadata/attributes change: %s %s", r.GetReason(), r.GetMessage())
	}
	s.log.Warnf("%v", err)
	s.disp.post(func() { s.h.OnWarning(err) })
	return true
}
