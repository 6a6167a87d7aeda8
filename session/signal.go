package session

import (
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
)

// onSignal handles one server message (docs/protocol.md, "Messages from the server").
func (s *Session) onSignal(m *livekit.SignalResponse) {
	switch msg := m.GetMessage().(type) {
	case *livekit.SignalResponse_Answer:
		s.onAnswer(msg.Answer)
	case *livekit.SignalResponse_Offer:
		s.onServerOffer(msg.Offer)
	case *livekit.SignalResponse_Trickle:
		s.onRemoteCandidate(msg.Trickle)
	case *livekit.SignalResponse_TrackPublished:
		s.onTrackPublished(msg.TrackPublished)
	case *livekit.SignalResponse_Leave:
		s.onLeave(msg.Leave)
	case *livekit.SignalResponse_RefreshToken:
		s.token = msg.RefreshToken
		s.log.Debugf("token refreshed by the server")
	case *livekit.SignalResponse_RequestResponse:
		if !s.onMetadataResponse(msg.RequestResponse) {
			s.onRequestResponse(msg.RequestResponse)
		}
	case *livekit.SignalResponse_Mute:
		for _, ts := range s.tracks {
			if ts.info != nil && ts.info.Sid == msg.Mute.GetSid() {
				ts.t.muted.Store(msg.Mute.GetMuted()) // the server muted (or unmuted) it on its own
				s.onMute(ts.t, msg.Mute.GetMuted())
			}
		}
	case *livekit.SignalResponse_TrackUnpublished:
		for _, ts := range s.tracks {
			if ts.info != nil && ts.info.Sid == msg.TrackUnpublished.GetTrackSid() {
				err := fmt.Errorf("the server unpublished track %s (%s)", ts.t.spec.Name, ts.info.Sid)
				t := ts.t
				s.disp.post(func() { s.h.OnTrackError(t, err) })
			}
		}
	case *livekit.SignalResponse_Update:
		s.roomUpdate(msg.Update, time.Now())
	case *livekit.SignalResponse_SubscribedQualityUpdate:
		s.onSubscribedQualityUpdate(msg.SubscribedQualityUpdate)
	case *livekit.SignalResponse_RoomMoved:
		if tok := msg.RoomMoved.GetToken(); tok != "" {
			s.token = tok
		}
		if sid := msg.RoomMoved.GetParticipant().GetSid(); sid != "" {
			s.sid = sid
		}
	case *livekit.SignalResponse_ConnectionQuality:
		for _, u := range msg.ConnectionQuality.GetUpdates() {
			if u.GetParticipantSid() == s.sid && u.GetQuality() == livekit.ConnectionQuality_LOST {
				s.log.Infof("server reports connection quality LOST for us (publisher PC %s)", s.pcStateName())
			}
		}
	default:
		// room_update, speakers_changed, … : nothing to do for a publisher.
	}
}

func (s *Session) pcStateName() string {
	if s.pc == nil {
		return "none"
	}
	return s.pc.pc.ConnectionState().String()
}

// onLeave hands a Leave on a working socket to the machine, whose rules
// apply the Leave policy (leave_policy.go).
func (s *Session) onLeave(l *livekit.LeaveRequest) {
	s.fire(happening{tr: trLeave, leave: l, reason: fmt.Sprintf("leave %s %s", l.GetAction(), l.GetReason())})
}
