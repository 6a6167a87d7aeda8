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

// Tracks returns a snapshot of every track subscribed so far, in order.
func (s *Subscriber) Tracks() []RecordedTrack {
	s.mu.Lock()
	tracks := slices.Clone(s.tracks)
	s.mu.Unlock()
	out := make([]RecordedTrack, 0, len(tracks))
	for _, tr := range tracks {
		tr.mu.Lock()
		r := tr.rec
		r.Packets = slices.Clone(tr.rec.Packets)
		tr.mu.Unlock()
		out = append(out, r)
	}
	return out
}

// TracksOf returns the tracks of one kind ("audio", "video"), all publishers.
func (s *Subscriber) TracksOf(kind string) []RecordedTrack {
	var out []RecordedTrack
	for _, r := range s.Tracks() {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

// wait blocks until cond holds or timeout passes.
func (s *Subscriber) wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline.C:
			return cond()
		}
	}
}

// WaitForTracks waits until at least n tracks were subscribed.
func (s *Subscriber) WaitForTracks(n int, timeout time.Duration) ([]RecordedTrack, error) {
	ok := s.wait(timeout, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.tracks) >= n
	})
	tracks := s.Tracks()
	if !ok {
		return tracks, fmt.Errorf("subscriber %s: %d of %d tracks after %v", s.Identity, len(tracks), n, timeout)
	}
	return tracks, nil
}

// WaitForPackets waits until at least n packets of kind arrived (all tracks).
func (s *Subscriber) WaitForPackets(kind string, n int, timeout time.Duration) error {
	count := func() int {
		c := 0
		for _, tr := range s.recorders(kind) {
			tr.mu.Lock()
			c += len(tr.rec.Packets)
			tr.mu.Unlock()
		}
		return c
	}
	if !s.wait(timeout, func() bool { return count() >= n }) {
		return fmt.Errorf("subscriber %s: %d of %d %s packets after %v%s", s.Identity, count(), n, kind, timeout, s.readErrorSummary(kind))
	}
	return nil
}

// readErrorSummary describes the failed reads on kind's tracks, "" if none.
func (s *Subscriber) readErrorSummary(kind string) string {
	n := 0
	var first error
	for _, tr := range s.recorders(kind) {
		tr.mu.Lock()
		n += tr.readErrors
		if first == nil {
			first = tr.firstReadErr
		}
		tr.mu.Unlock()
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d failed reads, the first: %v)", n, first)
}

func (s *Subscriber) recorders(kind string) []*trackRecorder {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*trackRecorder
	for _, tr := range s.tracks {
		if kind == "" || tr.rec.Kind == kind {
			out = append(out, tr)
		}
	}
	return out
}

// arrivals returns the sorted arrival times of kind's packets over all tracks.
func (s *Subscriber) arrivals(kind string) []time.Time {
	var at []time.Time
	for _, tr := range s.recorders(kind) {
		tr.mu.Lock()
		for _, p := range tr.rec.Packets {
			at = append(at, p.At)
		}
		tr.mu.Unlock()
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	return at
}

// FirstPacketAt is the arrival time of the first packet of kind (zero if none).
func (s *Subscriber) FirstPacketAt(kind string) time.Time {
	if at := s.arrivals(kind); len(at) > 0 {
		return at[0]
	}
	return time.Time{}
}

// LastPacketAt is the arrival time of the latest packet of kind (zero if none).
func (s *Subscriber) LastPacketAt(kind string) time.Time {
	if at := s.arrivals(kind); len(at) > 0 {
		return at[len(at)-1]
	}
	return time.Time{}
}

// PacketCount is the number of packets of kind received (all tracks).
func (s *Subscriber) PacketCount(kind string) int { return len(s.arrivals(kind)) }

// MaxGap is the largest interval without a packet of kind within [from, to],
// across all track objects of that kind (so a full reconnect that replaces
// the tracks counts as one gap). The window edges count: if no packet arrives
// between from and to, the gap is to-from. A zero from or to means "the first"
// or "the last packet", without an edge gap.
func (s *Subscriber) MaxGap(kind string, from, to time.Time) time.Duration {
	var pts []time.Time
	if !from.IsZero() {
		pts = append(pts, from)
	}
	for _, a := range s.arrivals(kind) {
		if (from.IsZero() || !a.Before(from)) && (to.IsZero() || !a.After(to)) {
			pts = append(pts, a)
		}
	}
	if !to.IsZero() {
		pts = append(pts, to)
	}
	var max time.Duration
	for i := 1; i < len(pts); i++ {
		if d := pts[i].Sub(pts[i-1]); d > max {
			max = d
		}
	}
	return max
}

// ParticipantSIDs returns the distinct participant SIDs seen for identity, in
// the order first seen.
func (s *Subscriber) ParticipantSIDs(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, e := range s.sids {
		if e.Identity == identity && !slices.Contains(out, e.SID) {
			out = append(out, e.SID)
		}
	}
	for _, tr := range s.tracks {
		if tr.rec.Identity == identity && tr.rec.ParticipantSID != "" && !slices.Contains(out, tr.rec.ParticipantSID) {
			out = append(out, tr.rec.ParticipantSID)
		}
	}
	return out
}

// SIDEvents returns every participant SID observation, in time order.
func (s *Subscriber) SIDEvents() []SIDEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sids)
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

// DistinctTimestamps is the number of distinct RTP timestamps among packets:
// the number of frames (video) or packets (audio) that at least partly arrived.
func DistinctTimestamps(packets []PacketInfo) int {
	seen := make(map[uint64]bool, len(packets))
	for _, p := range packets {
		seen[uint64(p.SSRC)<<32|uint64(p.Timestamp)] = true
	}
	return len(seen)
}
