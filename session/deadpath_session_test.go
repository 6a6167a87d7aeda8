package session

import (
	"strconv"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
)

// The fake server stops sending RTCP while the media keeps arriving (ICE
// still answers, so only the missing feedback can tell): the session resumes
// with an ICE restart as the same participant, within pathWatch's window,
// and its media flows again. A muted track owes no feedback: silence then
// starts nothing.
func TestUnansweredMediaResumesTheSession(t *testing.T) {
	t.Parallel()
	srv, w, tr, first, conn := mutedWorld(t)
	from := w.count()

	// Feedback flows: no recovery while it does.
	time.Sleep(1500 * time.Millisecond)
	if n := len(srv.Connects()); n != 1 {
		t.Fatalf("%d connects while the server answered the media, want 1", n)
	}

	if !conn.SetRTCPMuted(true) {
		t.Fatal("no answering peer connection to mute")
	}
	cut := time.Now()
	c := srv.WaitConnects(2, waitLong)[1]
	took := time.Since(cut)
	conn.SetRTCPMuted(false)
	wantReason := strconv.Itoa(int(livekit.ReconnectReason_RR_PUBLISHER_FAILED))
	if !c.Reconnect || c.SID != first.ParticipantSID || c.ReconnectReason != wantReason {
		t.Fatalf("connect after the RTCP stopped: reconnect=%v sid=%q reason %s, want a resume of %s, reason %s",
			c.Reconnect, c.SID, c.ReconnectReason, first.ParticipantSID, wantReason)
	}
	offer := c.Conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetOffer() != nil }).GetOffer()
	if offer == nil {
		t.Fatal("no offer after the resume")
	}
	if took < pathWindowMin || took > pathWindowMax+time.Second {
		t.Fatalf("resumed %s after the RTCP stopped, want within [%s, %s]", took, pathWindowMin, pathWindowMax+time.Second)
	}
	back, next := w.waitState(t, from, StateConnected)
	if back.ParticipantSID != first.ParticipantSID {
		t.Fatalf("participant %s → %s after a resume", first.ParticipantSID, back.ParticipantSID)
	}
	waitPackets(t, c.Conn, c.Conn.MediaPackets("")+30, "")

	// Muted: no media, so the server's silence is no sign.
	tr.SetMuted(true)
	time.Sleep(100 * time.Millisecond)
	c.Conn.SetRTCPMuted(true)
	time.Sleep(2 * pathWindowMax)
	c.Conn.SetRTCPMuted(false)
	if n := len(srv.Connects()); n != 2 {
		t.Fatalf("%d connects while the track was muted, want 2", n)
	}
	if w.count() != next {
		w.mu.Lock()
		defer w.mu.Unlock()
		t.Fatalf("states after the resume: %s", stateNames(w.states[next:]))
	}
}
