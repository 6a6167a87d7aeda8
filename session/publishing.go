package session

import (
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

func (s *Session) onAddTrack(t *Track) {
	ts := &trackState{t: t, width: t.spec.Width, height: t.spec.Height, muted: t.spec.Muted}
	s.tracks = append(s.tracks, ts)
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
	if spec.Encryptor != nil {
		req.Encryption = livekit.Encryption_GCM
	}
	if spec.Codec.IsVideo() {
		req.Type = livekit.TrackType_VIDEO
		if req.Source == livekit.TrackSource_UNKNOWN {
			req.Source = livekit.TrackSource_CAMERA
		}
		req.Width, req.Height = uint32(ts.width), uint32(ts.height)
		req.Layers = videoLayers(ts)
		sc := &livekit.SimulcastCodec{Codec: spec.Codec.String(), Cid: ts.t.cid}
		if ts.t.Simulcast() {
			// As server-sdk-go's PublishSimulcastTrack: one RID per layer.
			sc.Layers, sc.VideoLayerMode = req.Layers, livekit.VideoLayer_ONE_SPATIAL_LAYER_PER_STREAM
		}
		req.SimulcastCodecs = []*livekit.SimulcastCodec{sc}
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
		sender, err := s.addSender(ts.t)
		if err != nil {
			s.failTrack(ts, err)
			return
		}
		ts.sender = sender
		s.negotiate()
		if s.phase == phaseConnected {
			s.setState(StateConnected, "track "+ts.t.spec.Name+" published")
		}
		return
	}
}

// addSender gives the track a send-only transceiver: the lowest layer's
// pion track makes it, every other layer is one more encoding (RID) of the
// same sender. Each layer gets its own RTCP reader, which ends when the
// sender stops with its peer connection.
func (s *Session) addSender(t *Track) (*webrtc.RTPSender, error) {
	tr, err := s.pc.pc.AddTransceiverFromTrack(t.layers[0].local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return nil, fmt.Errorf("adding the transceiver: %w", err)
	}
	sender := tr.Sender()
	for _, l := range t.layers[1:] {
		if err := sender.AddEncoding(l.local); err != nil {
			_ = s.pc.pc.RemoveTrack(sender)
			return nil, fmt.Errorf("adding the %s layer: %w", l.rid, err)
		}
	}
	for _, l := range t.layers {
		s.spawn(func() { readRTCP(sender, l) })
	}
	return sender, nil
}

// videoLayers is AddTrackRequest.layers: the size now for a track without
// simulcast, each layer's size and bitrate otherwise.
func videoLayers(ts *trackState) []*livekit.VideoLayer {
	if !ts.t.Simulcast() {
		return []*livekit.VideoLayer{{Quality: livekit.VideoQuality_HIGH, Width: uint32(ts.width), Height: uint32(ts.height),
			Bitrate: uint32(ts.t.layers[0].spec.MaxBitrate)}}
	}
	var out []*livekit.VideoLayer
	for _, l := range ts.t.layers {
		out = append(out, &livekit.VideoLayer{Quality: l.spec.Quality, Width: uint32(l.spec.Width), Height: uint32(l.spec.Height),
			Bitrate: uint32(l.spec.MaxBitrate), Rid: l.rid})
	}
	return out
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
		// Unmuted: subscribers need a keyframe to show the picture again.
		if ts.muted && !muted && t.flowing.Load() {
			t.requestKeyframe(true)
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
