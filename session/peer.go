package session

import (
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// peer is the publisher PeerConnection of one LiveKit session, with the two
// data channels every LiveKit client opens and the remote candidates that
// arrived before the answer.
type peer struct {
	pc         *webrtc.PeerConnection
	gen        uint64
	reliable   *webrtc.DataChannel
	lossy      *webrtc.DataChannel
	pending    []webrtc.ICECandidateInit
	offering   bool // an offer is outstanding
	again      bool // negotiation needed once the outstanding answer is in
	restart    bool // the next offer restarts ICE
	restarting bool // the outstanding (or last answered) offer restarted ICE
	relay      bool // trickle relay candidates only (force_relay after creation)
	state      webrtc.PeerConnectionState
}

func (s *Session) rtcConfig() webrtc.Configuration {
	cfg := webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	}
	for _, is := range s.iceServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: is.Urls, Username: is.Username, Credential: is.Credential})
	}
	for _, is := range s.cfg.ExtraICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	if s.forceRelay || s.cfg.ForceRelay {
		cfg.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return cfg
}

// newPeer creates the publisher peer connection; its callbacks only post
// events tagged with its generation.
func (s *Session) newPeer() (*peer, error) {
	s.pcGen++
	gen := s.pcGen
	relay := s.forceRelay || s.cfg.ForceRelay
	api := s.api
	if relay {
		api = s.relayAPI
	}
	pc, err := api.NewPeerConnection(s.rtcConfig())
	if err != nil {
		return nil, err
	}
	if s.estimators != nil {
		s.governor.reset()
		s.watchEstimator(s.estimators.take(), gen)
	}
	p := &peer{pc: pc, gen: gen, relay: relay}
	pc.OnICECandidate(func(c *webrtc.ICECandidate) { s.post(evLocalCandidate{gen: gen, c: c}) })
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) { s.post(evPCState{gen: gen, state: st}) })
	pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) { s.post(evICEState{gen: gen, state: st}) })
	ordered := true
	if p.reliable, err = pc.CreateDataChannel("_reliable", &webrtc.DataChannelInit{Ordered: &ordered}); err != nil {
		_ = pc.Close()
		return nil, err
	}
	unordered, zero := false, uint16(0)
	if p.lossy, err = pc.CreateDataChannel("_lossy", &webrtc.DataChannelInit{Ordered: &unordered, MaxRetransmits: &zero}); err != nil {
		_ = pc.Close()
		return nil, err
	}
	s.watchDataChannels(p)
	return p, nil
}

func (p *peer) dataChannelInfos() []*livekit.DataChannelInfo {
	var out []*livekit.DataChannelInfo
	for _, dc := range []*webrtc.DataChannel{p.reliable, p.lossy} {
		if dc == nil || dc.ID() == nil {
			continue
		}
		out = append(out, &livekit.DataChannelInfo{Label: dc.Label(), Id: uint32(*dc.ID()), Target: livekit.SignalTarget_PUBLISHER})
	}
	return out
}

// subscriberPeer answers a server offer on the subscriber side. With a
// canSubscribe=false token the server never sends one; a user-supplied
// token may allow subscribing, and an unanswered offer gets the
// participant kicked after ~15 s (docs/protocol.md, "The subscriber offer").
type subscriberPeer struct {
	pc  *webrtc.PeerConnection
	gen uint64
}

// transport describes the selected ICE pair: "udp/host", "tcp/host",
// "udp/relay", … It tells users (and tests) whether the ICE/TCP or TURN
// fallback is in use.
func (s *Session) transport() string {
	if s.pc == nil || s.pc.pc.SCTP() == nil {
		return ""
	}
	pair, err := s.pc.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local == nil {
		return ""
	}
	return pair.Local.Protocol.String() + "/" + pair.Local.Typ.String()
}

func iceURLs(servers []*livekit.ICEServer) []string {
	var out []string
	for _, is := range servers {
		out = append(out, is.GetUrls()...)
	}
	return out
}
