// Package sessione2e drives the session package (no GStreamer) against real
// livekit-server versions, with a real subscriber, through LiveKit's own
// failure scenarios.
package sessione2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

type world struct {
	srv  *harness.Server
	sub  *harness.Subscriber
	s    *session.Session
	ev   *events
	tr   *session.Track
	room string
	id   string
}

// publish starts a server, a subscriber and a session publishing VP8.
func publish(t *testing.T, version string, cfg func(*session.Config)) *world {
	t.Helper()
	w := &world{room: "room-" + strings.ReplaceAll(t.Name(), "/", "-"), id: "pub"}
	w.srv = harness.StartServer(t, harness.ServerOptions{Version: version})
	w.sub = harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
	c := session.Config{URL: w.srv.URL(), APIKey: w.srv.APIKey(), APISecret: w.srv.Secret(),
		Room: w.room, Identity: w.id, Name: "publisher", Logger: testLogger{t}}
	if cfg != nil {
		cfg(&c)
	}
	w.ev = newEvents(t)
	w.s, w.tr = startPublisher(t, c, w.ev, rtp.CodecVP8)
	pump(t, w.tr)
	return w
}

// startPublisher starts a session with cfg and h and adds one 320x240
// video track of codec; the session closes with the test.
func startPublisher(t *testing.T, cfg session.Config, h session.Handler, codec rtp.Codec) (*session.Session, *session.Track) {
	t.Helper()
	s, err := session.New(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Close)
	tr, err := s.AddTrack(session.TrackSpec{Name: "video_0", Codec: codec, Width: 320, Height: 240})
	if err != nil {
		t.Fatal(err)
	}
	return s, tr
}

func (w *world) waitMedia(t *testing.T) {
	t.Helper()
	w.ev.waitState(0, 15*time.Second, isState(session.StateConnected))
	if err := w.sub.WaitForPackets("video", 60, 15*time.Second); err != nil {
		// Sent and dropped tell a publisher that stopped sending from media
		// lost on the way to the subscriber.
		t.Fatalf("subscriber: %v (publisher: %d frames sent, %d dropped)", err, w.tr.FramesSent(), w.tr.FramesDropped())
	}
}

// mediaBackWithin waits until video packets arrive again after at and
// returns the largest gap seen from at until then + 1 s.
func (w *world) gapAfter(t *testing.T, at time.Time, settle time.Duration) time.Duration {
	t.Helper()
	time.Sleep(settle)
	return w.sub.MaxGap("video", at, time.Now())
}

func forEachVersion(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

func TestResumeKeepsParticipantAndMedia(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, nil)
		w.waitMedia(t)
		first, _ := w.ev.waitState(0, time.Second, isState(session.StateConnected))
		n := w.ev.count()
		at := time.Now()
		if err := w.s.Simulate("resume"); err != nil {
			t.Fatal(err)
		}
		w.ev.waitState(n, 5*time.Second, isState(session.StateResuming))
		back, _ := w.ev.waitState(n, 10*time.Second, isState(session.StateConnected))
		if back.ParticipantSID != first.ParticipantSID {
			t.Fatalf("resume changed the participant SID: %s -> %s", first.ParticipantSID, back.ParticipantSID)
		}
		gap := w.gapAfter(t, at, 3*time.Second)
		t.Logf("media gap across resume: %s", gap)
		if gap > time.Second {
			t.Fatalf("media gap %s across a resume, want <= 1s", gap)
		}
	})
}

func TestNodeFailureEndsInFullReconnect(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, nil)
		w.waitMedia(t)
		first, _ := w.ev.waitState(0, time.Second, isState(session.StateConnected))
		n := w.ev.count()
		at := time.Now()
		if err := w.s.Simulate("node-failure"); err != nil {
			t.Fatal(err)
		}
		back, _ := w.ev.waitState(n, 15*time.Second, isState(session.StateConnected))
		if back.ParticipantSID == first.ParticipantSID {
			t.Fatalf("node failure kept participant %s; the server forgets it, a new join must follow", first.ParticipantSID)
		}
		if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+60, 10*time.Second); err != nil {
			t.Fatalf("media did not come back after the full reconnect: %v", err)
		}
		t.Logf("recovered %s after node failure: %s -> %s", time.Since(at).Round(time.Millisecond), first.ParticipantSID, back.ParticipantSID)
	})
}

// The server-leave scenario is what a node's forced stop sends:
// Leave{DISCONNECT, SERVER_SHUTDOWN}. A server going away is not the room
// ending: the session rejoins as a new participant and media flows again.
func TestServerLeaveRejoins(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, nil)
		w.waitMedia(t)
		first, _ := w.ev.waitState(0, time.Second, isState(session.StateConnected))
		n := w.ev.count()
		at := time.Now()
		if err := w.s.Simulate("server-leave"); err != nil {
			t.Fatal(err)
		}
		back, _ := w.ev.waitState(n, 15*time.Second, isState(session.StateConnected))
		if err := w.ev.fatalErr(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
		if back.ParticipantSID == first.ParticipantSID {
			t.Fatalf("server leave kept participant %s; a new join must follow", first.ParticipantSID)
		}
		if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+60, 10*time.Second); err != nil {
			t.Fatalf("media did not come back after the rejoin: %v", err)
		}
		t.Logf("rejoined %s after server leave (%s)", time.Since(at).Round(time.Millisecond), back.Reason)
	})
}

func TestRemovedParticipantGetsTheReason(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, nil)
		w.waitMedia(t)
		rs := lksdk.NewRoomServiceClient(w.srv.HTTPURL(), w.srv.APIKey(), w.srv.Secret())
		if _, err := rs.RemoveParticipant(context.Background(), &livekit.RoomParticipantIdentity{Room: w.room, Identity: w.id}); err != nil {
			t.Fatal(err)
		}
		err := w.ev.waitFatal(10 * time.Second)
		if !strings.Contains(err.Error(), "PARTICIPANT_REMOVED") {
			t.Fatalf("fatal %q, want it to name PARTICIPANT_REMOVED", err)
		}
	})
}

func TestWrongSecretNamesCredentialsNotTheSecret(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		ev := newEvents(t)
		const secret = "not-the-right-secret-0123456789abcdef"
		s, err := session.New(session.Config{URL: srv.URL(), APIKey: srv.APIKey(), APISecret: secret,
			Room: "r", Identity: "pub", Logger: testLogger{t}}, ev)
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(s.Close)
		err = ev.waitFatal(15 * time.Second)
		var ae *session.AuthError
		if !errors.As(err, &ae) || ae.Status != 401 {
			t.Fatalf("fatal %v, want an AuthError with status 401", err)
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "secret-key") {
			t.Fatalf("message %q must name signaller::secret-key and never show the secret", err)
		}
	})
}

func TestServerKilledAndBack(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publish(t, v, nil)
		w.waitMedia(t)
		n := w.ev.count()
		w.srv.Kill()
		w.ev.waitState(n, 5*time.Second, func(sc session.StateChange) bool {
			return sc.State == session.StateResuming || sc.State == session.StateReconnecting
		})
		time.Sleep(2 * time.Second)
		w.srv.Restart()
		backAt := time.Now()
		sc, _ := w.ev.waitState(n, 15*time.Second, isState(session.StateConnected))
		took := time.Since(backAt)
		t.Logf("publishing again %s after the server was back (%s)", took.Round(time.Millisecond), sc.Reason)
		if took > 5*time.Second {
			t.Fatalf("took %s after the server came back, want <= 5s", took)
		}
		// A fresh subscriber (the old one died with the server) sees our media.
		sub := harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
		if err := sub.WaitForPackets("video", 30, 10*time.Second); err != nil {
			t.Fatalf("no media after the restart: %v", err)
		}
	})
}
