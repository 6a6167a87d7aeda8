package session

import (
	"crypto/rand"
	"encoding/hex"
	"sync/atomic"
	"time"

	lkrtp "github.com/golivekitsink/golivekitsink/rtp"
	"github.com/pion/webrtc/v4"
)

// Track is one published track. WriteFrame (of the track or of one of its
// layers) is called from GStreamer streaming threads; everything else
// about the track belongs to the session goroutine.
type Track struct {
	spec   TrackSpec
	cid    string
	layers []*Layer // low to high; one layer without simulcast
	sess   *Session
	closed atomic.Bool

	// flowing is set by the session goroutine while the track's sender is
	// negotiated on a connected peer connection. While it is false frames are
	// dropped (live input cannot wait) and a keyframe is asked for as soon
	// as it turns true again.
	flowing atomic.Bool
	// muted drops media while LiveKit shows the track muted.
	muted atomic.Bool
	sid   atomic.Value // string

	stats trackCounters
}

func newTrack(s *Session, spec TrackSpec) (*Track, error) {
	specs, err := normalizeLayers(spec)
	if err != nil {
		return nil, err
	}
	t := &Track{spec: spec, sess: s}
	t.muted.Store(spec.Muted)
	for _, ls := range specs {
		l, err := newLayer(t, ls, len(specs) > 1)
		if err != nil {
			return nil, err
		}
		t.layers = append(t.layers, l)
	}
	if len(spec.Layers) > 0 {
		top := specs[len(specs)-1]
		t.spec.Width, t.spec.Height = top.Width, top.Height
	}
	if err := t.renewCID(); err != nil {
		return nil, err
	}
	t.sid.Store("")
	return t, nil
}

// renewCID makes a fresh client track id (cid) and the pion tracks carrying
// it, one per layer. The TrackLocal ID is the cid: it becomes the msid track
// id the server matches with the AddTrackRequest. A track that was
// requested but never published needs a new cid: the server queues an
// AddTrackRequest that repeats a pending cid behind the first one
// (RequestResponse QUEUED) instead of answering it. Called before the
// transceiver exists.
func (t *Track) renewCID() error {
	return t.setCID("TR_" + t.spec.Name + "_" + randomID(6))
}

func (t *Track) setCID(cid string) error {
	spec := t.spec
	capability := webrtc.RTPCodecCapability{MimeType: spec.Codec.MimeType(), ClockRate: spec.Codec.ClockRate()}
	if spec.Codec == lkrtp.CodecOpus {
		capability.Channels = 2
	}
	locals := make([]*webrtc.TrackLocalStaticRTP, len(t.layers))
	for i, l := range t.layers {
		local, err := webrtc.NewTrackLocalStaticRTP(capability, cid, "golivekitsink", webrtc.WithRTPStreamID(l.rid))
		if err != nil {
			return err
		}
		locals[i] = local
	}
	t.cid = cid
	for i, l := range t.layers {
		l.mu.Lock()
		l.local = locals[i]
		l.mu.Unlock()
	}
	return nil
}

// Spec returns the track's spec.
func (t *Track) Spec() TrackSpec { return t.spec }

// Name is the track (pad) name.
func (t *Track) Name() string { return t.spec.Name }

// SID is the LiveKit track SID ("" until published; it changes after a full reconnect).
func (t *Track) SID() string { return t.sid.Load().(string) }

// FramesSent and FramesDropped count WriteFrame outcomes (of every layer).
func (t *Track) FramesSent() uint64    { return t.stats.framesSent.Load() }
func (t *Track) FramesDropped() uint64 { return t.stats.framesDropped.Load() }

// Simulcast reports whether the track is published as several layers.
func (t *Track) Simulcast() bool { return len(t.layers) > 1 }

// Layers returns the track's layers, low to high quality.
func (t *Track) Layers() []*Layer { return t.layers }

// Layer returns the layer of quality q, or nil. A track without simulcast
// has one layer, HIGH.
func (t *Track) Layer(q Quality) *Layer {
	for _, l := range t.layers {
		if l.spec.Quality == q {
			return l
		}
	}
	return nil
}

// LayerStats returns each layer's counters, low to high.
func (t *Track) LayerStats() []LayerStats {
	out := make([]LayerStats, len(t.layers))
	for i, l := range t.layers {
		out[i] = l.Stats()
	}
	return out
}

// WriteFrame packetizes one encoded frame (Annex-B access unit for H264/H265,
// one frame for VP8/VP9, a temporal unit of OBUs for AV1, one Opus packet)
// and sends it on the track's highest layer (its only one without
// simulcast), encrypted first when the spec has an Encryptor. It never waits for the network: while no transport is up the
// frame is dropped, and a keyframe is requested once media can flow again.
func (t *Track) WriteFrame(frame []byte, pts time.Duration) error {
	return t.layers[len(t.layers)-1].WriteFrame(frame, pts)
}

// SetMuted tells LiveKit the track is (un)muted, e.g. on EOS of its pad.
// While muted, WriteFrame sends nothing; unmuting asks for a keyframe. The
// state holds across recoveries: a republished track starts with it.
func (t *Track) SetMuted(m bool) {
	t.muted.Store(m)
	t.sess.post(evMute{t: t, muted: m})
}

// Muted reports whether the track is muted (by SetMuted or by the server).
func (t *Track) Muted() bool { return t.muted.Load() }

// SetVideoSize tells LiveKit the video track's new size (caps changed
// mid-stream); later republishing uses it too.
func (t *Track) SetVideoSize(width, height int) {
	t.sess.post(evVideoSize{t: t, width: width, height: height})
}

func (t *Track) close() {
	t.flowing.Store(false)
	for _, l := range t.layers {
		l.mu.Lock() // no WriteFrame is sending when close returns
		t.closed.Store(true)
		l.mu.Unlock()
	}
}

// requestKeyframe asks for a keyframe on every layer that is being sent.
func (t *Track) requestKeyframe(force bool) {
	for _, l := range t.layers {
		if l.enabled.Load() {
			l.requestKeyframe(force)
		}
	}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
