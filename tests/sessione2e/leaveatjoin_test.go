package sessione2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// A session closed right after its join leaves the room at once, even
// while the server is still writing the join's aftermath to the socket (a
// subscriber in the room is being offered our track). Each round joins a
// new publisher, closes it as soon as it is connected, and wants the
// server to list nobody within 2 s (a Leave the server never read leaves
// the participant listed until its own timeout, about 20 s).
func TestCloseRightAfterTheJoinLeavesTheRoom(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "leave-at-join"
		harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
		rs := lksdk.NewRoomServiceClient(srv.HTTPURL(), srv.APIKey(), srv.Secret())
		publishers := func() []string {
			res, err := rs.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: room})
			if err != nil {
				t.Fatalf("ListParticipants: %v", err)
			}
			var ids []string
			for _, p := range res.GetParticipants() {
				if strings.HasPrefix(p.GetIdentity(), "pub-") {
					ids = append(ids, p.GetIdentity()+"="+p.GetSid())
				}
			}
			return ids
		}
		const rounds = 60
		for i := range rounds {
			ev := newEvents(t)
			s, tr := startPublisher(t, session.Config{URL: srv.URL(), APIKey: srv.APIKey(), APISecret: srv.Secret(),
				Room: room, Identity: fmt.Sprintf("pub-%d", i), Logger: testLogger{t}}, ev, rtp.CodecVP8)
			pump(t, tr)
			ev.waitState(0, 15*time.Second, isState(session.StateConnected))
			s.Close()
			deadline := time.Now().Add(2 * time.Second)
			for left := publishers(); len(left) > 0; left = publishers() {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: 2 s after Close the server still lists %v", i, left)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})
}
