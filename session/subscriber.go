package session

import (
	"fmt"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/signalling"
	"github.com/pion/webrtc/v4"
)

// onServerOffer answers an offer on the subscriber peer connection. A
// canSubscribe=false token never gets one, but an auth-token given by the
// user may allow subscribing, and an unanswered offer gets the participant
// removed (docs/protocol.md, "The subscriber offer"). Only data arrives
// on it (data.go).
func (s *Session) onServerOffer(sd *livekit.SessionDescription) {
	if s.sub == nil {
		s.pcGen++
		gen := s.pcGen
		pc, err := s.subAPI.NewPeerConnection(s.rtcConfig())
		if err != nil {
			s.log.Warnf("subscriber peer connection: %v", err)
			return
		}
		pc.OnICECandidate(func(c *webrtc.ICECandidate) { s.post(evLocalCandidate{gen: gen, c: c, subscriber: true}) })
		// With canSubscribe the SFU sends others' data on this peer
		// connection's channels (data.go).
		pc.OnDataChannel(func(dc *webrtc.DataChannel) { s.receiveData(dc, dc.Label() != "_lossy") })
		s.sub = &subscriberPeer{pc: pc, gen: gen}
	}
	offer, id, _ := signalling.FromProtoSessionDescription(sd)
	err := s.sub.pc.SetRemoteDescription(offer)
	var answer webrtc.SessionDescription
	if err == nil {
		answer, err = s.sub.pc.CreateAnswer(nil)
	}
	if err == nil {
		err = s.sub.pc.SetLocalDescription(answer)
	}
	if err != nil {
		s.log.Warnf("answering the server's subscriber offer: %v", err)
		return
	}
	if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{Answer: toProtoSD(answer, id)}}); err != nil {
		s.log.Warnf("sending the subscriber answer: %v", fmt.Errorf("%w", err))
	}
}
