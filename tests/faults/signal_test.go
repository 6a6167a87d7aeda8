package faults

import (
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
)

// A signalling socket reset with the media path intact must not interrupt
// media at all: the resume needs no ICE restart.
func TestSignalResetKeepsMediaFlowing(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		resumeCase(t, v, "signal socket reset", 250*time.Millisecond, func(w *world) { w.proxy.ResetAll() })
	})
}

// Leave{RESUME} (what livekit-server sends when our transport fails, and
// what killed livekitwebrtcsink pipelines): resume at once, same participant.
func TestLeaveResume(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		resumeCase(t, v, "leave RESUME", time.Second, func(w *world) {
			w.proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_CONNECTION_TIMEOUT,
				&livekit.RegionSettings{Regions: []*livekit.RegionInfo{{Region: "here", Url: w.proxy.URL()}}})
		})
	})
}

// resumeCase breaks signalling with fault and checks the resume: same
// participant, a resume connection with SyncState, continuous sequence
// numbers, and a media gap of at most maxGap.
func resumeCase(t *testing.T, version, fault string, maxGap time.Duration, do func(w *world)) {
	w := newWorld(t, version, worldOptions{proxy: true})
	w.waitPublishing()
	sid := w.participantSID()
	n := w.messageCount()
	cut := time.Now()
	do(w)
	back := w.connectedAfter(n, 10*time.Second)
	video, audio := w.gaps(cut, 4*time.Second)
	report(t, fault, video, audio, back["participant-sid"] == sid)
	if back["participant-sid"] != sid {
		t.Errorf("participant SID changed %s -> %s: this must resume", sid, back["participant-sid"])
	}
	if video > maxGap || audio > maxGap {
		t.Errorf("media gap video %s audio %s, want <= %s", video, audio, maxGap)
	}
	assertResumed(t, w, sid)
	w.assertContinuousRTP(cut)
}

// Leave{RECONNECT}: a new participant publishes everything again; the first
// keyframe (asked for upstream) must reach the viewer within 2 s.
func TestLeaveReconnect(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{proxy: true})
		w.waitPublishing()
		sid := w.participantSID()
		n := w.messageCount()
		cut := time.Now()
		w.proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_STATE_MISMATCH, nil)
		back := w.connectedAfter(n, 10*time.Second)
		kgap := w.keyframeGap(cut, 10*time.Second)
		_, audio := w.gaps(cut, 4*time.Second)
		report(t, "leave RECONNECT", kgap, audio, back["participant-sid"] == sid)
		if back["participant-sid"] == sid {
			t.Errorf("participant SID kept (%s) after a full reconnect", sid)
		}
		if kgap > 2*time.Second {
			t.Errorf("no decodable video for %s (to the first keyframe), want <= 2s", kgap)
		}
		if audio > 2*time.Second {
			t.Errorf("audio gap %s, want <= 2s", audio)
		}
	})
}

// Leave{DISCONNECT} is the one leave that ends the pipeline, with the reason.
func TestLeaveDisconnectIsAnErrorWithTheReason(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{proxy: true})
		w.waitPublishing()
		w.proxy.InjectLeave(livekit.LeaveRequest_DISCONNECT, livekit.DisconnectReason_ROOM_DELETED, nil)
		w.pipe.Wait(15 * time.Second)
		errs := strings.Join(w.pipe.Errors(), "\n")
		if !strings.Contains(errs, "ROOM_DELETED") {
			t.Fatalf("want an ERROR naming ROOM_DELETED, got:\n%s", errs)
		}
		w.allowError = true // the ERROR is the expected outcome here
	})
}

// Pongs held back past the server's ping timeout: the element declares the
// socket dead and resumes; media keeps flowing meanwhile.
func TestPingTimeoutResumes(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{proxy: true})
		w.waitPublishing()
		sid := w.participantSID()
		n := w.messageCount()
		cut := time.Now()
		w.proxy.DropAll(true)
		resumed := w.stateAfter(n, "resuming", 30*time.Second)
		w.proxy.DropAll(false)
		back := w.connectedAfter(n, 15*time.Second)
		video, _ := w.gaps(cut, time.Since(cut)+time.Second)
		t.Logf("ping timeout noticed after %s (%s)", time.Since(cut).Round(time.Millisecond), resumed["reason"])
		report(t, "signal silent (ping timeout)", video, 0, back["participant-sid"] == sid)
		if back["participant-sid"] != sid {
			t.Errorf("participant SID changed %s -> %s", sid, back["participant-sid"])
		}
		if video > 250*time.Millisecond {
			t.Errorf("video gap %s while only signalling was silent, want <= 250ms", video)
		}
	})
}

// assertResumed checks the proxy saw a resume (reconnect=1 with our SID)
// followed by SyncState with a subscription (v1.9.11 crashes without one).
func assertResumed(t *testing.T, w *world, sid string) {
	t.Helper()
	found := false
	for _, c := range w.proxy.Connections() {
		if c.Reconnect && c.SID == sid {
			found = true
		}
	}
	if !found {
		t.Errorf("no resume connection (reconnect=1&sid=%s) seen by the proxy", sid)
	}
	for _, f := range w.proxy.Frames() {
		if f.Request != nil && f.Request.GetSyncState() != nil {
			if f.Request.GetSyncState().GetSubscription() == nil {
				t.Errorf("SyncState without subscription")
			}
			return
		}
	}
	t.Errorf("no SyncState sent on resume")
}

// A 401 on a (re)connect with api-key/secret-key: the element mints a fresh
// token once and goes on, without an ERROR.
func TestRefusedTokenIsMintedAgainOnce(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{proxy: true})
		w.waitPublishing()
		sid := w.participantSID()
		n := w.messageCount()
		w.proxy.RejectNext(401, 1)
		w.proxy.ResetAll()
		back := w.connectedAfter(n, 10*time.Second)
		if back["participant-sid"] != sid {
			t.Errorf("participant SID changed %s -> %s", sid, back["participant-sid"])
		}
		var rejected, accepted []string
		for _, c := range w.proxy.Connections() {
			if !c.Reconnect {
				continue
			}
			if c.RejectedStatus == 401 {
				rejected = append(rejected, c.Authorization)
			} else if len(rejected) > 0 {
				accepted = append(accepted, c.Authorization)
			}
		}
		if len(rejected) != 1 || len(accepted) == 0 || accepted[0] == rejected[0] {
			t.Errorf("want one refused resume, then one with a freshly minted token; refused %d, accepted after %d (same token: %v)",
				len(rejected), len(accepted), len(accepted) > 0 && len(rejected) > 0 && accepted[0] == rejected[0])
		}
	})
}
