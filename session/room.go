package session

import (
	"errors"
	"time"

	"github.com/livekit/protocol/livekit"
)

// ErrRoomTimeout ends a session that was alone in its room for
// Config.RoomTimeout (the reference's room-timeout, with its words).
var ErrRoomTimeout = errors.New("Room timeout reached with no other participants")

// roomPresence is who else is in the room, as the JoinResponse and the
// ParticipantUpdates since tell it: the bookkeeping room-timeout needs.
// Owned by run. A resume keeps it (the server sends updates for what
// changed); a full reconnect's JoinResponse starts it over.
type roomPresence struct {
	others     map[string]bool // SIDs of the other participants
	aloneSince time.Time       // zero while someone else is there, or before the first join
}

// onJoin starts the bookkeeping over from a JoinResponse.
func (s *Session) roomJoined(j *livekit.JoinResponse, now time.Time) {
	s.room.others = map[string]bool{}
	for _, p := range j.GetOtherParticipants() {
		s.roomSaw(p)
	}
	s.roomChanged(now)
}

// roomUpdate applies a ParticipantUpdate.
func (s *Session) roomUpdate(u *livekit.ParticipantUpdate, now time.Time) {
	if s.room.others == nil { // not joined yet
		return
	}
	for _, p := range u.GetParticipants() {
		s.roomSaw(p)
	}
	s.roomChanged(now)
}

// roomSaw records one participant's state; ours (by SID, or by identity:
// our previous self before a full reconnect) does not count.
func (s *Session) roomSaw(p *livekit.ParticipantInfo) {
	if p.GetSid() == s.sid || (p.GetIdentity() != "" && p.GetIdentity() == s.join.GetParticipant().GetIdentity()) {
		return
	}
	if p.GetState() == livekit.ParticipantInfo_DISCONNECTED {
		delete(s.room.others, p.GetSid())
	} else {
		s.room.others[p.GetSid()] = true
	}
}

func (s *Session) roomChanged(now time.Time) {
	switch {
	case len(s.room.others) > 0:
		if !s.room.aloneSince.IsZero() {
			s.log.Debugf("room: %d other participant(s)", len(s.room.others))
		}
		s.room.aloneSince = time.Time{}
	case s.room.aloneSince.IsZero():
		s.room.aloneSince = now
		if s.cfg.RoomTimeout > 0 {
			s.log.Infof("room: no other participant; ending after %s alone (room-timeout)", s.cfg.RoomTimeout)
		}
	}
}

// roomDeadline is when room-timeout ends the session; zero when it does not.
func (s *Session) roomDeadline() time.Time {
	if s.cfg.RoomTimeout <= 0 || s.room.aloneSince.IsZero() {
		return time.Time{}
	}
	return s.room.aloneSince.Add(s.cfg.RoomTimeout)
}

// checkRoomTimeout fires the room timeout once its deadline passed.
func (s *Session) checkRoomTimeout(now time.Time) bool {
	d := s.roomDeadline()
	if d.IsZero() || now.Before(d) {
		return false
	}
	s.room.aloneSince = time.Time{} // fired once
	s.fire(happening{tr: trRoomTimeout, err: ErrRoomTimeout, reason: "room timeout"})
	return true
}
