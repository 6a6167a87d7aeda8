package session

import (
	"flag"
	"testing"

	"github.com/golivekitsink/golivekitsink/internal/docgen"
	"github.com/livekit/protocol/livekit"
)

var updateDocs = flag.Bool("update", false, "rewrite generated tables in docs/")

const leaveDoc = "../docs/leave-policy.md"

// One case per row of the policy table, plus the cases the table's
// catch-all rows stand for.
func TestLeavePolicyRows(t *testing.T) {
	type row struct {
		leave *livekit.LeaveRequest
		want  leaveOutcome
	}
	var rows []row
	for _, r := range leaveRules {
		l := &livekit.LeaveRequest{Action: r.Action, Reason: r.Reason}
		if r.AnyOf {
			// Whatever the reason, the action decides; even one that alone would end.
			l.Reason = livekit.DisconnectReason_PARTICIPANT_REMOVED
		}
		rows = append(rows, row{l, r.Outcome})
	}
	rows = append(rows,
		// A rolling deploy's forced stop: the bug this policy fixes.
		row{&livekit.LeaveRequest{Action: livekit.LeaveRequest_DISCONNECT, Reason: livekit.DisconnectReason_SERVER_SHUTDOWN}, leaveReconnect},
		// An old server: no action, canReconnect decides, else the reason.
		row{&livekit.LeaveRequest{CanReconnect: true, Reason: livekit.DisconnectReason_STATE_MISMATCH}, leaveReconnect},
		row{&livekit.LeaveRequest{CanReconnect: false, Reason: livekit.DisconnectReason_SERVER_SHUTDOWN}, leaveReconnect},
		row{&livekit.LeaveRequest{CanReconnect: false, Reason: livekit.DisconnectReason_ROOM_DELETED}, leaveEnd},
		// A reason newer than this build ends, as chosen reasons do.
		row{&livekit.LeaveRequest{Action: livekit.LeaveRequest_DISCONNECT, Reason: livekit.DisconnectReason(99)}, leaveEnd},
		// An unknown action with a reason is decided by... nothing: it ends.
		row{&livekit.LeaveRequest{Action: livekit.LeaveRequest_Action(7), Reason: livekit.DisconnectReason_SERVER_SHUTDOWN}, leaveEnd},
	)
	for _, r := range rows {
		name := r.leave.GetAction().String() + "/" + r.leave.GetReason().String()
		if r.leave.GetCanReconnect() {
			name += "/canReconnect"
		}
		t.Run(name, func(t *testing.T) {
			got, why := leavePolicy(r.leave)
			if got != r.want {
				t.Fatalf("leave %v: %s (%s), want %s", r.leave, got, why, r.want)
			}
			if why == "" {
				t.Fatal("no reason given for the decision")
			}
		})
	}
}

// Every DisconnectReason this build knows has its own row: a reason added to
// the protocol must be decided here, not fall into the catch-all by accident.
func TestLeavePolicyCoversEveryKnownReason(t *testing.T) {
	seen := map[livekit.DisconnectReason]bool{}
	for _, r := range leaveRules {
		if !r.AnyOf {
			if seen[r.Reason] {
				t.Errorf("reason %s has two rows", r.Reason)
			}
			seen[r.Reason] = true
		}
	}
	for v, name := range livekit.DisconnectReason_name {
		if !seen[livekit.DisconnectReason(v)] {
			t.Errorf("reason %s has no row in leaveRules", name)
		}
	}
}

func TestLeavePolicyDocMatchesCode(t *testing.T) {
	checkGeneratedDoc(t, leaveDoc, "leave-policy", leavePolicyTable())
}

// checkGeneratedDoc checks a table of docs/ generated from the code
// (internal/docgen); -update rewrites it.
func checkGeneratedDoc(t *testing.T, doc, name, want string) {
	t.Helper()
	docgen.Check(t, doc, name, want, *updateDocs)
}
