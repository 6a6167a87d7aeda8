package session

import (
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/webrtc/v4"
)

// newAPI builds the pion API shared by every peer connection of a session:
// the codecs LiveKit accepts from a publisher, pion's interceptors for NACK
// responses, RTCP sender reports and transport-wide sequence numbers (so the
// SFU can run its congestion feedback), and ICE settings that let a
// publisher whose UDP is blocked recover over ICE/TCP.
//
// relayOnly builds the API for force_relay peer connections: pion creates
// active ICE/TCP host candidates whatever the ICE transport policy says, so
// they are switched off there, leaving only TURN relay candidates.
//
// hook, when non-nil, adds congestion control (bitrate.go) and receives
// each peer connection's estimator. batch, when non-nil, is what the ICE
// agents' UDP sockets queue a frame's packets in (sendbatch.go).
func newAPI(cfg Config, relayOnly bool, hook *estimatorHook, batch *sendBatcher) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "transport-cc"}}
	videoCodecs := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 96},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f", RTCPFeedback: fb}, PayloadType: 125},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP9, ClockRate: 90000, SDPFmtpLine: "profile-id=0", RTCPFeedback: fb}, PayloadType: 98},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeAV1, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 35},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH265, ClockRate: 90000, RTCPFeedback: fb}, PayloadType: 116},
	}
	for _, c := range videoCodecs {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine: "minptime=10;useinbandfec=1", RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}},
		PayloadType: 111,
	}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}

	// MID and RID header extensions: how the SFU tells simulcast layers apart.
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return nil, err
	}

	reg := &interceptor.Registry{}
	if hook != nil {
		if err := addCongestionControl(cfg, reg, hook); err != nil {
			return nil, err
		}
	}
	// Only the sending halves of pion's NACK and RTCP report interceptors:
	// the element receives no media, and the receiving halves (NACK
	// generator, receiver reports) each run a ticker per peer connection,
	// 10 wake-ups a second for the NACK generator alone, that wake the
	// whole runtime for nothing (tests/bench/README.md, "CPU").
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	m.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	responder, err := nack.NewResponderInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(responder)
	senderReports, err := report.NewSenderInterceptor()
	if err != nil {
		return nil, err
	}
	reg.Add(senderReports)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, err
	}
	if hook != nil {
		reg.Add(attributesFactory{}) // last added, so first to see each packet
	}

	se := webrtc.SettingEngine{}
	if cfg.PionLogs != nil {
		se.LoggerFactory = cfg.PionLogs
	}
	// Active ICE/TCP candidates: without them a publisher whose UDP is
	// blocked never gets its media back (measured; docs/protocol.md, "ICE timeouts and candidates").
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6})
	se.SetICETimeouts(iceDisconnectedTimeout, iceFailedTimeout, iceKeepalive)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.DisableActiveTCP(relayOnly)
	if isLoopbackURL(cfg.URL) {
		se.SetIncludeLoopbackCandidate(true)
	}
	if batch != nil {
		n, err := newBatchNet(cfg.pionNet, batch)
		if err != nil {
			return nil, err
		}
		se.SetNet(n)
	} else if cfg.pionNet != nil {
		se.SetNet(cfg.pionNet)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}
