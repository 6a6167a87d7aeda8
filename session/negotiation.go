package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/signalling"
	"github.com/pion/webrtc/v4"
)

// negotiate sends an offer, keeping at most one outstanding.
func (s *Session) negotiate() {
	p := s.pc
	if p == nil {
		return
	}
	if s.conn == nil {
		// Signalling is down (resuming): offer once it is back, e.g. to
		// unpublish a track removed meanwhile.
		p.again = true
		return
	}
	if p.offering {
		p.again = true
		return
	}
	if pending := p.pc.PendingLocalDescription(); pending != nil && pending.Type == webrtc.SDPTypeOffer {
		// The answer to our last offer went down with the old socket (a
		// resume cleared offering). pion (v4.2) cannot roll a local offer
		// back, and a new one is refused in have-local-offer: send that
		// offer again, and make the one this call is for once it is answered.
		s.offerID++
		p.offering = true
		p.again = true
		if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: toProtoSD(*pending, s.offerID)}}); err != nil {
			s.log.Warnf("sending the offer again: %v", err)
		}
		return
	}
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.restart})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		s.fire(happening{tr: trNegotiationFailed, err: fmt.Errorf("creating the offer: %w", err), reason: "creating the offer failed"})
		return
	}
	s.offerID++
	for _, ts := range s.tracks {
		ts.inOffer = ts.sender != nil
	}
	if p.restart {
		s.settleAt = time.Time{}
	}
	p.restarting = p.restart
	p.restart = false
	p.offering = true
	if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: toProtoSD(offer, s.offerID)}}); err != nil {
		s.log.Warnf("sending the offer: %v", err)
	}
}

func (s *Session) onAnswer(sd *livekit.SessionDescription) {
	p := s.pc
	if p == nil || !p.offering {
		return
	}
	answer, _, _ := signalling.FromProtoSessionDescription(sd)
	if err := p.pc.SetRemoteDescription(answer); err != nil {
		s.fire(happening{tr: trNegotiationFailed, err: fmt.Errorf("applying the answer: %w", err), reason: "applying the answer failed"})
		return
	}
	p.offering = false
	for _, c := range p.pending {
		if err := p.pc.AddICECandidate(c); err != nil {
			s.log.Debugf("remote candidate: %v", err)
		}
	}
	p.pending = nil
	for _, ts := range s.tracks {
		if ts.inOffer {
			ts.negotiated = true
		}
	}
	if p.restarting {
		p.restarting = false
		// The ICE restart may finish without a visible state change; accept
		// "connected" after a short settle in any case (JS waits 2 s too).
		s.settleAt = time.Now().Add(2 * time.Second)
	} else if p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		s.fire(happening{tr: trPCConnected})
	}
	s.updateFlowing()
	if p.again {
		p.again = false
		s.negotiate()
	}
}

func (s *Session) onRemoteCandidate(t *livekit.TrickleRequest) {
	c, err := signalling.FromProtoTrickle(t)
	if err != nil {
		s.log.Debugf("bad trickle from the server: %v", err)
		return
	}
	if t.GetTarget() == livekit.SignalTarget_SUBSCRIBER {
		if s.sub != nil {
			_ = s.sub.pc.AddICECandidate(c)
		}
		return
	}
	if s.pc == nil {
		return
	}
	if s.pc.pc.RemoteDescription() == nil || s.pc.offering {
		s.pc.pending = append(s.pc.pending, c)
		return
	}
	if err := s.pc.pc.AddICECandidate(c); err != nil {
		s.log.Debugf("remote candidate: %v", err)
	}
}

func (s *Session) onLocalCandidate(e evLocalCandidate) {
	if e.c == nil || s.conn == nil {
		return
	}
	target := livekit.SignalTarget_PUBLISHER
	if e.subscriber {
		if s.sub == nil || e.gen != s.sub.gen {
			return
		}
		target = livekit.SignalTarget_SUBSCRIBER
	} else {
		if s.pc == nil || e.gen != s.pc.gen {
			return
		}
		if s.pc.relay && e.c.Typ != webrtc.ICECandidateTypeRelay {
			return
		}
	}
	_ = s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Trickle{
		Trickle: signalling.ToProtoTrickle(e.c.ToJSON(), target, false)}})
}

// onPCState follows the publisher's connection state (read fresh: pion
// reports state changes on separate goroutines, so their order is not kept).
func (s *Session) onPCState() {
	st := s.pc.pc.ConnectionState()
	s.pc.state = st
	s.log.Debugf("publisher peer connection %s", st)
	s.updateFlowing()
	switch st {
	case webrtc.PeerConnectionStateConnected:
		s.fire(happening{tr: trPCConnected})
	case webrtc.PeerConnectionStateFailed:
		s.fire(happening{tr: trPCFailed, err: errors.New("publisher peer connection failed"),
			reason: "publisher peer connection failed", rr: livekit.ReconnectReason_RR_PUBLISHER_FAILED})
	}
}

// updateFlowing lets each track send while its sender is negotiated on a
// connected peer connection, and asks for a keyframe when it starts again.
func (s *Session) updateFlowing() {
	up := s.pc != nil && s.pc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	for _, ts := range s.tracks {
		on := up && ts.negotiated && ts.sender != nil
		if on && !ts.t.flowing.Load() {
			s.bindLayers(ts)
		}
		if was := ts.t.flowing.Swap(on); on && !was {
			ts.t.requestKeyframe(true)
		}
	}
}

// bindLayers tells each layer its SSRC and, for simulcast, the MID and the
// header extension ids its packets must carry.
func (s *Session) bindLayers(ts *trackState) {
	mid := ""
	for _, tr := range s.pc.pc.GetTransceivers() {
		if tr.Sender() == ts.sender {
			mid = tr.Mid()
		}
	}
	for _, l := range ts.t.layers {
		l.bind(ts.sender, mid)
	}
}

func toProtoSD(sd webrtc.SessionDescription, id uint32) *livekit.SessionDescription {
	return signalling.ToProtoSessionDescription(sd, id, nil)
}
