package session

import (
	"slices"
	"strings"
)

// The connection state machine: every decision about joining, resuming,
// reconnecting and giving up is a row of machineRules, applied by plan, a
// pure function. transition (transition.go) carries the chosen row out.
// docs/protocol.md, "The state machine", is generated from these rules
// (TestMachineDocMatchesCode).

// phase is where the session is.
type phase int

const (
	phaseIdle        phase = iota
	phaseWaiting           // backoff before the next attempt
	phaseDialing           // websocket dial (join or resume) in flight
	phaseNegotiating       // joined or resumed; waiting for the peer connection
	phaseConnected         // the publisher peer connection is up
	phaseClosed            // Close, or the session ended with an error
)

var phaseNames = [...]string{"idle", "waiting", "dialing", "negotiating", "connected", "closed"}

func (p phase) String() string { return phaseNames[p] }

// recoveryMode is the kind of recovery under way; none while connected.
type recoveryMode int

const (
	modeNone   recoveryMode = iota
	modeResume              // same participant, ICE restart
	modeFull                // a new join that publishes every track again
)

func (m recoveryMode) String() string {
	return [...]string{"none", "resume", "full reconnect"}[m]
}

// state is the machine's state: a phase and, during a recovery, its mode.
type state struct {
	phase phase
	mode  recoveryMode
}

func (st state) String() string {
	if st.mode == modeNone {
		return st.phase.String()
	}
	return st.phase.String() + " (" + st.mode.String() + ")"
}

// trigger is what happened.
type trigger int

const (
	trStart              trigger = iota // Start
	trBackoffOver                       // the time to the next attempt passed
	trJoined                            // a JoinResponse answered the dial
	trResumed                           // a ReconnectResponse (or an old server's other frame) answered the dial
	trDialFailed                        // unreachable, refused with another status, timeout, a first frame that does not answer
	trRefused                           // the upgrade was refused with 401 or 403
	trUntrusted                         // the server's TLS certificate is not trusted
	trLeaveFirst                        // a Leave answered the dial
	trLeave                             // a Leave on a working socket
	trSocketLost                        // server close, read error, ping timeout
	trPCConnected                       // the publisher peer connection is (still) connected
	trPCFailed                          // the publisher peer connection failed
	trPCTimeout                         // the peer connection did not connect within pcConnectTimeout
	trPathDead                          // media went out and no RTCP came back for a window (deadpath.go)
	trNegotiationFailed                 // an offer or answer could not be made or applied
	trSimulatedResume                   // Simulate("resume")
	trSimulatedReconnect                // Simulate("leave-full-reconnect")
	trSimulatedSwitch                   // Simulate("switch-candidate-*")
	trSlow                              // recovery-warning passed in this episode
	trBudgetSpent                       // reconnect-budget passed in this episode
	trBroken                            // a local error no retry can fix (token minting, peer connection setup)
	trRoomTimeout                       // room-timeout passed with no other participant in the room
	trClose                             // Close
)

var triggerNames = [...]string{
	"start", "backoff over", "JoinResponse", "ReconnectResponse", "dial failed", "refused (401/403)", "untrusted certificate",
	"leave as first frame", "leave", "socket lost", "publisher connected", "publisher failed",
	"publisher connect timeout", "no RTCP while sending", "negotiation failed", "simulated resume", "simulated full reconnect",
	"simulated candidate switch", "recovery slow", "budget spent", "local error", "room timeout", "close",
}

func (t trigger) String() string { return triggerNames[t] }

// facts are what the rules' conditions read; the session fills them in
// (Session.facts) when a trigger arrives.
type facts struct {
	mode          recoveryMode
	everConnected bool
	canResume     bool // a peer connection and SID to resume, and resuming not disabled
	resumesLeft   bool // fewer than resumeAttempts resumes tried in this episode
	canMint       bool // key and secret, and no fresh token minted in this episode
	regionLeft    bool // the region plan has another URL to try now
	regionsKnown  bool // regions are in use and a list is known
	offerPending  bool // an offer (or an ICE restart) waits for its answer
	mediaIntact   bool // resumed after a socket-only loss, the peer connection still connected
	leave         leaveOutcome
	leaveAction   string // the Leave's action: DISCONNECT asks for backoff
}

// cond is a named condition of a rule; the zero cond always holds.
type cond struct {
	name  string
	holds func(facts) bool
}

func (c cond) check(f facts) bool { return c.holds == nil || c.holds(f) }

var (
	resumeOK      = cond{"resuming possible and fewer than 3 resumes tried", func(f facts) bool { return f.canResume && f.resumesLeft }}
	canMint       = cond{"key and secret, no fresh token yet in this episode", func(f facts) bool { return f.canMint }}
	regionLeft    = cond{"another region left in the plan", func(f facts) bool { return f.regionLeft }}
	regionsKnown  = cond{"regions known", func(f facts) bool { return f.regionsKnown }}
	noOffer       = cond{"no offer outstanding", func(f facts) bool { return !f.offerPending }}
	mediaIntact   = cond{"only the socket broke, the peer connection is still connected", func(f facts) bool { return f.mediaIntact }}
	leaveEnds     = cond{"policy: end", func(f facts) bool { return f.leave == leaveEnd }}
	leaveResumes  = cond{"policy: resume, and resuming possible", func(f facts) bool { return f.leave == leaveResume && f.canResume }}
	leaveBackoff  = cond{"policy: rejoin, action DISCONNECT", func(f facts) bool { return f.leaveAction == "DISCONNECT" }}
	connectedOnce = cond{"connected before", func(f facts) bool { return f.everConnected }}
)

// modeChange is how a rule changes the recovery mode. Within an episode the
// mode only rises: a trigger can turn a resume into a full reconnect, never
// the other way.
type modeChange int

const (
	keepMode modeChange = iota
	toResume            // resume, or stay full
	toFull              // full reconnect
	endsMode            // the episode is over (connected, closed)
)

// action is one step of a transition, carried out in the rule's order by
// Session.do (transition.go).
type action int

const (
	aBeginEpisode action = iota
	aFailed
	aDropSocket
	aFreshToken
	aMarkURLFailed
	aWarnRetrying
	aKeepLeaveRegions
	aRetryNow
	aRetryBackoff
	aRetryAfterSettle
	aDialResume
	aDialFull
	aSetUpJoin
	aSyncResume
	aRestartICE
	aOfferIfPending
	aConnected
	aWarnSlow
	aLeave
	aEnd
)

// actionDocs is what each action does, for the doc table.
var actionDocs = [...]string{
	aBeginEpisode:     "a new recovery episode (attempt 0) unless one runs; the trigger is its reason",
	aFailed:           "WARNING in the log; the state's reason names the failure",
	aDropSocket:       "close the socket",
	aFreshToken:       "mint a fresh token (not counted as an attempt)",
	aMarkURLFailed:    "the URL counts as failed for this episode",
	aWarnRetrying:     "WARNING \"cannot connect to LiveKit at …, retrying\"",
	aKeepLeaveRegions: "keep the Leave's regions for the plan",
	aRetryNow:         "next attempt at once",
	aRetryBackoff:     "next attempt after the backoff",
	aRetryAfterSettle: "next attempt after 500 ms (the server stores the new candidate preference)",
	aDialResume:       "dial the current URL as a resume",
	aDialFull:         "Leave on the old socket, close the peer connections, fresh token if connected before, dial the next URL of the plan",
	aSetUpJoin:        "new peer connection, publish every track, offer; reliable data the old participant may not have delivered and metadata changes go again",
	aSyncResume:       "new ICE servers, SyncState, re-announce pending tracks; reliable data after the server's last_message_seq goes again",
	aRestartICE:       "offer with ICE restart",
	aOfferIfPending:   "offer if a change waited for the socket",
	aConnected:        "report connected; the episode's counters, plan and regions reset; waiting data and metadata are sent",
	aWarnSlow:         "one WARNING for this episode",
	aLeave:            "Leave CLIENT_INITIATED, close everything, report disconnected",
	aEnd:              "close everything, ERROR naming the cause",
}

// rule is one row of the state table. The first rule whose phase, mode,
// trigger and condition match decides; no match means the trigger is
// stale in that state and is ignored.
type rule struct {
	in    []phase // nil: any phase but closed (closed matches no rule)
	mode  recoveryMode
	anyOf bool // any mode (mode is ignored)
	on    []trigger
	when  cond
	next  phase // phaseIdle: stay in the phase
	to    modeChange
	do    []action
}

var (
	live         = []phase{phaseNegotiating, phaseConnected}
	attemptGoing = []phase{phaseDialing, phaseNegotiating}
	recovering   = []phase{phaseWaiting, phaseDialing, phaseNegotiating}
)

const stay = phaseIdle

// attemptFailures are the ways an attempt fails that leave no choice but
// another attempt; failedAfterDial, those after the dial succeeded.
var (
	failedAfterDial = []trigger{trSocketLost, trPCFailed, trPCTimeout, trNegotiationFailed}
	attemptFailures = append([]trigger{trDialFailed, trResumed}, failedAfterDial...)
)

func on(ts ...trigger) []trigger { return ts }

// machineRules is the state table.
var machineRules = []rule{
	{in: []phase{phaseIdle}, anyOf: true, on: on(trStart), next: phaseWaiting, to: toFull, do: []action{aBeginEpisode, aRetryNow}},

	{in: []phase{phaseWaiting}, mode: modeResume, on: on(trBackoffOver), when: resumeOK, next: phaseDialing, do: []action{aDialResume}},
	{in: []phase{phaseWaiting}, anyOf: true, on: on(trBackoffOver), next: phaseDialing, to: toFull, do: []action{aDialFull}},

	{in: []phase{phaseDialing}, anyOf: true, on: on(trJoined), next: phaseNegotiating, do: []action{aSetUpJoin}},
	{in: []phase{phaseDialing}, mode: modeResume, on: on(trResumed), when: mediaIntact, next: phaseConnected, to: endsMode, do: []action{aSyncResume, aOfferIfPending, aConnected}},
	{in: []phase{phaseDialing}, mode: modeResume, on: on(trResumed), next: phaseNegotiating, do: []action{aSyncResume, aRestartICE}},

	// An attempt that failed, by what failed.
	{in: attemptGoing, anyOf: true, on: on(trUntrusted), next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{in: attemptGoing, anyOf: true, on: on(trRefused), when: canMint, next: phaseWaiting, do: []action{aFailed, aDropSocket, aFreshToken, aRetryNow}},
	{in: attemptGoing, anyOf: true, on: on(trRefused), next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{in: attemptGoing, anyOf: true, on: on(trLeaveFirst), when: leaveEnds, next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{in: attemptGoing, anyOf: true, on: on(trLeaveFirst), when: leaveBackoff, next: phaseWaiting, to: toFull, do: []action{aFailed, aKeepLeaveRegions, aDropSocket, aRetryBackoff}},
	{in: attemptGoing, anyOf: true, on: on(trLeaveFirst), next: phaseWaiting, to: toFull, do: []action{aFailed, aKeepLeaveRegions, aDropSocket, aRetryNow}},
	// A resumed answer to a join fails it: only a JoinResponse answers a
	// join (a ReconnectResponse would find no peer connection to resume).
	{in: attemptGoing, mode: modeFull, on: attemptFailures, when: regionLeft, next: phaseWaiting, do: []action{aFailed, aDropSocket, aMarkURLFailed, aRetryNow}},
	{in: attemptGoing, mode: modeFull, on: attemptFailures, next: phaseWaiting, do: []action{aFailed, aDropSocket, aMarkURLFailed, aWarnRetrying, aRetryBackoff}},
	// A resume that fails after its dial succeeded becomes a full reconnect at once.
	{in: []phase{phaseNegotiating}, mode: modeResume, on: failedAfterDial, next: phaseWaiting, to: toFull, do: []action{aFailed, aDropSocket, aRetryNow}},
	// With regions to go to, a server that cannot take the resume is not
	// waited for: the full reconnect's plan moves to another region (the Go
	// SDK escalates on any resume failure for the same reason).
	{in: []phase{phaseDialing}, mode: modeResume, on: on(trDialFailed), when: regionsKnown, next: phaseWaiting, to: toFull, do: []action{aFailed, aDropSocket, aRetryNow}},
	{in: []phase{phaseDialing}, mode: modeResume, on: on(trDialFailed), next: phaseWaiting, do: []action{aFailed, aDropSocket, aRetryBackoff}},

	{in: []phase{phaseNegotiating}, anyOf: true, on: on(trPCConnected), when: noOffer, next: phaseConnected, to: endsMode, do: []action{aConnected}},

	// A working socket: the Leave policy (leave_policy.go) decides.
	{in: live, anyOf: true, on: on(trLeave), when: leaveEnds, next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{in: live, anyOf: true, on: on(trLeave), when: leaveResumes, next: phaseWaiting, to: toResume, do: []action{aKeepLeaveRegions, aBeginEpisode, aDropSocket, aRetryNow}},
	{in: live, anyOf: true, on: on(trLeave), next: phaseWaiting, to: toFull, do: []action{aKeepLeaveRegions, aBeginEpisode, aDropSocket, aRetryNow}},

	// trPathDead is trPCFailed found sooner: the SFU stopped answering the media (deadpath.go).
	{in: []phase{phaseConnected}, anyOf: true, on: on(trSocketLost, trPCFailed, trPathDead, trSimulatedResume), next: phaseWaiting, to: toResume, do: []action{aBeginEpisode, aDropSocket, aRetryNow}},
	{in: []phase{phaseConnected}, anyOf: true, on: on(trSimulatedReconnect), next: phaseWaiting, to: toFull, do: []action{aBeginEpisode, aDropSocket, aRetryNow}},
	{in: []phase{phaseConnected}, anyOf: true, on: on(trSimulatedSwitch), next: phaseWaiting, to: toFull, do: []action{aBeginEpisode, aDropSocket, aRetryAfterSettle}},
	{in: []phase{phaseConnected}, anyOf: true, on: on(trNegotiationFailed), next: phaseWaiting, to: toFull, do: []action{aBeginEpisode, aDropSocket, aRetryBackoff}},

	{in: recovering, anyOf: true, on: on(trSlow), when: connectedOnce, next: stay, do: []action{aWarnSlow}},
	{in: recovering, anyOf: true, on: on(trBudgetSpent), next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{anyOf: true, on: on(trBroken), next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{anyOf: true, on: on(trRoomTimeout), next: phaseClosed, to: endsMode, do: []action{aEnd}},
	{anyOf: true, on: on(trClose), next: phaseClosed, to: endsMode, do: []action{aLeave}},
}

// plan decides what trigger tr does in state st: the next state and the
// actions that get there. ok is false when no rule matches: the trigger is
// stale there and changes nothing.
func plan(st state, tr trigger, f facts) (next state, do []action, r *rule, ok bool) {
	f.mode = st.mode
	for i := range machineRules {
		r := &machineRules[i]
		if !hasTrigger(r.on, tr) || !r.matches(st) || !r.when.check(f) {
			continue
		}
		next = st
		if r.next != stay {
			next.phase = r.next
		}
		switch r.to {
		case toResume:
			if next.mode < modeResume {
				next.mode = modeResume
			}
		case toFull:
			next.mode = modeFull
		case endsMode:
			next.mode = modeNone
		}
		return next, r.do, r, true
	}
	return st, nil, nil, false
}

func (r *rule) matches(st state) bool {
	if st.phase == phaseClosed {
		return false
	}
	if r.in != nil && !hasPhase(r.in, st.phase) {
		return false
	}
	return r.anyOf || r.mode == st.mode
}

func hasPhase(ps []phase, p phase) bool { return slices.Contains(ps, p) }

func hasTrigger(ts []trigger, t trigger) bool { return slices.Contains(ts, t) }

// machineTable renders machineRules as the Markdown table of
// docs/protocol.md, "The state machine", in the order plan applies them.
func machineTable() string {
	var b strings.Builder
	b.WriteString("| in | trigger | when | next | does |\n|---|---|---|---|---|\n")
	for i := range machineRules {
		r := &machineRules[i]
		b.WriteString("| " + r.inText() + " | " + r.onText() + " | " + whenText(i) + " | " + r.nextText() + " | " + r.doText() + " |\n")
	}
	return b.String()
}

func (r *rule) inText() string {
	ps := "any"
	if r.in != nil {
		names := make([]string, len(r.in))
		for i, p := range r.in {
			names[i] = p.String()
		}
		ps = strings.Join(names, ", ")
	}
	if r.anyOf {
		return ps
	}
	return ps + " (" + r.mode.String() + ")"
}

func (r *rule) onText() string {
	names := make([]string, len(r.on))
	for i, t := range r.on {
		names[i] = t.String()
	}
	return strings.Join(names, ", ")
}

// whenText is rule i's condition: "otherwise" after other rules for the
// same trigger, "—" for a rule that is alone.
func whenText(i int) string {
	r := &machineRules[i]
	if r.when.name != "" {
		return r.when.name
	}
	for _, prev := range machineRules[:i] {
		if slices.Equal(prev.on, r.on) && prev.when.name != "" {
			return "otherwise"
		}
	}
	return "—"
}

func (r *rule) nextText() string {
	p := "same phase"
	if r.next != stay {
		p = r.next.String()
	}
	switch r.to {
	case toResume:
		return p + " (resume, or full if already)"
	case toFull:
		return p + " (full reconnect)"
	}
	return p
}

func (r *rule) doText() string {
	parts := make([]string, len(r.do))
	for i, a := range r.do {
		parts[i] = actionDocs[a]
	}
	return strings.Join(parts, "; ")
}
