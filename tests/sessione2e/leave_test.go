package sessione2e

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
)

// policyRow is one line of the table in docs/leave-policy.md.
type policyRow struct{ action, reason, outcome string }

// readLeavePolicy parses the generated table of docs/leave-policy.md (the
// session's unit tests keep it equal to the code), so that this test drives
// the table the user reads.
func readLeavePolicy(t *testing.T) []policyRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "leave-policy.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "<!-- leave-policy:begin -->")
	j := strings.Index(doc, "<!-- leave-policy:end -->")
	if i < 0 || j < i {
		t.Fatal("docs/leave-policy.md has no generated table")
	}
	var rows []policyRow
	for _, line := range strings.Split(doc[i:j], "\n")[3:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 3 {
			continue
		}
		rows = append(rows, policyRow{cells[0], cells[1], cells[2]})
	}
	if len(rows) < 10 {
		t.Fatalf("only %d rows in docs/leave-policy.md", len(rows))
	}
	return rows
}

// leaveFor builds the LeaveRequest a row stands for.
func leaveFor(t *testing.T, r policyRow) *livekit.LeaveRequest {
	l := &livekit.LeaveRequest{}
	switch {
	case strings.Contains(r.action, "canReconnect"):
		l.CanReconnect = true // an old server: no action
	default:
		a, ok := livekit.LeaveRequest_Action_value[r.action]
		if !ok {
			t.Fatalf("unknown action %q in the table", r.action)
		}
		l.Action = livekit.LeaveRequest_Action(a)
	}
	switch r.reason {
	case "any":
		// The action alone decides, even with a reason that alone would end.
		l.Reason = livekit.DisconnectReason_PARTICIPANT_REMOVED
	case "any other":
		l.Reason = livekit.DisconnectReason(1000) // newer than this build
	default:
		v, ok := livekit.DisconnectReason_value[r.reason]
		if !ok {
			t.Fatalf("unknown reason %q in the table", r.reason)
		}
		l.Reason = livekit.DisconnectReason(v)
	}
	return l
}

// Every row of the Leave policy, injected by the signalling proxy into a
// session joined to a real server: the session resumes (same participant),
// reconnects (a new one) or ends with an error naming the reason, as the
// table says. One server version: the decision is the client's; the other
// tests cover both versions' side of resumes and reconnects.
func TestLeavePolicyRowsAgainstARealServer(t *testing.T) {
	vs := harness.Versions()
	srv := harness.StartServer(t, harness.ServerOptions{Version: vs[len(vs)-1]})
	for n, r := range readLeavePolicy(t) {
		t.Run(strings.ReplaceAll(r.action+"_"+r.reason, " ", "_"), func(t *testing.T) {
			proxy := harness.NewSigProxy(t, srv.URL())
			ev := newEvents(t)
			s, err := session.New(session.Config{URL: proxy.URL(), APIKey: srv.APIKey(), APISecret: srv.Secret(),
				Room: "leave-policy", Identity: "pub-" + string(rune('a'+n)), Logger: testLogger{t}}, ev)
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			t.Cleanup(s.Close)
			tr, err := s.AddTrack(session.TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Width: 320, Height: 240})
			if err != nil {
				t.Fatal(err)
			}
			pump(t, tr)
			first, _ := ev.waitState(0, 15*time.Second, isState(session.StateConnected))
			// Steady state first: a resume within ~20 ms of the join can find
			// the server's participant not yet resumable (it answers Leave
			// RECONNECT, and the session rightly rejoins).
			time.Sleep(500 * time.Millisecond)
			from := ev.count()
			leave := leaveFor(t, r)
			proxy.InjectLeaveRequest(leave)
			switch r.outcome {
			case "end (ERROR)":
				err := ev.waitFatal(10 * time.Second)
				var de *session.DisconnectError
				if !errors.As(err, &de) || !strings.Contains(err.Error(), leave.GetReason().String()) {
					t.Fatalf("ended with %v, want a DisconnectError naming %s", err, leave.GetReason())
				}
			case "resume", "full reconnect":
				want := session.StateReconnecting
				if r.outcome == "resume" {
					want = session.StateResuming
				}
				ev.waitState(from, 5*time.Second, isState(want))
				back, _ := ev.waitState(from, 15*time.Second, isState(session.StateConnected))
				if same := back.ParticipantSID == first.ParticipantSID; same != (r.outcome == "resume") {
					t.Fatalf("%s: participant %s -> %s", r.outcome, first.ParticipantSID, back.ParticipantSID)
				}
				if err := ev.fatalErr(); err != nil {
					t.Fatalf("session ended: %v", err)
				}
			default:
				t.Fatalf("unknown outcome %q in the table", r.outcome)
			}
		})
	}
}
