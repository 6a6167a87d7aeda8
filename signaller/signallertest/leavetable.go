package signallertest

import (
	"fmt"
	"os"
	"strings"

	"github.com/livekit/protocol/livekit"
)

// PolicyRow is one line of the Leave policy table in docs/leave-policy.md.
type PolicyRow struct{ Action, Reason, Outcome string }

// ReadLeavePolicy parses the generated table of docs/leave-policy.md, so
// that tests drive the table the user reads (the session's unit tests keep
// it equal to the code).
func ReadLeavePolicy(path string) ([]PolicyRow, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	doc := string(b)
	i, j := strings.Index(doc, "<!-- leave-policy:begin -->"), strings.Index(doc, "<!-- leave-policy:end -->")
	if i < 0 || j < i {
		return nil, fmt.Errorf("%s has no generated table", path)
	}
	var rows []PolicyRow
	for _, line := range strings.Split(doc[i:j], "\n")[3:] {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 3 {
			continue
		}
		rows = append(rows, PolicyRow{cells[0], cells[1], cells[2]})
	}
	return rows, nil
}

// Name is the row as a subtest name.
func (r PolicyRow) Name() string { return strings.ReplaceAll(r.Action+"_"+r.Reason, " ", "_") }

// Leave builds the LeaveRequest the row stands for.
func (r PolicyRow) Leave() (*livekit.LeaveRequest, error) {
	l := &livekit.LeaveRequest{}
	if strings.Contains(r.Action, "canReconnect") {
		l.CanReconnect = true // an old server: no action
	} else {
		a, ok := livekit.LeaveRequest_Action_value[r.Action]
		if !ok {
			return nil, fmt.Errorf("unknown action %q in the table", r.Action)
		}
		l.Action = livekit.LeaveRequest_Action(a)
	}
	switch r.Reason {
	case "any":
		// The action alone decides, even with a reason that alone would end.
		l.Reason = livekit.DisconnectReason_PARTICIPANT_REMOVED
	case "any other":
		l.Reason = livekit.DisconnectReason(1000) // newer than this build
	default:
		v, ok := livekit.DisconnectReason_value[r.Reason]
		if !ok {
			return nil, fmt.Errorf("unknown reason %q in the table", r.Reason)
		}
		l.Reason = livekit.DisconnectReason(v)
	}
	return l, nil
}
