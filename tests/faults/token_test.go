package faults

import (
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
)

// An auth-token that expires after 2 minutes must not end a 5-minute run
// with resumes and a full reconnect on either side of its expiry: the
// element uses the server's refresh_token for every later (re)connect.
func TestShortLivedTokenSurvivesRecoveries(t *testing.T) {
	if testing.Short() {
		t.Skip("a five-minute run")
	}
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			w := newWorldWithToken(t, v, 2*time.Minute)
			w.waitPublishing()
			start := time.Now()
			steps := []struct {
				at   time.Duration
				name string
				do   func()
			}{
				{40 * time.Second, "socket reset", w.proxy.ResetAll},
				{150 * time.Second, "leave RESUME after expiry", func() {
					w.proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT, nil)
				}},
				{200 * time.Second, "leave RECONNECT after expiry", func() {
					w.proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
				}},
				{270 * time.Second, "socket reset", w.proxy.ResetAll},
			}
			for _, s := range steps {
				time.Sleep(time.Until(start.Add(s.at)))
				n := w.messageCount()
				s.do()
				f := w.connectedAfter(n, 15*time.Second)
				t.Logf("%s at %s: connected again (%s)", s.name, s.at, f["participant-sid"])
			}
			time.Sleep(time.Until(start.Add(5 * time.Minute)))
			if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+30, 10*time.Second); err != nil {
				t.Fatalf("not publishing at the end of the run: %v", err)
			}
			first := ""
			refreshed := false
			for _, c := range w.proxy.Connections() {
				if first == "" {
					first = c.Authorization
				} else if c.Authorization != first && c.Start.After(start.Add(2*time.Minute)) {
					refreshed = true
				}
			}
			if !refreshed {
				t.Errorf("no (re)connect after the token's expiry used a refreshed token")
			}
		})
	}
}

func newWorldWithToken(t *testing.T, version string, ttl time.Duration) *world {
	t.Helper()
	room := "faults-token-" + version
	f := false
	tok, err := auth.NewAccessToken(harness.DevKey, harness.DevSecret).
		SetIdentity(identity).SetValidFor(ttl).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room, CanSubscribe: &f}).ToJWT()
	if err != nil {
		t.Fatal(err)
	}
	return newWorld(t, version, worldOptions{proxy: true, authToken: tok, room: room})
}
