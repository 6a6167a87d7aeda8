package faults

import (
	"os"
	"strings"
	"testing"
	"time"
)

// The seed bug: the publisher's UDP path dies while TCP works (a firewall,
// a NAT that forgot us). livekit-server would send Leave{CONNECTION_TIMEOUT,
// RESUME} after 15 s; the element notices its own dead media path when the
// SFU's RTCP stops answering its media (about 1 s, session/deadpath.go),
// resumes with an ICE restart and finds the server's ICE/TCP candidate.
// Media must be back within 2.5 s of the cut, same participant.
func TestUDPBlackholeEarly(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		blackhole(t, v, 0)
	})
}

// Late in the connection (> 90 s) the server no longer switches its candidate
// preference on the first failure: the client has to find the TCP path itself.
func TestUDPBlackholeLate(t *testing.T) {
	if testing.Short() {
		t.Skip("takes two minutes per server version")
	}
	forEachVersion(t, func(t *testing.T, v string) {
		blackhole(t, v, 95*time.Second)
	})
}

func blackhole(t *testing.T, version string, after time.Duration) {
	w := newWorld(t, version, worldOptions{netns: true})
	w.waitPublishing()
	time.Sleep(after)
	sid := w.participantSID()
	n := w.messageCount()
	cut := time.Now()
	w.tp.BlockUDP(t)
	back := w.connectedAfter(n, 30*time.Second)
	if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+30, 20*time.Second); err != nil {
		t.Fatalf("media never came back over TCP: %v", err)
	}
	if dropped := w.tp.DroppedPackets(t); dropped == 0 {
		t.Fatalf("the blackhole dropped nothing: the test did not test anything")
	}
	video, audio := w.gaps(cut, 10*time.Second)
	fault := "UDP blackhole early"
	if after > 0 {
		fault = "UDP blackhole late"
	}
	report(t, fault, video, audio, back["participant-sid"] == sid)
	w.logPathReports()
	if back["participant-sid"] != sid {
		t.Errorf("participant SID changed %s -> %s: the server kept us, a resume must keep it", sid, back["participant-sid"])
	}
	if !strings.HasPrefix(back["transport"], "tcp/") {
		t.Errorf("media path after the UDP cut is %q, want ICE/TCP", back["transport"])
	}
	if video > 2500*time.Millisecond || audio > 2500*time.Millisecond {
		t.Errorf("media gap video %s audio %s after the UDP cut, want <= 2.5s", video, audio)
	}
	// No sequence check here: packets sent in the ~1 s before the dead path
	// is noticed are lost in the network, a real gap the SFU forwards.
}

// The element notices a dead media path within about 1 s; a bad path must
// not look dead. 60 s of 20% random UDP loss both ways, then 60 s of UDP
// delayed by 300±300 ms each way (packets overtake each other): no recovery
// may start, the participant stays the same and media keeps flowing.
func TestLossyUDPIsNotADeadPath(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{netns: true})
		w.waitPublishing()
		w.tp.LossyUDP(t, 20)
		w.expectNoRecovery("20% UDP loss", 60*time.Second, time.Second)
		if dropped := w.tp.DroppedPackets(t); dropped == 0 {
			t.Fatal("the lossy link dropped nothing: the test did not test anything")
		}
		w.tp.UnblockUDP(t)
	})
}

func TestJitteryUDPIsNotADeadPath(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{netns: true})
		w.waitPublishing()
		j := w.tp.JitterUDP(t, 300*time.Millisecond, 300*time.Millisecond)
		w.expectNoRecovery("300 ms UDP jitter", 60*time.Second, 1500*time.Millisecond)
		if j.Delayed() == 0 {
			t.Fatal("the jitter queue held no packet: the test did not test anything")
		}
		j.Stop()
	})
}

// expectNoRecovery lets the fault already installed run for d, then checks
// that no recovery started, the participant is the same and neither media
// kind stopped for longer than maxGap.
func (w *world) expectNoRecovery(fault string, d, maxGap time.Duration) {
	w.t.Helper()
	sid, n, from := w.participantSID(), w.messageCount(), time.Now()
	video, audio := w.gaps(from, d)
	report(w.t, fault+" (no recovery expected)", video, audio, w.participantSID() == sid)
	for _, m := range w.pipe.ElementMessages("golivekitsink-connection")[n:] {
		w.t.Errorf("%s started a recovery: %s", fault, m)
	}
	if got := w.participantSID(); got != sid {
		w.t.Errorf("participant %s -> %s under %s", sid, got, fault)
	}
	if video > maxGap || audio > maxGap {
		w.t.Errorf("media gap video %s audio %s under %s (not a dead path), want <= %s", video, audio, fault, maxGap)
	}
	w.logPathReports()
}

// logPathReports logs what the dead-path detector saw (session/deadpath.go):
// the RTCP from the SFU per 10 s and its longest gap while sending.
func (w *world) logPathReports() {
	b, err := os.ReadFile(w.pipe.DebugLogPath())
	if err != nil {
		return
	}
	for _, l := range strings.Split(string(b), "\n") {
		if i := strings.Index(l, "path: "); i >= 0 {
			w.t.Log(l[i:])
		}
	}
}
