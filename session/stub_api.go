package session

import (
	"errors"
	"time"
)

// Session is one publishing participant. Create with New, then Start.
type Session struct{ cfg Config; h Handler }

// Track is one published track; WriteFrame is safe from any goroutine.
type Track struct{ spec TrackSpec }

var errTODO = errors.New("session: not implemented yet")

// New validates cfg and returns an idle session.
func New(cfg Config, h Handler) (*Session, error) { return &Session{cfg: cfg, h: h}, nil }

// Start connects in the background; progress is reported to the Handler.
func (s *Session) Start() {}

// Close leaves the room (Leave CLIENT_INITIATED) and stops every goroutine.
func (s *Session) Close() {}

// AddTrack publishes a track (now, or as soon as the session is connected).
func (s *Session) AddTrack(spec TrackSpec) (*Track, error) { return &Track{spec: spec}, errTODO }

// RemoveTrack unpublishes a track.
func (s *Session) RemoveTrack(t *Track) {}

// Simulate sends LiveKit's SimulateScenario by name (node-failure, migration,
// server-leave, switch-candidate-tcp, switch-candidate-tls, leave-full-reconnect, ...).
func (s *Session) Simulate(name string) error { return errTODO }

// Spec returns the track's spec.
func (t *Track) Spec() TrackSpec { return t.spec }

// SID is the LiveKit track SID ("" until published).
func (t *Track) SID() string { return "" }

// WriteFrame packetizes one encoded frame (Annex-B access unit for H264/H265,
// one frame for VP8/VP9, a temporal unit of OBUs for AV1, one Opus packet)
// and sends it. It never blocks on the network: while no transport is up the
// frame is dropped and a keyframe is requested once media can flow again.
func (t *Track) WriteFrame(frame []byte, pts time.Duration, keyframe bool) error { return nil }

// SetMuted tells LiveKit the track is (un)muted (e.g. on EOS of its pad).
func (t *Track) SetMuted(m bool) {}
