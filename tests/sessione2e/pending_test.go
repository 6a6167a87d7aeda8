package sessione2e

import (
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// A pad that appears while the connection is up sends an AddTrackRequest;
// if the socket dies before its TrackPublished reaches us, the answer is
// gone for good (the server does not repeat it on resume). The resume must
// still publish the track, not leave it to time out.
func TestTrackPublishedLostWithTheSocketIsPublishedAfterResume(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		var proxy *harness.SigProxy
		w := publish(t, v, func(c *session.Config) {
			proxy = harness.NewSigProxy(t, c.URL)
			c.URL = proxy.URL()
		})
		w.waitMedia(t)
		first, _ := w.ev.waitState(0, time.Second, isState(session.StateConnected))

		proxy.ResetOnNext("track_published")
		added := time.Now()
		tr, err := w.s.AddTrack(session.TrackSpec{Name: "video_1", Codec: rtp.CodecVP8, Width: 320, Height: 240})
		if err != nil {
			t.Fatal(err)
		}
		pump(t, tr)

		deadline := time.Now().Add(5 * time.Second)
		for tr.SID() == "" || packetsOf(w.sub, tr.SID()) < 30 {
			if time.Now().After(deadline) {
				t.Fatalf("video_1 (sid %q) not received within 5s of AddTrack: %d packets; warnings %v",
					tr.SID(), packetsOf(w.sub, tr.SID()), w.ev.warnings())
			}
			time.Sleep(50 * time.Millisecond)
		}
		dropped := 0
		for _, f := range proxy.Frames() {
			if f.Dropped && f.Kind == "track_published" {
				dropped++
			}
		}
		if dropped != 1 {
			t.Fatalf("the proxy swallowed %d TrackPublished, want 1: the fault did not happen", dropped)
		}
		for _, sid := range w.sub.ParticipantSIDs(w.id) {
			if sid != first.ParticipantSID {
				t.Fatalf("participant %s replaced by %s: a resume must keep it", first.ParticipantSID, sid)
			}
		}
		if ws := w.ev.warnings(); len(ws) > 0 {
			t.Fatalf("warnings: %v", ws)
		}
		t.Logf("video_1 published as %s and received %s after AddTrack", tr.SID(), time.Since(added).Round(time.Millisecond))
	})
}

// packetsOf counts the packets the subscriber got on the track with sid.
func packetsOf(sub *harness.Subscriber, sid string) int {
	n := 0
	for _, rt := range sub.Tracks() {
		if sid != "" && rt.TrackSID == sid {
			n += len(rt.Packets)
		}
	}
	return n
}
