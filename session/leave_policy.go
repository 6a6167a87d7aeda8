package session

import (
	"fmt"
	"strings"

	"github.com/livekit/protocol/livekit"
)

// leaveOutcome is what a LeaveRequest from the server makes the session do.
type leaveOutcome int

const (
	// leaveResume: resume on the same server, same participant (ICE restart).
	leaveResume leaveOutcome = iota
	// leaveReconnect: full reconnect through the same URL (or the next region),
	// a new participant that publishes every track again.
	leaveReconnect
	// leaveEnd: the session ends with an ERROR naming the reason.
	leaveEnd
)

func (o leaveOutcome) String() string {
	switch o {
	case leaveResume:
		return "resume"
	case leaveReconnect:
		return "full reconnect"
	default:
		return "end (ERROR)"
	}
}

// leaveRule decides one (action, reason) pair. Reason is ignored for the
// RESUME and RECONNECT actions: the server chose the recovery itself.
type leaveRule struct {
	Action  livekit.LeaveRequest_Action
	Reason  livekit.DisconnectReason
	AnyOf   bool // any reason: the rule is about the action alone
	Outcome leaveOutcome
	Why     string
}

// leaveRules is the whole Leave policy, one row per line of the table in
// docs/leave-policy.md (TestLeavePolicyDocMatchesCode keeps the two equal).
// Reasons come from livekit-server's ParticipantCloseReason.ToDisconnectReason
// (pkg/rtc/types/interfaces.go). A server that goes away is not the room
// ending: an unattended pipeline reconnects unless a person or the
// application chose to end its participant or room.
var leaveRules = []leaveRule{
	{Action: livekit.LeaveRequest_RESUME, AnyOf: true, Outcome: leaveResume,
		Why: "the server keeps the participant for a few seconds and asks for a resume (transport failure, UDP→TCP fallback)"},
	{Action: livekit.LeaveRequest_RECONNECT, AnyOf: true, Outcome: leaveReconnect,
		Why: "the server forgot the participant (migration, node failure) and asks for a new join"},

	{Reason: livekit.DisconnectReason_SERVER_SHUTDOWN, Outcome: leaveReconnect,
		Why: "the node is stopping (forced stop of a rolling deploy, RoomManagerStop) or simulates node failure or server leave; the room's next join lands on another node, so rejoin with backoff"},
	{Reason: livekit.DisconnectReason_CONNECTION_TIMEOUT, Outcome: leaveReconnect,
		Why: "the server's transport to us failed and it did not offer a resume; the media path may work again"},
	{Reason: livekit.DisconnectReason_JOIN_FAILURE, Outcome: leaveReconnect,
		Why: "join or verification did not complete in time (JoinTimeout, VerifyFailed, MessageBusFailed): transient"},
	{Reason: livekit.DisconnectReason_STATE_MISMATCH, Outcome: leaveReconnect,
		Why: "negotiation, publication or data channel error on the server: a fresh participant starts from a clean state"},
	{Reason: livekit.DisconnectReason_SIGNAL_CLOSE, Outcome: leaveReconnect,
		Why: "the server lost its side of the signalling (SignalSourceClose): transient"},
	{Reason: livekit.DisconnectReason_MIGRATION, Outcome: leaveReconnect,
		Why: "the participant was migrated away (MigrationRequested/Complete); join again where the room is now"},
	{Reason: livekit.DisconnectReason_MEDIA_FAILURE, Outcome: leaveReconnect,
		Why: "media failed; not chosen by anyone, worth another try"},
	{Reason: livekit.DisconnectReason_UNKNOWN_REASON, Outcome: leaveReconnect,
		Why: "close reasons the server does not classify; everything a person or app can cause has a reason of its own"},

	{Reason: livekit.DisconnectReason_CLIENT_INITIATED, Outcome: leaveEnd,
		Why: "a client or the API asked this participant to leave (e.g. a WHIP DELETE)"},
	{Reason: livekit.DisconnectReason_PARTICIPANT_REMOVED, Outcome: leaveEnd,
		Why: "RemoveParticipant: someone removed this participant on purpose"},
	{Reason: livekit.DisconnectReason_ROOM_DELETED, Outcome: leaveEnd,
		Why: "DeleteRoom: the room was ended on purpose"},
	{Reason: livekit.DisconnectReason_DUPLICATE_IDENTITY, Outcome: leaveEnd,
		Why: "another participant joined with our identity; rejoining would throw it out in turn"},
	{Reason: livekit.DisconnectReason_ROOM_CLOSED, Outcome: leaveEnd,
		Why: "the room closed (empty or departure timeout): it is over"},
	{Reason: livekit.DisconnectReason_USER_UNAVAILABLE, Outcome: leaveEnd,
		Why: "SIP outcome chosen by the callee"},
	{Reason: livekit.DisconnectReason_USER_REJECTED, Outcome: leaveEnd,
		Why: "SIP outcome chosen by the callee"},
	{Reason: livekit.DisconnectReason_SIP_TRUNK_FAILURE, Outcome: leaveEnd,
		Why: "SIP trunk configuration of the application"},
	{Reason: livekit.DisconnectReason_AGENT_ERROR, Outcome: leaveEnd,
		Why: "an agent of the application failed and ended the session"},
}

// canReconnectWhy explains the rule for servers older than protocol 13.
const canReconnectWhy = "a server older than protocol 13 sends no action (it reads as DISCONNECT) and asks for a new join with canReconnect"

// unknownReasonWhy explains the default for reasons newer than this build.
const unknownReasonWhy = "a reason newer than this build: end, as for every reason a person or the application chose"

// leavePolicy decides a LeaveRequest. Leave{action: DISCONNECT} is decided by
// its reason. An old server (protocol < 13) sends no action, which reads as
// DISCONNECT: its canReconnect=true means a full reconnect, and otherwise the
// reason decides, as for DISCONNECT.
func leavePolicy(l *livekit.LeaveRequest) (leaveOutcome, string) {
	action := l.GetAction()
	if action == livekit.LeaveRequest_DISCONNECT && l.GetCanReconnect() {
		return leaveReconnect, canReconnectWhy
	}
	for _, r := range leaveRules {
		if r.AnyOf && r.Action == action {
			return r.Outcome, r.Why
		}
	}
	if action == livekit.LeaveRequest_DISCONNECT {
		for _, r := range leaveRules {
			if !r.AnyOf && r.Reason == l.GetReason() {
				return r.Outcome, r.Why
			}
		}
	}
	return leaveEnd, unknownReasonWhy
}

// leavePolicyTable renders the policy as the Markdown table of
// docs/leave-policy.md, in the order leavePolicy applies it: the first
// matching row wins.
func leavePolicyTable() string {
	var b strings.Builder
	b.WriteString("| action | reason | outcome | why |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| DISCONNECT, or none (old server), with canReconnect | any | %s | %s |\n", leaveReconnect, canReconnectWhy)
	for _, r := range leaveRules {
		reason := r.Reason.String()
		if r.AnyOf {
			reason = "any"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Action, reason, r.Outcome, r.Why)
	}
	fmt.Fprintf(&b, "| DISCONNECT | any other | %s | %s |\n", leaveEnd, unknownReasonWhy)
	return b.String()
}
