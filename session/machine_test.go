package session

import (
	"slices"
	"testing"
)

// machineCases: one case per line of the state table, written from the
// behaviour docs/protocol.md describes, not from machineRules.
var machineCases = []struct {
	name string
	from state
	on   trigger
	f    facts
	next state
	do   []action
}{
	{"start", state{phaseIdle, modeNone}, trStart, facts{},
		state{phaseWaiting, modeFull}, []action{aBeginEpisode, aRetryNow}},
	{"resume attempt", state{phaseWaiting, modeResume}, trBackoffOver, facts{canResume: true, resumesLeft: true},
		state{phaseDialing, modeResume}, []action{aDialResume}},
	{"fourth resume becomes full", state{phaseWaiting, modeResume}, trBackoffOver, facts{canResume: true},
		state{phaseDialing, modeFull}, []action{aDialFull}},
	{"full attempt", state{phaseWaiting, modeFull}, trBackoffOver, facts{},
		state{phaseDialing, modeFull}, []action{aDialFull}},
	{"joined", state{phaseDialing, modeFull}, trJoined, facts{},
		state{phaseNegotiating, modeFull}, []action{aSetUpJoin}},
	{"socket-only resume", state{phaseDialing, modeResume}, trResumed, facts{mediaIntact: true},
		state{phaseConnected, modeNone}, []action{aSyncResume, aOfferIfPending, aConnected}},
	{"resume with ICE restart", state{phaseDialing, modeResume}, trResumed, facts{},
		state{phaseNegotiating, modeResume}, []action{aSyncResume, aRestartICE}},
	{"untrusted certificate", state{phaseDialing, modeResume}, trUntrusted, facts{},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"401 with key and secret", state{phaseDialing, modeFull}, trRefused, facts{canMint: true},
		state{phaseWaiting, modeFull}, []action{aFailed, aDropSocket, aFreshToken, aRetryNow}},
	{"401 again", state{phaseDialing, modeFull}, trRefused, facts{},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"first-frame leave that ends", state{phaseDialing, modeResume}, trLeaveFirst, facts{leave: leaveEnd, leaveAction: "DISCONNECT"},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"first-frame disconnect that rejoins", state{phaseDialing, modeResume}, trLeaveFirst, facts{leave: leaveReconnect, leaveAction: "DISCONNECT"},
		state{phaseWaiting, modeFull}, []action{aFailed, aKeepLeaveRegions, aDropSocket, aRetryBackoff}},
	{"first-frame resume leave", state{phaseDialing, modeResume}, trLeaveFirst, facts{leave: leaveResume, leaveAction: "RESUME", canResume: true},
		state{phaseWaiting, modeFull}, []action{aFailed, aKeepLeaveRegions, aDropSocket, aRetryNow}},
	{"full dial fails, region left", state{phaseDialing, modeFull}, trDialFailed, facts{regionLeft: true},
		state{phaseWaiting, modeFull}, []action{aFailed, aDropSocket, aMarkURLFailed, aRetryNow}},
	{"full dial fails", state{phaseDialing, modeFull}, trDialFailed, facts{},
		state{phaseWaiting, modeFull}, []action{aFailed, aDropSocket, aMarkURLFailed, aWarnRetrying, aRetryBackoff}},
	{"resume fails after its dial", state{phaseNegotiating, modeResume}, trPCTimeout, facts{},
		state{phaseWaiting, modeFull}, []action{aFailed, aDropSocket, aRetryNow}},
	{"resume dial fails with regions", state{phaseDialing, modeResume}, trDialFailed, facts{regionsKnown: true},
		state{phaseWaiting, modeFull}, []action{aFailed, aDropSocket, aRetryNow}},
	{"resume dial fails", state{phaseDialing, modeResume}, trDialFailed, facts{},
		state{phaseWaiting, modeResume}, []action{aFailed, aDropSocket, aRetryBackoff}},
	{"publisher connected", state{phaseNegotiating, modeFull}, trPCConnected, facts{},
		state{phaseConnected, modeNone}, []action{aConnected}},
	{"leave that ends", state{phaseConnected, modeNone}, trLeave, facts{leave: leaveEnd, leaveAction: "DISCONNECT"},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"leave RESUME", state{phaseConnected, modeNone}, trLeave, facts{leave: leaveResume, leaveAction: "RESUME", canResume: true},
		state{phaseWaiting, modeResume}, []action{aKeepLeaveRegions, aBeginEpisode, aDropSocket, aRetryNow}},
	{"leave RECONNECT", state{phaseConnected, modeNone}, trLeave, facts{leave: leaveReconnect, leaveAction: "RECONNECT", canResume: true},
		state{phaseWaiting, modeFull}, []action{aKeepLeaveRegions, aBeginEpisode, aDropSocket, aRetryNow}},
	{"socket lost", state{phaseConnected, modeNone}, trSocketLost, facts{},
		state{phaseWaiting, modeResume}, []action{aBeginEpisode, aDropSocket, aRetryNow}},
	{"no RTCP while sending", state{phaseConnected, modeNone}, trPathDead, facts{},
		state{phaseWaiting, modeResume}, []action{aBeginEpisode, aDropSocket, aRetryNow}},
	{"simulated full reconnect", state{phaseConnected, modeNone}, trSimulatedReconnect, facts{},
		state{phaseWaiting, modeFull}, []action{aBeginEpisode, aDropSocket, aRetryNow}},
	{"simulated candidate switch", state{phaseConnected, modeNone}, trSimulatedSwitch, facts{},
		state{phaseWaiting, modeFull}, []action{aBeginEpisode, aDropSocket, aRetryAfterSettle}},
	{"offer fails while connected", state{phaseConnected, modeNone}, trNegotiationFailed, facts{},
		state{phaseWaiting, modeFull}, []action{aBeginEpisode, aDropSocket, aRetryBackoff}},
	{"slow recovery", state{phaseDialing, modeResume}, trSlow, facts{everConnected: true},
		state{phaseDialing, modeResume}, []action{aWarnSlow}},
	{"budget spent", state{phaseWaiting, modeFull}, trBudgetSpent, facts{},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"local error", state{phaseIdle, modeNone}, trBroken, facts{},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"room timeout", state{phaseConnected, modeNone}, trRoomTimeout, facts{},
		state{phaseClosed, modeNone}, []action{aEnd}},
	{"close", state{phaseNegotiating, modeResume}, trClose, facts{},
		state{phaseClosed, modeNone}, []action{aLeave}},
}

func TestMachineRows(t *testing.T) {
	hit := make([]bool, len(machineRules))
	for _, c := range machineCases {
		next, do, r, ok := plan(c.from, c.on, c.f)
		if !ok {
			t.Errorf("%s: %s in %s matches no rule", c.name, c.on, c.from)
			continue
		}
		for i := range machineRules {
			if &machineRules[i] == r {
				hit[i] = true
			}
		}
		if next != c.next || !slices.Equal(do, c.do) {
			t.Errorf("%s: %s in %s → %s %v, want %s %v", c.name, c.on, c.from, next, do, c.next, c.do)
		}
	}
	for i, h := range hit {
		if !h {
			t.Errorf("row %d of the state table (%s on %s) has no case", i+1, machineRules[i].inText(), machineRules[i].onText())
		}
	}
}

// Within an episode the mode only rises, and mode belongs to recovery.
func TestMachineModeOnlyRises(t *testing.T) {
	for _, c := range []struct {
		from state
		on   trigger
		f    facts
		want recoveryMode
	}{
		// A Leave RESUME while a full reconnect negotiates keeps it full.
		{state{phaseNegotiating, modeFull}, trLeave, facts{leave: leaveResume, leaveAction: "RESUME", canResume: true}, modeFull},
		// Nothing to resume: a Leave RESUME becomes a full reconnect.
		{state{phaseConnected, modeNone}, trLeave, facts{leave: leaveResume, leaveAction: "RESUME"}, modeFull},
	} {
		if next, _, _, _ := plan(c.from, c.on, c.f); next.mode != c.want {
			t.Errorf("%s in %s: mode %s, want %s", c.on, c.from, next.mode, c.want)
		}
	}
}

// Triggers that are stale in a state change nothing there.
func TestMachineIgnoresStaleTriggers(t *testing.T) {
	for _, c := range []struct {
		from state
		on   trigger
		f    facts
	}{
		{state{phaseClosed, modeNone}, trClose, facts{}},                              // closed is final
		{state{phaseNegotiating, modeFull}, trPCConnected, facts{offerPending: true}}, // the answer is not in yet
		{state{phaseDialing, modeResume}, trPCFailed, facts{}},                        // the resume's ICE restart will fix it
		{state{phaseWaiting, modeResume}, trSlow, facts{}},                            // never connected: no slow-recovery warning
		{state{phaseConnected, modeNone}, trBackoffOver, facts{}},
		{state{phaseWaiting, modeFull}, trSocketLost, facts{}},
		{state{phaseNegotiating, modeResume}, trPathDead, facts{}}, // the ICE restart under way is the remedy
	} {
		if next, do, _, ok := plan(c.from, c.on, c.f); ok {
			t.Errorf("%s in %s: → %s %v, want ignored", c.on, c.from, next, do)
		}
	}
}

func TestMachineDocMatchesCode(t *testing.T) {
	checkGeneratedDoc(t, "../docs/protocol.md", "state-table", machineTable())
}

func TestEveryTriggerAndActionHasAName(t *testing.T) {
	for tr := trStart; tr <= trClose; tr++ {
		if tr.String() == "" {
			t.Errorf("trigger %d has no name", tr)
		}
	}
	for a := aBeginEpisode; a <= aEnd; a++ {
		if actionDocs[a] == "" {
			t.Errorf("action %d has no doc", a)
		}
	}
}
