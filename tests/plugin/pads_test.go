package plugin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
)

// Pads are requested and released in every state: NULL, READY, PAUSED,
// PLAYING while connected, and PLAYING while the fake has dropped the
// socket and refuses the element's way back (recovering). A released
// pad's track is no longer sent (the newest offer, or the AddTracks of a
// new join, leave it out); the other pads keep sending.
func TestPadsInEveryState(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, ""))

	requestRelease := func(id, kind, branch, wantPad string) {
		t.Helper()
		if got := h.do("branch "+id+" "+kind+" "+branch, "BRANCH "+id+" ", 10*time.Second); got != wantPad {
			t.Fatalf("branch %s got pad %s, want %s", id, got, wantPad)
		}
		rel := h.do("release "+id, "RELEASED "+id+" ", 10*time.Second)
		if !strings.HasPrefix(rel, wantPad+" ") || strings.Contains(rel, wantPad+",") || strings.HasSuffix(rel, ","+wantPad) {
			t.Fatalf("release %s: %s, want %s gone", id, rel, wantPad)
		}
	}

	// NULL and READY: no session yet.
	requestRelease("n0", "video", h264Branch, "video_0")
	h.do("branch n1 video "+h264Branch, "BRANCH n1 video_1", 10*time.Second)
	h.setState("READY")
	requestRelease("r0", "audio", opusBranch, "audio_0")
	h.do("branch r1 audio "+opusBranch, "BRANCH r1 audio_1", 10*time.Second)
	// PAUSED: the session connects; live sources send nothing yet.
	h.setState("PAUSED")
	requestRelease("p0", "video", h264Branch, "video_2")
	h.do("branch p1 audio "+opusBranch, "BRANCH p1 audio_2", 10*time.Second)

	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "video_1", "audio_1", "audio_2")
	waitOffered(t, srv, 10*time.Second, "video_1", "audio_1", "audio_2")
	if got := addTracks(srv); len(got) != 3 {
		t.Errorf("AddTracks for %v, want only video_1, audio_1, audio_2 (released pads never published)", got)
	}

	// PLAYING, connected: a new pad is published, released, unpublished.
	h.do("branch c0 video "+h264Branch, "BRANCH c0 video_3", 10*time.Second)
	waitOffered(t, srv, 15*time.Second, "video_1", "video_3", "audio_1", "audio_2")
	requestRelease2 := h.do("release c0", "RELEASED c0 ", 10*time.Second)
	if !strings.HasPrefix(requestRelease2, "video_3 ") {
		t.Fatalf("release c0: %s", requestRelease2)
	}
	waitOffered(t, srv, 10*time.Second, "video_1", "audio_1", "audio_2")
	assertSending(t, h, "video_1", "audio_1", "audio_2")

	// PLAYING, recovering: the socket drops and every way back is refused
	// until the pads have changed.
	connects := len(srv.Connects())
	srv.SetDefault(signallertest.Refuse(http.StatusServiceUnavailable, "down for the test"))
	liveConn(srv).Drop()
	srv.WaitConnects(connects+1, 10*time.Second)
	if st := h.stats()["state"]; st == "connected" {
		t.Fatalf("state %s after the socket dropped and the server refused", st)
	}
	h.do("branch x0 audio "+opusBranch, "BRANCH x0 audio_3", 10*time.Second)
	requestRelease("x1", "video", h264Branch, "video_4")
	if rel := h.do("release r1", "RELEASED r1 ", 10*time.Second); !strings.HasPrefix(rel, "audio_1 ") {
		t.Fatalf("release r1: %s", rel)
	}
	after := h.count()
	srv.SetDefault(signallertest.Answer{})
	h.waitConnected(after, 30*time.Second, "video_1", "audio_2", "audio_3")
	waitOffered(t, srv, 15*time.Second, "video_1", "audio_2", "audio_3")
	assertSending(t, h, "video_1", "audio_2", "audio_3")
	if _, ok := h.stats()["audio_1"]; ok {
		t.Errorf("stats still list the released audio_1")
	}
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}

// assertSending checks that each pad's track sends: its packets-sent grows
// within 3 s.
func assertSending(t *testing.T, h *host, pads ...string) {
	t.Helper()
	before := h.stats()
	deadline := time.Now().Add(3 * time.Second)
	left := map[string]bool{}
	for _, p := range pads {
		if packetsSent(before, p) < 0 {
			t.Errorf("%s has no track in stats: %v", p, before)
			continue
		}
		left[p] = true
	}
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		now := h.stats()
		for p := range left {
			if packetsSent(now, p) > packetsSent(before, p) {
				delete(left, p)
			}
		}
	}
	for p := range left {
		t.Errorf("%s sent no packet in 3 s (packets-sent %d)", p, packetsSent(before, p))
	}
}
