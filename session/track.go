package session

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	lkrtp "github.com/golivekitsink/golivekitsink/rtp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Track is one published track. WriteFrame is called from a GStreamer
// streaming thread; everything else about the track belongs to the session
// goroutine.
type Track struct {
	spec  TrackSpec
	cid   string
	local *webrtc.TrackLocalStaticRTP
	sess  *Session

	mu         sync.Mutex // serialises WriteFrame (packetizer state)
	packetizer *lkrtp.Packetizer
	closed     bool

	// flowing is set by the session goroutine while the track's sender is
	// negotiated on a connected peer connection. While it is false frames are
	// dropped (live input cannot wait) and a keyframe is asked for as soon
	// as it turns true again.
	flowing atomic.Bool
	sid     atomic.Value // string
	lastKey atomic.Int64 // unix nanos of the last keyframe request sent upstream

	stats trackCounters
}

func newTrack(s *Session, spec TrackSpec) (*Track, error) {
	p, err := lkrtp.NewPacketizer(spec.Codec, 0)
	if err != nil {
		return nil, err
	}
	cid, local, err := newLocalTrack(spec)
	if err != nil {
		return nil, err
	}
	t := &Track{spec: spec, cid: cid, local: local, sess: s, packetizer: p}
	t.sid.Store("")
	return t, nil
}

// newLocalTrack makes a fresh client track id (cid) and the pion track
// carrying it. The TrackLocal ID is the cid: it becomes the msid track id
// the server matches with the AddTrackRequest.
func newLocalTrack(spec TrackSpec) (string, *webrtc.TrackLocalStaticRTP, error) {
	cid := "TR_" + spec.Name + "_" + randomID(6)
	capability := webrtc.RTPCodecCapability{MimeType: spec.Codec.MimeType(), ClockRate: spec.Codec.ClockRate()}
	if spec.Codec == lkrtp.CodecOpus {
		capability.Channels = 2
	}
	local, err := webrtc.NewTrackLocalStaticRTP(capability, cid, "golivekitsink")
	return cid, local, err
}

// renewCID gives a track that was requested but never published a new cid:
// the server queues an AddTrackRequest that repeats a pending cid behind the
// first one (RequestResponse QUEUED) instead of answering it. Called by the
// session goroutine before the transceiver exists.
func (t *Track) renewCID() error {
	cid, local, err := newLocalTrack(t.spec)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.cid, t.local = cid, local
	t.mu.Unlock()
	return nil
}

// Spec returns the track's spec.
func (t *Track) Spec() TrackSpec { return t.spec }

// Name is the track (pad) name.
func (t *Track) Name() string { return t.spec.Name }

// SID is the LiveKit track SID ("" until published; it changes after a full reconnect).
func (t *Track) SID() string { return t.sid.Load().(string) }

// FramesSent and FramesDropped count WriteFrame outcomes.
func (t *Track) FramesSent() uint64    { return t.stats.framesSent.Load() }
func (t *Track) FramesDropped() uint64 { return t.stats.framesDropped.Load() }

// WriteFrame packetizes one encoded frame (Annex-B access unit for H264/H265,
// one frame for VP8/VP9, a temporal unit of OBUs for AV1, one Opus packet)
// and sends it, encrypted first when the spec has an Encryptor (an
// encryption error drops the frame and is returned). It never waits for the
// network: while no transport is up the frame is dropped, and a keyframe is
// requested once media can flow again.
func (t *Track) WriteFrame(frame []byte, pts time.Duration) error {
	if !t.flowing.Load() {
		t.stats.framesDropped.Add(1)
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	var pkts []*rtp.Packet
	if t.spec.Encryptor != nil {
		encrypted, err := t.spec.Encryptor.EncryptFrame(frame, pts)
		if err != nil {
			t.stats.framesDropped.Add(1)
			return err
		}
		pkts = t.packetizer.PacketizeEncrypted(encrypted, frame, pts)
	} else {
		pkts = t.packetizer.Packetize(frame, pts)
	}
	bytes := 0
	for _, pkt := range pkts {
		// Errors are per binding (a peer connection going away); media is
		// best effort and recovery is the state machine's job.
		_ = t.local.WriteRTP(pkt)
		bytes += pkt.Header.MarshalSize() + len(pkt.Payload)
	}
	// Counted once per frame, not per packet: readers only want totals.
	t.stats.packetsSent.Add(uint64(len(pkts)))
	t.stats.bytesSent.Add(uint64(bytes))
	t.stats.framesSent.Add(1)
	return nil
}

// SetMuted tells LiveKit the track is (un)muted, e.g. on EOS of its pad.
// The state holds across recoveries: a republished track starts with it.
func (t *Track) SetMuted(m bool) { t.sess.post(evMute{t: t, muted: m}) }

// SetVideoSize tells LiveKit the video track's new size (caps changed
// mid-stream); later republishing uses it too.
func (t *Track) SetVideoSize(width, height int) {
	t.sess.post(evVideoSize{t: t, width: width, height: height})
}

func (t *Track) close() {
	t.flowing.Store(false)
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
}

// requestKeyframe forwards a keyframe request upstream, at most one per
// keyframeMinSpacing: a subscriber storm of PLIs must not turn into an
// encoder emitting nothing but keyframes.
func (t *Track) requestKeyframe(force bool) {
	if !t.spec.Codec.IsVideo() {
		return
	}
	now := time.Now().UnixNano()
	last := t.lastKey.Load()
	if !force && now-last < int64(keyframeMinSpacing) {
		return
	}
	if !t.lastKey.CompareAndSwap(last, now) {
		return
	}
	t.sess.disp.post(func() { t.sess.h.OnKeyframeRequest(t) })
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
