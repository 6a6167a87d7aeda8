package harness

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// PacketInfo is one RTP packet as the subscriber received it.
type PacketInfo struct {
	At          time.Time // arrival time at the subscriber
	Seq         uint16
	Timestamp   uint32
	Marker      bool
	PayloadType uint8
	PayloadSize int
	SSRC        uint32
	Keyframe    bool // the packet starts or carries a keyframe (H264 IDR/SPS, VP8 key frame)
}

// RecordedTrack is one subscribed track object. A publisher that reconnects
// fully publishes new tracks: each becomes its own RecordedTrack.
type RecordedTrack struct {
	Kind           string // "audio" or "video"
	Codec          string // MIME type, e.g. "video/H264"
	Identity       string // publisher identity
	ParticipantSID string // publisher participant SID at subscription time
	TrackSID       string
	SubscribedAt   time.Time
	Packets        []PacketInfo
	Frames         int    // complete frames (samples) written to File
	File           string // .h264 (Annex-B), .ivf (VP8/VP9/AV1) or .ogg (Opus); finalized by Close
}

// SIDEvent records a participant SID seen for an identity.
type SIDEvent struct {
	At       time.Time
	Identity string
	SID      string
	Event    string // "connected", "disconnected", "seen"
}

// Subscriber is a real LiveKit client that subscribes to everything in a room
// and records what arrives.
type Subscriber struct {
	t        testing.TB
	Identity string
	outDir   string
	room     *lksdk.Room

	mu       sync.Mutex
	tracks   []*trackRecorder
	sids     []SIDEvent
	lastSID  map[string]string
	changed  chan struct{} // closed and replaced on every new track or packet batch
	closed   bool
	stopPoll chan struct{}
	wg       sync.WaitGroup
}

type trackRecorder struct {
	mu   sync.Mutex
	rec  RecordedTrack
	sink frameSink
	done bool

	readErrors   int   // reads that failed for another reason than the deadline
	firstReadErr error // the first of them
}

// Subscribe joins room at url as "sub-<random>" with auto-subscribe and
// records every track. Files go to outDir (t.TempDir() when empty). Close is
// registered on t.Cleanup.
func Subscribe(t testing.TB, url, key, secret, room, outDir string) *Subscriber {
	t.Helper()
	s, err := TrySubscribe(t, url, key, secret, room, outDir)
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	return s
}

// TrySubscribe is Subscribe that returns a failed join instead of failing
// the test, for joins that may fail while a cluster recovers. Extra connect
// options (e.g. lksdk.WithConnectTimeout) are passed to the SDK.
func TrySubscribe(t testing.TB, url, key, secret, room, outDir string, opts ...lksdk.ConnectOption) (*Subscriber, error) {
	t.Helper()
	if outDir == "" {
		outDir = t.TempDir()
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	s := &Subscriber{t: t, Identity: "sub-" + hex.EncodeToString(b), outDir: outDir,
		lastSID: map[string]string{}, changed: make(chan struct{}), stopPoll: make(chan struct{})}

	cb := lksdk.NewRoomCallback()
	cb.OnParticipantConnected = func(rp *lksdk.RemoteParticipant) { s.noteSID(rp.Identity(), rp.SID(), "connected") }
	cb.OnParticipantDisconnected = func(rp *lksdk.RemoteParticipant) { s.noteSID(rp.Identity(), rp.SID(), "disconnected") }
	cb.ParticipantCallback.OnTrackSubscribed = s.onTrack
	r, err := lksdk.ConnectToRoom(url, lksdk.ConnectInfo{
		APIKey: key, APISecret: secret, RoomName: room, ParticipantIdentity: s.Identity,
	}, cb, append([]lksdk.ConnectOption{lksdk.WithAutoSubscribe(true)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("subscriber join %s room %q: %w", url, room, err)
	}
	s.room = r
	for _, rp := range r.GetRemoteParticipants() {
		s.noteSID(rp.Identity(), rp.SID(), "seen")
	}
	// The SDK may update a participant's SID in place; poll to catch that.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stopPoll:
				return
			case <-tick.C:
				for _, rp := range r.GetRemoteParticipants() {
					s.noteSID(rp.Identity(), rp.SID(), "seen")
				}
			}
		}
	}()
	t.Cleanup(s.Close)
	return s, nil
}

func (s *Subscriber) noteSID(identity, sid, event string) {
	if sid == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if event == "seen" && s.lastSID[identity] == sid {
		return
	}
	if event == "connected" && s.lastSID[identity] == sid {
		return
	}
	s.lastSID[identity] = sid
	s.sids = append(s.sids, SIDEvent{At: time.Now(), Identity: identity, SID: sid, Event: event})
}

func (s *Subscriber) notify() {
	// caller holds s.mu
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Subscriber) onTrack(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
	s.noteSID(rp.Identity(), rp.SID(), "seen")
	mime := track.Codec().MimeType
	kind := track.Kind().String()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	n := 0
	for _, tr := range s.tracks {
		if tr.rec.Identity == rp.Identity() && tr.rec.Kind == kind {
			n++
		}
	}
	base := filepath.Join(s.outDir, fmt.Sprintf("%s-%s-%d", sanitize(rp.Identity()), kind, n))
	sink, path, err := newFrameSink(base, mime, track.Codec().ClockRate, track.Codec().Channels)
	if err != nil {
		s.t.Logf("harness: subscriber: no file for %s track %s: %v", mime, pub.SID(), err)
	}
	tr := &trackRecorder{sink: sink, rec: RecordedTrack{
		Kind: kind, Codec: mime, Identity: rp.Identity(), ParticipantSID: rp.SID(),
		TrackSID: pub.SID(), SubscribedAt: time.Now(), File: path,
	}}
	s.tracks = append(s.tracks, tr)
	s.notify()
	s.wg.Add(1)
	s.mu.Unlock()
	go s.read(track, tr)
}

func (s *Subscriber) read(track *webrtc.TrackRemote, tr *trackRecorder) {
	defer s.wg.Done()
	lastNotify := time.Now()
	for {
		_ = track.SetReadDeadline(time.Now().Add(time.Second))
		pkt, _, err := track.ReadRTP()
		if err != nil {
			if errors.Is(err, io.EOF) || s.isClosed() {
				return
			}
			if !strings.Contains(err.Error(), "timeout") {
				// One packet pion cannot take (an unknown payload type, a
				// malformed header) must not end the recording: a real
				// subscriber drops it and goes on. Kept as evidence.
				tr.mu.Lock()
				tr.readErrors++
				first := tr.firstReadErr == nil
				if first {
					tr.firstReadErr = err
				}
				tr.mu.Unlock()
				if first {
					s.t.Logf("harness: subscriber %s: reading %s track %s: %v (going on)", s.Identity, tr.rec.Kind, tr.rec.TrackSID, err)
				}
				time.Sleep(time.Millisecond) // no busy loop should the error persist
			}
			continue
		}
		now := time.Now()
		tr.mu.Lock()
		if tr.done {
			tr.mu.Unlock()
			return
		}
		tr.rec.Packets = append(tr.rec.Packets, PacketInfo{At: now, Seq: pkt.SequenceNumber,
			Timestamp: pkt.Timestamp, Marker: pkt.Marker, PayloadType: pkt.PayloadType,
			PayloadSize: len(pkt.Payload), SSRC: pkt.SSRC, Keyframe: isKeyframePacket(tr.rec.Codec, pkt.Payload)})
		if tr.sink != nil {
			tr.rec.Frames += tr.sink.push(pkt)
		}
		tr.mu.Unlock()
		if now.Sub(lastNotify) > 20*time.Millisecond {
			lastNotify = now
			s.mu.Lock()
			s.notify()
			s.mu.Unlock()
		}
	}
}

func (s *Subscriber) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close leaves the room, stops the readers and finalizes the media files.
// Safe to call more than once.
func (s *Subscriber) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.stopPoll)
	s.mu.Unlock()
	if s.room != nil {
		s.room.Disconnect()
	}
	waited := make(chan struct{})
	go func() { s.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		s.t.Logf("harness: subscriber readers did not stop within 5s; finalizing anyway")
	}
	s.mu.Lock()
	tracks := slices.Clone(s.tracks)
	s.mu.Unlock()
	for _, tr := range tracks {
		tr.mu.Lock()
		if !tr.done && tr.sink != nil {
			n, err := tr.sink.close()
			tr.rec.Frames += n
			if err != nil {
				s.t.Logf("harness: finalize %s: %v", tr.rec.File, err)
			}
		}
		tr.done = true
		tr.mu.Unlock()
	}
}

// Room is the underlying SDK room (for tests that need more).
func (s *Subscriber) Room() *lksdk.Room { return s.room }

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == 0 {
			return '_'
		}
		return r
	}, s)
}
