package harness

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// RequestQuality asks the SFU for quality q of every subscribed video
// track identity publishes, and reports how many it asked for. Across a
// full reconnect the subscriber may still hold the publisher's old
// participant and track for a moment, so callers that wait for the result
// should ask again (WaitForQuality does).
func (s *Subscriber) RequestQuality(identity string, q livekit.VideoQuality) (int, error) {
	asked := 0
	for _, rp := range s.room.GetRemoteParticipants() {
		if rp.Identity() != identity {
			continue
		}
		for _, pub := range rp.TrackPublications() {
			rpub, ok := pub.(*lksdk.RemoteTrackPublication)
			if !ok || pub.Kind() != lksdk.TrackKindVideo || rpub.TrackRemote() == nil {
				continue
			}
			if err := rpub.SetVideoQuality(q); err != nil {
				return asked, err
			}
			asked++
		}
	}
	return asked, nil
}

// WaitForQuality asks for quality q of identity's video (again every 2 s,
// so that a track subscribed after the first request gets it too) until
// the newest VP8 track the subscriber records has keyframes of w×h.
func (s *Subscriber) WaitForQuality(identity string, q livekit.VideoQuality, w, h int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var askedAt time.Time
	for {
		if time.Since(askedAt) >= 2*time.Second {
			if n, err := s.RequestQuality(identity, q); err != nil {
				return err
			} else if n > 0 {
				askedAt = time.Now()
			}
		}
		gw, gh := s.LastVP8KeySize()
		if gw == w && gh == h {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("subscriber %s: last keyframe of %s's video %dx%d after asking for %s, want %dx%d",
				s.Identity, identity, gw, gh, q, w, h)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// LastVP8KeySize is the size in the last VP8 keyframe of the newest video
// track the subscriber recorded (its IVF file is still being written: a
// torn last frame is ignored), or 0×0.
func (s *Subscriber) LastVP8KeySize() (int, int) {
	tracks := s.TracksOf("video")
	if len(tracks) == 0 {
		return 0, 0
	}
	b, err := os.ReadFile(tracks[len(tracks)-1].File)
	if err != nil || len(b) < 32 {
		return 0, 0
	}
	w, h := 0, 0
	for off := 32; off+12 <= len(b); { // IVF: 32-byte file header, 12-byte frame headers
		n := int(binary.LittleEndian.Uint32(b[off:]))
		fr := b[off+12 : min(off+12+n, len(b))]
		if len(fr) == n && VP8Keyframe(fr) {
			w, h = VP8KeySize(fr)
		}
		off += 12 + n
	}
	return w, h
}

// VP8Keyframe tells whether a VP8 frame is a key frame (RFC 6386 frame tag).
func VP8Keyframe(fr []byte) bool { return len(fr) >= 10 && fr[0]&1 == 0 }

// VP8KeySize is the size a VP8 key frame's header gives.
func VP8KeySize(fr []byte) (int, int) {
	return int(binary.LittleEndian.Uint16(fr[6:]) & 0x3fff), int(binary.LittleEndian.Uint16(fr[8:]) & 0x3fff)
}

// MustRequestQuality is RequestQuality once the subscriber has a video
// track of identity (within 10 s), failing t otherwise.
func (s *Subscriber) MustRequestQuality(t testing.TB, identity string, q livekit.VideoQuality) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n, err := s.RequestQuality(identity, q)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatalf("subscriber %s has no subscribed video track of %s", s.Identity, identity)
}

// MustSeeQuality is WaitForQuality, failing t when it times out.
func (s *Subscriber) MustSeeQuality(t testing.TB, identity string, q livekit.VideoQuality, w, h int, timeout time.Duration) {
	t.Helper()
	if err := s.WaitForQuality(identity, q, w, h, timeout); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s decodes %dx%d keyframes", s.Identity, w, h)
}
