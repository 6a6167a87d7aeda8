package session

import (
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/signalling"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
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
		s.onRequestResponse(msg.RequestResponse)
	case *livekit.SignalResponse_Mute:
		for _, ts := range s.tracks {
			if ts.info != nil && ts.info.Sid == msg.Mute.GetSid() {
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
		// update, room_update, speakers_changed, … : nothing to do for a publisher.
	}
}

func (s *Session) pcStateName() string {
	if s.pc == nil {
		return "none"
	}
	return s.pc.pc.ConnectionState().String()
}

// onLeave applies the Leave policy (leave_policy.go) to a Leave that arrives
// on a working socket.
func (s *Session) onLeave(l *livekit.LeaveRequest) {
	outcome, why := leavePolicy(l)
	desc := fmt.Sprintf("leave %s %s", l.GetAction(), l.GetReason())
	s.log.Infof("server sent %s (regions: %d): %s, because %s", desc, len(l.GetRegions().GetRegions()), outcome, why)
	if l.GetRegions() != nil {
		s.leaveRegion = l.GetRegions()
	}
	switch outcome {
	case leaveEnd:
		s.fatal(&DisconnectError{Reason: l.GetReason()})
	case leaveResume:
		mode := modeResume
		if !s.canResume() {
			mode = modeFull
		}
		s.beginRecovery(mode, livekit.ReconnectReason_RR_UNKNOWN, desc, true)
	default:
		s.beginRecovery(modeFull, livekit.ReconnectReason_RR_UNKNOWN, desc, true)
	}
}

func (s *Session) onAddTrack(e evAddTrack) {
	ts := &trackState{t: e.t, width: e.t.spec.Width, height: e.t.spec.Height}
	s.tracks = append(s.tracks, ts)
	e.reply <- nil
	if s.pc != nil && s.conn != nil && (s.phase == phaseNegotiating || s.phase == phaseConnected) {
		s.publishTrack(ts)
	}
}

// publishTrack sends the AddTrackRequest; the transceiver follows once the
// server has accepted the track (TrackPublished), then we offer.
func (s *Session) publishTrack(ts *trackState) {
	spec := ts.t.spec
	if !s.codecEnabled(spec) {
		s.failTrack(ts, fmt.Errorf("the server does not accept %s for publishing (enabled_publish_codecs: %s)", spec.Codec, s.enabledCodecs()))
		return
	}
	// Muted: a track whose pad saw EOS stays muted when it is published
	// again (full reconnect).
	req := &livekit.AddTrackRequest{Cid: ts.t.cid, Name: spec.Name, Source: spec.Source, Muted: ts.muted}
	if spec.Codec.IsVideo() {
		req.Type = livekit.TrackType_VIDEO
		if req.Source == livekit.TrackSource_UNKNOWN {
			req.Source = livekit.TrackSource_CAMERA
		}
		req.Width, req.Height = uint32(ts.width), uint32(ts.height)
		req.Layers = []*livekit.VideoLayer{{Quality: livekit.VideoQuality_HIGH, Width: req.Width, Height: req.Height}}
		req.SimulcastCodecs = []*livekit.SimulcastCodec{{Codec: spec.Codec.String(), Cid: ts.t.cid}}
	} else {
		req.Type = livekit.TrackType_AUDIO
		if req.Source == livekit.TrackSource_UNKNOWN {
			req.Source = livekit.TrackSource_MICROPHONE
		}
		if spec.Channels == 2 {
			req.Stereo = true
			req.AudioFeatures = append(req.AudioFeatures, livekit.AudioTrackFeature_TF_STEREO)
		}
	}
	if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: req}}); err != nil {
		return // the recovery that follows publishes it again
	}
	ts.requested = true
	ts.deadline = time.Now().Add(s.cfg.PublishTimeout)
}

func (s *Session) codecEnabled(spec TrackSpec) bool {
	codecs := s.join.GetEnabledPublishCodecs()
	if len(codecs) == 0 {
		return true
	}
	for _, c := range codecs {
		if equalFold(c.GetMime(), spec.Codec.MimeType()) {
			return true
		}
	}
	return false
}

func (s *Session) enabledCodecs() string {
	out := ""
	for i, c := range s.join.GetEnabledPublishCodecs() {
		if i > 0 {
			out += ", "
		}
		out += c.GetMime()
	}
	return out
}

func (s *Session) onTrackPublished(r *livekit.TrackPublishedResponse) {
	if r.GetTrack() == nil {
		// Without its TrackInfo the track would get a transceiver (and one
		// more for each repetition) while it still counts as unpublished.
		s.log.Warnf("server sent TrackPublished for %s without track info: ignored", r.GetCid())
		return
	}
	for _, ts := range s.tracks {
		if ts.t.cid != r.GetCid() || ts.info != nil || ts.failed {
			continue
		}
		ts.info = r.GetTrack()
		ts.t.sid.Store(ts.info.GetSid())
		s.log.Infof("track %s published as %s", ts.t.spec.Name, ts.info.GetSid())
		s.syncTrackInfo(ts) // mute or size changed while the request was pending
		if s.pc == nil {
			return
		}
		tr, err := s.pc.pc.AddTransceiverFromTrack(ts.t.local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			s.failTrack(ts, fmt.Errorf("adding the transceiver: %w", err))
			return
		}
		ts.sender = tr.Sender()
		sender, t := ts.sender, ts.t
		s.spawn(func() { readRTCP(sender, t) }) // ends when the sender stops with its peer connection
		s.negotiate()
		if s.phase == phaseConnected {
			s.setState(StateConnected, "track "+ts.t.spec.Name+" published")
		}
		return
	}
}

// readRTCP turns the SFU's keyframe requests (PLI, FIR) into upstream
// requests and keeps the track's feedback counters.
func readRTCP(sender *webrtc.RTPSender, t *Track) {
	var ssrc uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		ssrc = uint32(enc[0].SSRC)
	}
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				t.stats.plis.Add(1)
				t.requestKeyframe(false)
			case *rtcp.FullIntraRequest:
				t.stats.firs.Add(1)
				t.requestKeyframe(false)
			case *rtcp.TransportLayerNack:
				t.stats.nacks.Add(1)
			case *rtcp.ReceiverReport:
				t.stats.onReceiverReport(p, ssrc, time.Now())
			}
		}
	}
}

func (s *Session) onRequestResponse(r *livekit.RequestResponse) {
	switch r.GetReason() {
	case livekit.RequestResponse_OK:
		return
	case livekit.RequestResponse_QUEUED:
		// Not a refusal: the server answers with TrackPublished later.
		s.log.Debugf("server queued request %d: %s", r.GetRequestId(), r.GetMessage())
		return
	}
	if at := r.GetAddTrack(); at != nil {
		for _, ts := range s.tracks {
			if ts.t.cid == at.GetCid() && ts.info == nil {
				s.failTrack(ts, fmt.Errorf("the server refused the track: %s %s", r.GetReason(), r.GetMessage()))
				s.negotiate()
			}
		}
		return
	}
	s.log.Warnf("server refused request %d: %s %s", r.GetRequestId(), r.GetReason(), r.GetMessage())
}

func (s *Session) failTrack(ts *trackState, err error) {
	ts.failed = true
	t := ts.t
	s.log.Warnf("track %s: %v", t.spec.Name, err)
	s.disp.post(func() { s.h.OnTrackError(t, err) })
}

func (s *Session) onRemoveTrack(t *Track) {
	for i, ts := range s.tracks {
		if ts.t != t {
			continue
		}
		s.tracks = append(s.tracks[:i], s.tracks[i+1:]...)
		if ts.sender != nil && s.pc != nil {
			_ = s.pc.pc.RemoveTrack(ts.sender)
			s.negotiate()
		}
		return
	}
}

func (s *Session) onMute(t *Track, muted bool) {
	for _, ts := range s.tracks {
		if ts.t != t {
			continue
		}
		if ts.muted != muted {
			s.log.Infof("track %s: muted=%v", t.spec.Name, muted)
		}
		ts.muted = muted
		if ts.info != nil {
			s.sendMute(ts)
		}
	}
}

func (s *Session) onVideoSize(t *Track, width, height int) {
	for _, ts := range s.tracks {
		if ts.t != t || !t.spec.Codec.IsVideo() || (ts.width == width && ts.height == height) {
			continue
		}
		s.log.Infof("track %s: video size now %dx%d", t.spec.Name, width, height)
		ts.width, ts.height = width, height
		if ts.info != nil {
			s.sendVideoSize(ts)
		}
	}
}

// syncTrackInfo tells the server what changed about a published track since
// the server's TrackInfo was made (TrackPublished), which is what the server
// still has after a resume: a mute (EOS) or a new video size that happened
// while the track was pending or the signalling was down. Both requests are
// no-ops on the server when nothing changed.
func (s *Session) syncTrackInfo(ts *trackState) {
	if ts.info == nil || ts.failed {
		return
	}
	if ts.muted != ts.info.GetMuted() {
		s.sendMute(ts)
	}
	if ts.t.spec.Codec.IsVideo() && (uint32(ts.width) != ts.info.GetWidth() || uint32(ts.height) != ts.info.GetHeight()) {
		s.sendVideoSize(ts)
	}
}

// sendMute and sendVideoSize fail quietly without signalling: a resume
// repeats them (syncTrackInfo), a full reconnect publishes with the state.
func (s *Session) sendMute(ts *trackState) {
	_ = s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: ts.info.Sid, Muted: ts.muted}}})
}

func (s *Session) sendVideoSize(ts *trackState) {
	_ = s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateVideoTrack{UpdateVideoTrack: &livekit.UpdateLocalVideoTrack{
		TrackSid: ts.info.Sid, Width: uint32(ts.width), Height: uint32(ts.height)}}})
}

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
	if p.pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		_ = p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	}
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.restart})
	if err == nil {
		err = p.pc.SetLocalDescription(offer)
	}
	if err != nil {
		s.log.Errorf("creating the offer: %v", err)
		s.attemptFailed(fmt.Errorf("creating the offer: %w", err), true)
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
		s.attemptFailed(fmt.Errorf("applying the answer: %w", err), true)
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
	} else if s.phase == phaseNegotiating && p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		s.onConnected()
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
		if s.phase == phaseNegotiating && !s.pc.offering && !s.pc.restarting {
			s.onConnected()
		}
	case webrtc.PeerConnectionStateFailed:
		switch s.phase {
		case phaseConnected:
			s.beginRecovery(modeResume, livekit.ReconnectReason_RR_PUBLISHER_FAILED, "publisher peer connection failed", true)
		case phaseNegotiating:
			s.attemptFailed(fmt.Errorf("publisher peer connection failed"), true)
		}
	}
}

// updateFlowing lets each track send while its sender is negotiated on a
// connected peer connection, and asks for a keyframe when it starts again.
func (s *Session) updateFlowing() {
	up := s.pc != nil && s.pc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	for _, ts := range s.tracks {
		on := up && ts.negotiated && ts.sender != nil
		if was := ts.t.flowing.Swap(on); on && !was {
			ts.t.requestKeyframe(true)
		}
	}
}

func toProtoSD(sd webrtc.SessionDescription, id uint32) *livekit.SessionDescription {
	return signalling.ToProtoSessionDescription(sd, id, nil)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// onSimulate sends a SimulateScenario and plays the client side of those
// scenarios the server leaves to the client.
func (s *Session) onSimulate(e evSimulate) {
	var err error
	if e.s.GetScenario() != nil {
		err = s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Simulate{Simulate: e.s}})
	}
	e.reply <- err
	if err != nil || s.phase != phaseConnected {
		return
	}
	switch e.s.GetScenario().(type) {
	case nil:
		s.beginRecovery(modeResume, livekit.ReconnectReason_RR_UNKNOWN, "simulated resume", true)
	case *livekit.SimulateScenario_LeaveRequestFullReconnect:
		s.beginRecovery(modeFull, livekit.ReconnectReason_RR_UNKNOWN, "simulated full reconnect", true)
	case *livekit.SimulateScenario_SwitchCandidateProtocol:
		// The new candidate preference applies to the next join; newer
		// servers store it asynchronously, so give them a moment.
		s.beginRecovery(modeFull, livekit.ReconnectReason_RR_UNKNOWN, "simulated full reconnect", true)
		s.retryAt = time.Now().Add(switchCandidateSettle)
	}
}
