package session

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// Recovery driven through the fake LiveKit server: what the session asks
// the server for (join, resume, which region) and what it tells the
// application, for every trigger of docs/livekit-signalling.md §3.

// checkOutcome asserts what follows a Leave whose outcome is want:
// connects before it were made, the session's states from index from.
func checkOutcome(t *testing.T, srv *signallertest.Server, w *watcher, want string, l *livekit.LeaveRequest,
	connects, from int, first StateChange) {
	t.Helper()
	switch want {
	case "end (ERROR)":
		err := w.waitFatal(t)
		var de *DisconnectError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), l.GetReason().String()) {
			t.Fatalf("ended with %v, want a DisconnectError naming %s", err, l.GetReason())
		}
		if n := len(srv.Connects()); n != connects {
			t.Fatalf("%d connects after the end, want %d", n, connects)
		}
	case "resume", "full reconnect":
		resume := want == "resume"
		c := srv.WaitConnects(connects+1, waitLong)[connects]
		if c.Reconnect != resume || resume && c.SID != first.ParticipantSID {
			t.Fatalf("%s: connect reconnect=%v sid=%q, participant was %s", want, c.Reconnect, c.SID, first.ParticipantSID)
		}
		back, _ := w.waitState(t, from, StateConnected)
		if same := back.ParticipantSID == first.ParticipantSID; same != resume {
			t.Fatalf("%s: participant %s → %s", want, first.ParticipantSID, back.ParticipantSID)
		}
		if err := w.fatalErr(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
	default:
		t.Fatalf("unknown outcome %q in the table", want)
	}
}

// Every row of the Leave policy on a working socket: the session resumes
// (same participant), reconnects (a new one) or ends, as the table says.
func TestLeaveOnALiveSocketFollowsThePolicyTable(t *testing.T) {
	for _, r := range readLeavePolicy(t) {
		t.Run(r.Name(), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			_, w, conn, first := connected(t, srv, nil)
			from := w.count()
			l := leaveOf(t, r)
			if err := conn.SendLeave(l); err != nil {
				t.Fatal(err)
			}
			checkOutcome(t, srv, w, r.Outcome, l, 1, from, first)
		})
	}
}

// Every row of the Leave policy as the server's first answer to a resume:
// the server no longer knows the participant, so what does not end is a
// full reconnect.
func TestLeaveAnsweringAResumeFollowsThePolicyTable(t *testing.T) {
	for _, r := range readLeavePolicy(t) {
		t.Run(r.Name(), func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			_, w, conn, first := connected(t, srv, nil)
			from := w.count()
			l := leaveOf(t, r)
			srv.Queue(signallertest.FirstLeave(l))
			conn.Drop()
			resume := srv.WaitConnects(2, waitLong)[1]
			if !resume.Reconnect || resume.SID != first.ParticipantSID {
				t.Fatalf("after a socket drop: reconnect=%v sid=%q, want a resume of %s", resume.Reconnect, resume.SID, first.ParticipantSID)
			}
			want := r.Outcome
			if want == "resume" {
				want = "full reconnect"
			}
			checkOutcome(t, srv, w, want, l, 2, from, first)
		})
	}
}

// A dropped socket is resumed (reconnect=1, the participant's sid, reason
// RR_SIGNAL_DISCONNECTED): the server keeps the participant and its track,
// the session tells it what it publishes (SyncState) and asks for nothing
// again.
func TestSocketDropResumesTheSameParticipant(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, _ := connected(t, srv, nil)
	if _, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Width: 320, Height: 240}); err != nil {
		t.Fatal(err)
	}
	published, from := w.waitState(t, 0, StateConnected)
	for published.TrackSIDs["video_0"] == "" {
		published, from = w.waitState(t, from, StateConnected)
	}
	conn.Drop()
	c := srv.WaitConnects(2, waitLong)[1]
	wantReason := strconv.Itoa(int(livekit.ReconnectReason_RR_SIGNAL_DISCONNECTED))
	if !c.Reconnect || c.SID != published.ParticipantSID || c.ReconnectReason != wantReason {
		t.Fatalf("after a drop: reconnect=%v sid=%q reason=%q, want a resume of %s for reason %s",
			c.Reconnect, c.SID, c.ReconnectReason, published.ParticipantSID, wantReason)
	}
	w.waitState(t, from, StateResuming)
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID != published.ParticipantSID || back.TrackSIDs["video_0"] != published.TrackSIDs["video_0"] {
		t.Fatalf("resumed as %s with tracks %v, was %s with %v", back.ParticipantSID, back.TrackSIDs,
			published.ParticipantSID, published.TrackSIDs)
	}
	sync := c.Conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetSyncState() != nil }).GetSyncState()
	if tracks := sync.GetPublishTracks(); len(tracks) != 1 || tracks[0].GetTrack().GetSid() != published.TrackSIDs["video_0"] {
		t.Fatalf("SyncState publishes %v, want the track %s", tracks, published.TrackSIDs["video_0"])
	}
	for _, r := range c.Conn.Requests() {
		if r.GetAddTrack() != nil {
			t.Fatalf("the resumed session asked to publish again: %v", r)
		}
	}
}

// An offer whose answer went down with the socket is made again after the
// resume, on the same participant. pion cannot roll a local offer back, so
// the session sends the pending offer again first (before, negotiating
// failed on "have-local-offer->SetLocal(offer)" and the resume became a
// full reconnect).
func TestAnOfferLostWithTheSocketIsMadeAgainAfterTheResume(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, first := connected(t, srv, nil)
	conn.HoldOffers(true)
	offers := func(c *signallertest.Conn) int {
		n := 0
		for _, r := range c.Requests() {
			if r.GetOffer() != nil {
				n++
			}
		}
		return n
	}
	before := offers(conn)
	if _, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Width: 320, Height: 240}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(waitLong); offers(conn) == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no offer for the new track within %s", waitLong)
		}
	}
	from := w.count()
	conn.Drop()
	c := srv.WaitConnects(2, waitLong)[1]
	if !c.Reconnect {
		t.Fatalf("after the drop: %+v, want a resume", c)
	}
	back, next := w.waitState(t, from, StateConnected)
	for back.TrackSIDs["video_0"] == "" {
		back, next = w.waitState(t, next, StateConnected)
	}
	if back.ParticipantSID != first.ParticipantSID {
		t.Fatalf("resumed as %s, was %s", back.ParticipantSID, first.ParticipantSID)
	}
	c.Conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetOffer() != nil })
	for deadline := time.Now().Add(waitLong); ; time.Sleep(10 * time.Millisecond) {
		var st webrtc.SignalingState
		if err := s.call(func(s *Session) error { st = s.pc.pc.SignalingState(); return nil }); err != nil {
			t.Fatal(err)
		}
		if st == webrtc.SignalingStateStable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the publisher is %s %s after the resume, want stable", st, waitLong)
		}
	}
	if n := len(srv.Connects()); n != 2 {
		t.Fatalf("%d connects, want 2 (the join and one resume)", n)
	}
}

// A resume the server refuses three times becomes a full reconnect: a new
// participant.
func TestResumeRefusedThreeTimesBecomesAFullReconnect(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	_, w, conn, first := connected(t, srv, nil)
	from := w.count()
	refused := signallertest.Refuse(http.StatusServiceUnavailable, "node draining")
	srv.Queue(refused, refused, refused)
	conn.Drop()
	connects := srv.WaitConnects(5, waitLong)
	for i, c := range connects[1:4] {
		if !c.Reconnect || c.SID != first.ParticipantSID {
			t.Fatalf("attempt %d: reconnect=%v sid=%q, want a resume of %s", i+1, c.Reconnect, c.SID, first.ParticipantSID)
		}
	}
	if connects[4].Reconnect {
		t.Fatal("the fourth attempt is a resume again, want a full reconnect")
	}
	w.waitState(t, from, StateReconnecting)
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID == first.ParticipantSID || back.ParticipantSID != connects[4].Conn.Participant() {
		t.Fatalf("connected as %s, want the new participant %s", back.ParticipantSID, connects[4].Conn.Participant())
	}
}

// A server that no longer knows the participant answers the resume with
// Leave{RECONNECT, STATE_MISMATCH}, as livekit-server does: the session
// joins again at once.
func TestResumeAnsweredWithLeaveBecomesAFullReconnect(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	_, w, conn, first := connected(t, srv, nil)
	from := w.count()
	srv.Forget(first.ParticipantSID)
	conn.Drop()
	connects := srv.WaitConnects(3, waitLong)
	if !connects[1].Reconnect || connects[1].Answer.First.GetLeave() != nil || connects[2].Reconnect {
		t.Fatalf("want a resume then a fresh join: %+v %+v", connects[1], connects[2])
	}
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID == first.ParticipantSID {
		t.Fatalf("still participant %s after a full reconnect", back.ParticipantSID)
	}
}

// A refused token (401) is replaced by a freshly minted one once; refused
// again, the session ends with an AuthError. A fixed token is not retried.
func TestUnauthorizedMintsAFreshTokenOnceThenEnds(t *testing.T) {
	for _, c := range []struct {
		name     string
		fixed    bool
		refusals int
		connects int
		ends     bool
	}{
		{"refused twice", false, 2, 2, true},
		{"refused once", false, 1, 2, false},
		{"fixed token", true, 1, 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t, signallertest.Options{})
			for range c.refusals {
				srv.Queue(signallertest.Refuse(http.StatusUnauthorized, "invalid token: token is expired"))
			}
			_, w := startSession(t, srv.URL(), func(cfg *Config) {
				if c.fixed {
					cfg.AuthToken = "a-fixed-token"
				}
			})
			if !c.ends {
				w.waitState(t, 0, StateConnected)
				if n := len(srv.Connects()); n != c.connects {
					t.Fatalf("%d connects, want %d", n, c.connects)
				}
				return
			}
			err := w.waitFatal(t)
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || !strings.Contains(err.Error(), "token is expired") {
				t.Fatalf("ended with %v, want an AuthError 401 with the server's reason", err)
			}
			if n := len(srv.Connects()); n != c.connects {
				t.Fatalf("%d connects, want %d", n, c.connects)
			}
			for _, cn := range srv.Connects() {
				if cn.AccessTokenInQuery || !strings.HasPrefix(cn.Authorization, "Bearer ") {
					t.Fatalf("token not sent as a header: %+v", cn)
				}
			}
		})
	}
}

// With region failover, a full reconnect goes through the list the server
// serves at /settings/regions: a region that refuses is skipped for the
// next one.
func TestFullReconnectFailsOverToTheNextRegion(t *testing.T) {
	home := newFake(t, signallertest.Options{})
	down := newFake(t, signallertest.Options{})
	next := newFake(t, signallertest.Options{})
	down.SetDefault(signallertest.Refuse(http.StatusServiceUnavailable, "region down"))
	home.SetRegions(&livekit.RegionSettings{Regions: []*livekit.RegionInfo{
		{Region: "down", Url: down.URL()}, {Region: "next", Url: next.URL()}}})
	_, w, conn, first := connected(t, home, func(cfg *Config) { cfg.RegionFailover = true })
	from := w.count()
	home.WaitRegionRequests(1, waitLong)
	// The home server goes away: its resume is refused, the session moves on.
	home.SetDefault(signallertest.Refuse(http.StatusServiceUnavailable, "shutting down"))
	conn.Drop()
	back, _ := w.waitState(t, from, StateConnected)
	if back.URL != signaller.NormalizeURL(next.URL()) || back.ParticipantSID == first.ParticipantSID {
		t.Fatalf("connected to %s as %s, want region next (%s) as a new participant", back.URL, back.ParticipantSID, next.URL())
	}
	tried := down.Connects()
	if len(tried) == 0 || tried[0].Reconnect {
		t.Fatalf("region down was not tried with a join before region next: %+v", tried)
	}
	if !tried[len(tried)-1].At.Before(next.Connects()[0].At) {
		t.Fatal("region next was tried before region down")
	}
}

// Nothing received for the ping timeout: the socket counts as dead and the
// session resumes.
func TestPingTimeoutResumes(t *testing.T) {
	srv := newFake(t, signallertest.Options{PingInterval: 1, PingTimeout: 2})
	_, w, conn, first := connected(t, srv, func(cfg *Config) { cfg.Dial = dialScaledPings })
	from := w.count()
	conn.SetMute(true)
	c := srv.WaitConnects(2, waitLong)[1]
	if !c.Reconnect || c.SID != first.ParticipantSID {
		t.Fatalf("after a ping timeout: reconnect=%v sid=%q, want a resume of %s", c.Reconnect, c.SID, first.ParticipantSID)
	}
	if conn.Pings() == 0 {
		t.Fatal("no pings before the timeout")
	}
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID != first.ParticipantSID {
		t.Fatalf("resumed as %s, was %s", back.ParticipantSID, first.ParticipantSID)
	}
}
