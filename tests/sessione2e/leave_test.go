package sessione2e

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Every row of the Leave policy, injected by the signalling proxy into a
// session joined to a real server: the session resumes (same participant),
// reconnects (a new one) or ends with an error naming the reason, as the
// table says. One server version: the decision is the client's; the other
// tests cover both versions' side of resumes and reconnects.
func TestLeavePolicyRowsAgainstARealServer(t *testing.T) {
	vs := harness.Versions()
	srv := harness.StartServer(t, harness.ServerOptions{Version: vs[len(vs)-1]})
	rows, err := signallertest.ReadLeavePolicy(filepath.Join("..", "..", "docs", "leave-policy.md"))
	if err != nil || len(rows) < 10 {
		t.Fatalf("docs/leave-policy.md: %d rows, %v", len(rows), err)
	}
	for n, r := range rows {
		t.Run(r.Name(), func(t *testing.T) {
			proxy := harness.NewSigProxy(t, srv.URL())
			ev := newEvents(t)
			_, tr := startPublisher(t, session.Config{URL: proxy.URL(), APIKey: srv.APIKey(), APISecret: srv.Secret(),
				Room: "leave-policy", Identity: "pub-" + string(rune('a'+n)), Logger: testLogger{t}}, ev, rtp.CodecVP8)
			pump(t, tr)
			first, _ := ev.waitState(0, 15*time.Second, isState(session.StateConnected))
			// Steady state first: a resume within ~20 ms of the join can find
			// the server's participant not yet resumable (it answers Leave
			// RECONNECT, and the session rightly rejoins).
			time.Sleep(500 * time.Millisecond)
			from := ev.count()
			leave, err := r.Leave()
			if err != nil {
				t.Fatal(err)
			}
			proxy.InjectLeaveRequest(leave)
			switch r.Outcome {
			case "end (ERROR)":
				err := ev.waitFatal(10 * time.Second)
				var de *session.DisconnectError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), leave.GetReason().String()) {
					t.Fatalf("ended with %v, want a DisconnectError naming %s", err, leave.GetReason())
				}
			case "resume", "full reconnect":
				want := session.StateReconnecting
				if r.Outcome == "resume" {
					want = session.StateResuming
				}
				ev.waitState(from, 5*time.Second, isState(want))
				back, _ := ev.waitState(from, 15*time.Second, isState(session.StateConnected))
				if same := back.ParticipantSID == first.ParticipantSID; same != (r.Outcome == "resume") {
					t.Fatalf("%s: participant %s -> %s", r.Outcome, first.ParticipantSID, back.ParticipantSID)
				}
				if err := ev.fatalErr(); err != nil {
					t.Fatalf("session ended: %v", err)
				}
			default:
				t.Fatalf("unknown outcome %q in the table", r.Outcome)
			}
		})
	}
}
