package session

import (
	"errors"
	"strings"
	"testing"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// Recovery driven through the fake LiveKit server: what the session asks
// the server for (join, resume, which region) and what it tells the
// application, for every trigger of docs/livekit-signalling.md §3.

// checkOutcome asserts what follows a Leave whose outcome is want:
// connects before it were made, the session's states from index from.
func checkOutcome(t *testing.T, srv *signallertest.Server, w *watcher, want string, l *livekit.LeaveRequest,
	connects, from int, first StateChange) {
	t.Helper()
	switch want {
	case "end (ERROR)":
		err := w.waitFatal(t)
		var de *DisconnectError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), l.GetReason().String()) {
			t.Fatalf("ended with %v, want a DisconnectError naming %s", err, l.GetReason())
		}
		if n := len(srv.Connects()); n != connects {
			t.Fatalf("%d connects after the end, want %d", n, connects)
		}
	case "resume", "full reconnect":
		resume := want == "resume"
		c := srv.WaitConnects(connects+1, waitLong)[connects]
		if c.Reconnect != resume || resume && c.SID != first.ParticipantSID {
			t.Fatalf("%s: connect reconnect=%v sid=%q, participant was %s", want, c.Reconnect, c.SID, first.ParticipantSID)
		}
		back, _ := w.waitState(t, from, StateConnected)
		if same := back.ParticipantSID == first.ParticipantSID; same != resume {
			t.Fatalf("%s: participant %s → %s", want, first.ParticipantSID, back.ParticipantSID)
		}
		if err := w.fatalErr(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
	default:
		t.Fatalf("unknown outcome %q in the table", want)
	}
}

// Every row of the Leave policy on a working socket: the session resumes
// (same participant), reconnects (a new one) or ends, as the table says.
func TestLeaveOnALiveSocketFollowsThePolicyTable(t *testing.T) {
	for _, r := range readLeavePolicy(t) {
		t.Run(r.name(), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			_, w, conn, first := connected(t, srv, nil)
			from := w.count()
			l := r.leave(t)
			if err := conn.SendLeave(l); err != nil {
				t.Fatal(err)
			}
			checkOutcome(t, srv, w, r.outcome, l, 1, from, first)
		})
	}
}

// Every row of the Leave policy as the server's first answer to a resume:
// the server no longer knows the participant, so what does not end is a
// full reconnect.
func TestLeaveAnsweringAResumeFollowsThePolicyTable(t *testing.T) {
	for _, r := range readLeavePolicy(t) {
		t.Run(r.name(), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			_, w, conn, first := connected(t, srv, nil)
			from := w.count()
			l := r.leave(t)
			srv.Queue(signallertest.FirstLeave(l))
			conn.Drop()
			resume := srv.WaitConnects(2, waitLong)[1]
			if !resume.Reconnect || resume.SID != first.ParticipantSID {
				t.Fatalf("after a socket drop: reconnect=%v sid=%q, want a resume of %s", resume.Reconnect, resume.SID, first.ParticipantSID)
			}
			want := r.outcome
			if want == "resume" {
				want = "full reconnect"
			}
			checkOutcome(t, srv, w, want, l, 2, from, first)
		})
	}
}
