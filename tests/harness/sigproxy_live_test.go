package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// The proxy in front of a real livekit-server, with server-sdk-go as the
// client: an injected Leave{RESUME} must produce a resume that reaches the
// server with reconnect=1 and the same sid and is accepted (first frame
// "reconnect"); a socket reset must bring the client back; Leave{RECONNECT}
// must produce a fresh join. Skips (fails under CI) when the pinned server
// binaries are not built.
func TestSigProxyLiveServer(t *testing.T) {
	for _, v := range Versions() {
		t.Run(v, func(t *testing.T) {
			s := StartServer(t, ServerOptions{Version: v})
			p := NewSigProxy(t, s.URL())
			t0 := time.Now()
			t.Cleanup(func() { logConns(t, p, t0) })

			// Every fault waits until the SDK has finished recovering from
			// the previous one: server-sdk-go ignores a signal loss while it
			// is resuming, which would make the next step test nothing.
			settled := make(chan struct{}, 8)
			cb := lksdk.NewRoomCallback()
			cb.OnReconnected = func() { settled <- struct{}{} }
			waitSettled := func(what string) {
				t.Helper()
				select {
				case <-settled:
				case <-time.After(20 * time.Second):
					t.Fatalf("SDK did not reconnect after %s", what)
				}
			}
			r, err := lksdk.ConnectToRoom(p.URL(), lksdk.ConnectInfo{APIKey: s.APIKey(), APISecret: s.Secret(),
				RoomName: "sigproxy", ParticipantIdentity: "sdk"}, cb, lksdk.WithAutoSubscribe(false))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(r.Disconnect)
			// livekit-server keeps a participant for resume only once its
			// transport has connected (HandleSignalSourceClose closes it
			// otherwise), so a leave injected right after join would only
			// ever test a full reconnect.
			rs := lksdk.NewRoomServiceClient(s.HTTPURL(), s.APIKey(), s.Secret())
			waitFor(t, "participant ACTIVE", func() bool {
				res, err := rs.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: "sigproxy"})
				return err == nil && len(res.Participants) == 1 && res.Participants[0].State == livekit.ParticipantInfo_ACTIVE
			})

			// conn waits for a connection after the first n that matches.
			conn := func(n int, what string, ok func(ConnInfo) bool) int {
				t.Helper()
				id := 0
				waitForD(t, 20*time.Second, what, func() bool {
					for _, c := range p.Connections()[n:] {
						if ok(c) {
							id = c.ID
							return true
						}
					}
					return false
				})
				return id
			}
			sid := r.LocalParticipant.SID()
			p.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT, nil)
			n := conn(1, "resume accepted after Leave{RESUME}", func(c ConnInfo) bool {
				return c.Reconnect && c.SID == sid && c.FirstServerKind == "reconnect"
			})
			waitSettled("Leave{RESUME}")

			// server-sdk-go sometimes fails its own resume (pion signalling
			// state) and falls back to a full reconnect; either way the reset
			// must make it come back through the proxy. The exact reset
			// semantics are covered by TestSigProxyResetAll.
			n = len(p.Connections())
			p.ResetAll()
			n = conn(n, "reconnect after a socket reset", func(c ConnInfo) bool { return c.FirstServerKind != "" })
			waitSettled("socket reset")

			p.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
			conn(n, "full reconnect after Leave{RECONNECT}", func(c ConnInfo) bool { return !c.Reconnect && c.FirstServerKind == "join" })

			kinds := map[string]int{}
			for _, f := range p.Frames() {
				kinds[fmt.Sprintf("%v %s", f.Dir, f.Kind)]++
			}
			t.Logf("frame kinds: %v", kinds)
		})
	}
}

func logConns(t *testing.T, p *SigProxy, t0 time.Time) {
	for _, c := range p.Connections() {
		t.Logf("conn %d at +%v reconnect=%v sid=%s reason=%q first=%s end=%s/%d", c.ID, c.Start.Sub(t0).Round(time.Millisecond),
			c.Reconnect, c.SID, c.ReconnectReason, c.FirstServerKind, c.EndReason, c.CloseCode)
	}
}
