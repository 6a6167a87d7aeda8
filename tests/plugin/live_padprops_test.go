package plugin

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// Track identity, mute and room-timeout against real livekit-server
// versions, seen by a real subscriber (server-sdk-go): what only a real
// server and client show (track info, mute as LiveKit reports it).

// liveLaunch is a golivekitsink named lk that publishes to wsURL (the
// server, or a SigProxy in front of it) with srv's credentials.
func liveLaunch(srv *harness.Server, wsURL, room, extra string) string {
	return fmt.Sprintf("golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=pub %s", wsURL, srv.APIKey(), srv.Secret(), room, extra)
}

// publication is one track of the publisher as the subscriber's room shows it.
type publication struct {
	participantSID string
	info           *livekit.TrackInfo
	muted          bool
}

// waitPublication waits until the subscriber sees a track of identity pub
// named name for which ok holds, and returns it.
func waitPublication(t *testing.T, sub *harness.Subscriber, name string, timeout time.Duration, what string, ok func(publication) bool) publication {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var seen []string
	for time.Now().Before(deadline) {
		seen = seen[:0]
		for _, rp := range sub.Room().GetRemoteParticipants() {
			if rp.Identity() != "pub" {
				continue
			}
			for _, tp := range rp.TrackPublications() {
				p := publication{participantSID: rp.SID(), info: tp.TrackInfo(), muted: tp.IsMuted()}
				seen = append(seen, fmt.Sprintf("%s/%s source=%s muted=%v", p.participantSID, p.info.GetName(), p.info.GetSource(), p.muted))
				if p.info.GetName() == name && ok(p) {
					return p
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the subscriber saw no track %q %s within %s; it sees %v", name, what, timeout, seen)
	return publication{}
}

// waitState waits for a golivekitsink-connection message with state
// (after line index from).
func waitState(t *testing.T, h *host, from int, state string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range h.linesWith("MSG ", from) {
			if harness.ParseStructure(m)["state"] == state {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s state message:\n%s", state, tail(h.output(), 30))
}

func isMuted(want bool) func(publication) bool {
	return func(p publication) bool { return p.muted == want }
}

// sentAcross is how many packets pad sent during d.
func sentAcross(h *host, pad string, d time.Duration) int64 {
	before := packetsSent(h.stats(), pad)
	time.Sleep(d)
	return packetsSent(h.stats(), pad) - before
}

// msid and source name and mark the tracks in LiveKit's track info. The
// muted pad property, EOS and a new STREAM_START each show on the
// subscriber's side, and the element stops sending while muted. A mute
// survives a Leave RESUME (same participant) and a Leave RECONNECT (a new
// participant publishes the track again, muted).
func TestTrackIdentityAndMuteOnLiveKit(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			srv := harness.StartServer(t, harness.ServerOptions{Version: v})
			proxy := harness.NewSigProxy(t, srv.URL())
			room := "padprops"
			sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, t.TempDir())
			h := startHost(t, liveLaunch(srv, proxy.URL(), room, "video_0::msid=cam video_0::source=screen-share"))
			h.do("branch v video "+h264Branch, "BRANCH v video_0", 10*time.Second)
			h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
			h.setState("PLAYING")
			h.waitConnected(0, 30*time.Second, "cam", "audio_0")

			cam := waitPublication(t, sub, "cam", 10*time.Second, "unmuted", isMuted(false))
			if src := cam.info.GetSource(); src != livekit.TrackSource_SCREEN_SHARE {
				t.Errorf("video track source %s, want SCREEN_SHARE (video_0::source=screen-share)", src)
			}
			mic := waitPublication(t, sub, "audio_0", 10*time.Second, "(the pad name)", isMuted(false))
			if src := mic.info.GetSource(); src != livekit.TrackSource_MICROPHONE {
				t.Errorf("audio track source %s, want MICROPHONE (the default)", src)
			}

			mute := func(m bool) {
				t.Helper()
				if got := h.do(fmt.Sprintf("padset video_0::muted %v", m), "PADSET video_0::muted ", 10*time.Second); got != fmt.Sprintf("got=%v", m) {
					t.Fatalf("video_0::muted reads back %s", got)
				}
			}
			assertSilent := func(when string) {
				t.Helper()
				if n := sentAcross(h, "video_0", time.Second); n != 0 {
					t.Errorf("%s: video_0 sent %d packets in 1 s while muted", when, n)
				}
			}
			assertSending := func(when string) {
				t.Helper()
				if n := sentAcross(h, "video_0", time.Second); n < 10 {
					t.Errorf("%s: video_0 sent %d packets in 1 s, want it sending", when, n)
				}
			}

			mute(true)
			waitPublication(t, sub, "cam", 5*time.Second, "muted by the property", isMuted(true))
			assertSilent("muted")
			mute(false)
			waitPublication(t, sub, "cam", 5*time.Second, "unmuted by the property", isMuted(false))
			assertSending("unmuted")

			// Leave RESUME: the same participant keeps its muted track.
			mute(true)
			waitPublication(t, sub, "cam", 5*time.Second, "muted again", isMuted(true))
			from := h.count()
			proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_SIGNAL_CLOSE, nil)
			waitState(t, h, from, "resuming")
			h.waitConnected(from, 30*time.Second, "cam", "audio_0")
			time.Sleep(time.Second) // what the server tells the subscriber after the resume
			after := waitPublication(t, sub, "cam", time.Second, "still muted after the resume", isMuted(true))
			if after.participantSID != cam.participantSID {
				t.Fatalf("a Leave RESUME changed the participant %s -> %s", cam.participantSID, after.participantSID)
			}
			assertSilent("after the resume")

			// Leave RECONNECT: a new participant publishes the track muted.
			from = h.count()
			proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
			waitState(t, h, from, "reconnecting")
			h.waitConnected(from, 30*time.Second, "cam", "audio_0")
			rejoined := waitPublication(t, sub, "cam", 10*time.Second, "of a new participant", func(p publication) bool {
				return p.participantSID != cam.participantSID
			})
			time.Sleep(time.Second)
			waitPublication(t, sub, "cam", time.Second, "muted after the full reconnect", func(p publication) bool {
				return p.participantSID == rejoined.participantSID && p.muted
			})
			assertSilent("after the full reconnect")
			mute(false)
			waitPublication(t, sub, "cam", 5*time.Second, "unmuted after the full reconnect", func(p publication) bool {
				return p.participantSID == rejoined.participantSID && !p.muted
			})
			assertSending("unmuted after the full reconnect")

			// EOS mutes; the branch starting over (a new STREAM_START) unmutes.
			h.do("eos v", "EOS v", 10*time.Second)
			waitPublication(t, sub, "cam", 5*time.Second, "muted by EOS", isMuted(true))
			assertSilent("after EOS")
			h.do("restart v "+h264Branch, "RESTARTED v", 10*time.Second)
			waitPublication(t, sub, "cam", 5*time.Second, "unmuted by a new STREAM_START", isMuted(false))
			assertSending("after a new STREAM_START")
			beforeSub := sub.PacketCount("video")
			time.Sleep(time.Second)
			if got := sub.PacketCount("video") - beforeSub; got < 10 {
				t.Errorf("the subscriber got %d video packets in 1 s after the new STREAM_START", got)
			}
			if errs := h.errors(); len(errs) > 0 {
				t.Errorf("ERRORs on the bus: %v", errs)
			}
		})
	}
}

const roomTimeoutText = "Room timeout reached with no other participants"

// signaller::room-timeout ends the element with the reference's ERROR
// when no other participant was in the room for that long: at once when
// alone, and only once the last other participant left.
func TestRoomTimeoutOnLiveKit(t *testing.T) {
	const timeout = 1500 * time.Millisecond
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			srv := harness.StartServer(t, harness.ServerOptions{Version: v})
			extra := fmt.Sprintf("signaller::room-timeout=%d", timeout.Milliseconds())

			t.Run("alone", func(t *testing.T) {
				h := startHost(t, liveLaunch(srv, srv.URL(), "alone", extra))
				h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
				h.setState("PLAYING")
				playing := time.Now()
				h.waitConnected(0, 30*time.Second, "audio_0")
				line, ok := h.waitLine("ERROR ", 0, timeout+10*time.Second)
				if !ok || !strings.Contains(line, roomTimeoutText) {
					t.Fatalf("no room-timeout ERROR (got %q)", line)
				}
				took := time.Since(playing)
				if took < timeout { // the join follows PLAYING
					t.Errorf("ERROR %v after PLAYING, before the room timeout %v", took, timeout)
				}
				t.Logf("ERROR %v after PLAYING: %s", took.Round(time.Millisecond), line)
			})

			t.Run("with a subscriber", func(t *testing.T) {
				sub, err := harness.TrySubscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), "watched", t.TempDir(), lksdk.WithAutoSubscribe(true))
				if err != nil {
					t.Fatal(err)
				}
				h := startHost(t, liveLaunch(srv, srv.URL(), "watched", extra))
				h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
				h.setState("PLAYING")
				h.waitConnected(0, 30*time.Second, "audio_0")
				time.Sleep(3 * timeout)
				if errs := h.errors(); len(errs) > 0 {
					t.Fatalf("ERROR while a subscriber was in the room: %v", errs)
				}
				left := time.Now()
				sub.Close()
				line, ok := h.waitLine("ERROR ", 0, timeout+15*time.Second)
				if !ok || !strings.Contains(line, roomTimeoutText) {
					t.Fatalf("no room-timeout ERROR after the subscriber left (got %q)", line)
				}
				took := time.Since(left)
				if took < timeout {
					t.Errorf("ERROR %v after the subscriber left, before the room timeout %v", took, timeout)
				}
				t.Logf("ERROR %v after the subscriber left: %s", took.Round(time.Millisecond), line)
			})
		})
	}
}
