package session

import (
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// keyWatcher is a watcher that counts keyframe requests.
type keyWatcher struct {
	*watcher
	keyframes int
}

func (w *keyWatcher) OnKeyframeRequest(*Track) { w.update(func() { w.keyframes++ }) }

// mutedWorld connects a session publishing a VP8 track written at 30 fps
// until the test ends, and waits until its media arrives.
func mutedWorld(t *testing.T) (*signallertest.Server, *keyWatcher, *Track, StateChange, *signallertest.Conn) {
	t.Helper()
	srv := newFake(t, signallertest.Options{})
	w := &keyWatcher{watcher: newWatcher()}
	s, err := New(Config{URL: srv.URL(), APIKey: "key", APISecret: "secret-of-the-test", Room: "room", Identity: "pub",
		Logger: newBufferedLogger(t)}, w)
	if err != nil {
		t.Fatal(err)
	}
	s.backoff = fastBackoff
	s.Start()
	t.Cleanup(s.Close)
	tr, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = tr.WriteFrame(make([]byte, 500), time.Duration(i)*time.Second/30)
			}
		}
	}()
	first, _ := w.waitState(t, 0, StateConnected)
	conn := srv.WaitConnects(1, waitLong)[0].Conn
	waitPackets(t, conn, 10, "")
	return srv, w, tr, first, conn
}

// A muted track sends no media and says so to the server; unmuting asks
// for a keyframe; a mute by the server stops the media too.
func TestMuteStopsMedia(t *testing.T) {
	t.Parallel()
	_, w, tr, _, conn := mutedWorld(t)
	tr.SetMuted(true)
	req := conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetMute() != nil }).GetMute()
	if !req.GetMuted() || req.GetSid() != tr.SID() {
		t.Fatalf("mute request %v for track %s", req, tr.SID())
	}
	time.Sleep(50 * time.Millisecond) // packets in flight
	n := conn.MediaPackets("")
	time.Sleep(200 * time.Millisecond)
	if got := conn.MediaPackets(""); got != n || tr.Stats().FramesMuted == 0 {
		t.Fatalf("muted track: %d → %d packets received, %d frames muted", n, got, tr.Stats().FramesMuted)
	}

	w.mu.Lock()
	keys := w.keyframes
	w.mu.Unlock()
	tr.SetMuted(false)
	conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetMute() != nil && !r.GetMute().GetMuted() })
	w.waitFor(t, "keyframe request on unmute", func() bool { return w.keyframes > keys })
	waitPackets(t, conn, n+10, "")

	// The server mutes the track (RoomService MutePublishedTrack).
	if err := conn.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: tr.SID(), Muted: true}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(waitLong)
	for !tr.Muted() {
		if time.Now().After(deadline) {
			t.Fatal("a mute from the server did not mute the track")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A mute holds across a full reconnect (the track is published muted) and
// a mute made while the socket is down reaches the server after the resume.
func TestMuteSurvivesRecoveries(t *testing.T) {
	t.Parallel()
	srv, w, tr, first, conn := mutedWorld(t)
	tr.SetMuted(true)
	from := w.count()
	if err := conn.SendLeave(&livekit.LeaveRequest{Action: livekit.LeaveRequest_RECONNECT}); err != nil {
		t.Fatal(err)
	}
	rejoined := srv.WaitConnects(2, waitLong)[1].Conn
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID == first.ParticipantSID {
		t.Fatal("Leave RECONNECT kept the participant")
	}
	add := rejoined.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetAddTrack() != nil }).GetAddTrack()
	if !add.GetMuted() {
		t.Fatal("a muted track was published again unmuted")
	}

	tr.SetMuted(false)
	rejoined.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetMute() != nil && !r.GetMute().GetMuted() })
	rejoined.Drop()
	tr.SetMuted(true)
	resumed := srv.WaitConnects(3, waitLong)[2]
	if !resumed.Reconnect {
		t.Fatal("a dropped socket did not resume")
	}
	resumed.Conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetMute() != nil && r.GetMute().GetMuted() })
}

// The SFU's PLI right after a forced keyframe request (unmute here, media
// starting alike) is answered: the SFU sends it for a down track bound just
// after that keyframe went by. PLIs among themselves keep their spacing.
func TestPLIRightAfterForcedKeyframe(t *testing.T) {
	t.Parallel()
	_, w, tr, _, conn := mutedWorld(t)
	count := func() int {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.keyframes
	}
	keys := count()
	tr.SetMuted(true)
	tr.SetMuted(false)
	w.waitFor(t, "keyframe request on unmute", func() bool { return w.keyframes > keys })
	keys = count()
	if !conn.RequestKeyframe("") {
		t.Fatal("the fake SFU has no stream to send a PLI for")
	}
	w.waitFor(t, "keyframe request for the PLI right after the unmute", func() bool { return w.keyframes > keys })
	keys = count()
	conn.RequestKeyframe("")
	time.Sleep(keyframeMinSpacing / 2)
	if got := count() - keys; got != 0 {
		t.Fatalf("a second PLI %s after the first made %d keyframe requests, want none (spacing %s)",
			keyframeMinSpacing/2, got, keyframeMinSpacing)
	}
}
