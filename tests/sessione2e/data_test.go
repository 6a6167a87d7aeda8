package sessione2e

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// Data packets, participant updates and text streams of a session against
// real livekit-server versions, seen by a server-sdk-go participant.

// peerApp is another participant of the room (server-sdk-go, all grants):
// it keeps the data and text streams it receives.
type peerApp struct {
	room    *lksdk.Room
	mu      sync.Mutex
	data    []lksdk.UserDataPacket
	from    []string
	texts   []receivedText
	changed chan struct{}
}

type receivedText struct {
	from, text string
	info       lksdk.TextStreamInfo
}

func (p *peerApp) bump() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func joinPeer(t *testing.T, srv *harness.Server, room string) *peerApp {
	t.Helper()
	p := &peerApp{changed: make(chan struct{})}
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(d lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := d.(*lksdk.UserDataPacket); ok {
			p.mu.Lock()
			p.data = append(p.data, *u)
			p.from = append(p.from, params.SenderIdentity)
			p.bump()
			p.mu.Unlock()
		}
	}
	r, err := lksdk.ConnectToRoom(srv.URL(), lksdk.ConnectInfo{APIKey: srv.APIKey(), APISecret: srv.Secret(),
		RoomName: room, ParticipantIdentity: "peer-app"}, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("peer app join: %v", err)
	}
	t.Cleanup(r.Disconnect)
	p.room = r
	if err := r.RegisterTextStreamHandler(session.TopicTranscription, func(rd *lksdk.TextStreamReader, from string) {
		text := rd.ReadAll()
		p.mu.Lock()
		p.texts = append(p.texts, receivedText{from: from, text: text, info: rd.Info})
		p.bump()
		p.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFor waits until cond (called under p.mu) holds.
func (p *peerApp) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond): // participant info changes do not bump
		case <-deadline:
			t.Fatalf("peer app: no %s within %s", what, timeout)
		}
	}
}

// checkInOrder fails unless the peer received payloads 0…n-1 once each, in order.
func (p *peerApp) checkInOrder(t *testing.T, n int) {
	t.Helper()
	p.waitFor(t, fmt.Sprintf("%d data packets", n), 20*time.Second, func() bool { return len(p.data) >= n })
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, d := range p.data {
		if string(d.Payload) != strconv.Itoa(i) || p.from[i] != "pub" {
			t.Fatalf("packet %d is %q from %q (%d received): want 0…%d from pub once each, in order", i, d.Payload, p.from[i], len(p.data), n-1)
		}
	}
	if len(p.data) != n {
		t.Fatalf("%d packets received, want %d", len(p.data), n)
	}
}

// dataEvents adds OnData to events.
type dataEvents struct {
	*events
	mu   sync.Mutex
	msgs []session.DataMessage
	got  chan struct{}
}

func (d *dataEvents) OnData(m session.DataMessage) {
	d.mu.Lock()
	d.msgs = append(d.msgs, m)
	d.mu.Unlock()
	select {
	case d.got <- struct{}{}:
	default:
	}
}

// startThroughProxy starts a session publishing VP8 whose signalling goes
// through a SigProxy.
func startThroughProxy(t *testing.T, srv *harness.Server, room string, edit func(*session.Config)) (*session.Session, *dataEvents, *harness.SigProxy, *session.Track) {
	t.Helper()
	proxy := harness.NewSigProxy(t, srv.URL())
	ev := &dataEvents{events: newEvents(t), got: make(chan struct{}, 1)}
	cfg := session.Config{URL: proxy.URL(), APIKey: srv.APIKey(), APISecret: srv.Secret(), Room: room, Identity: "pub",
		Name: "publisher", Logger: testLogger{t}}
	if edit != nil {
		edit(&cfg)
	}
	s, tr := startPublisher(t, cfg, ev, rtp.CodecVP8)
	pump(t, tr)
	ev.waitState(0, 15*time.Second, isState(session.StateConnected))
	// Steady state first: a resume right after the join can find the
	// server's participant not resumable yet.
	time.Sleep(500 * time.Millisecond)
	return s, ev, proxy, tr
}

// publishUntilAccepted retries a packet the full recovery queue refused,
// as an application would; it returns how often it was refused.
func publishUntilAccepted(t *testing.T, s *session.Session, payload string) int {
	for full := 0; ; full++ {
		err := s.PublishData([]byte(payload), "seq", true, nil)
		if err == nil {
			return full
		}
		if !errors.Is(err, session.ErrDataQueueFull) || full > 2000 {
			t.Errorf("publishing %s: %v", payload, err)
			return full
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReliableDataAcrossALeaveResumeArrivesInOrder(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "data-resume"
		peer := joinPeer(t, srv, room)
		s, ev, proxy, _ := startThroughProxy(t, srv, room, nil)
		first, _ := ev.waitState(0, time.Second, isState(session.StateConnected))
		const n = 1000
		type result struct{ full, duringRecovery int }
		done := make(chan result)
		injected := make(chan struct{})
		go func() {
			var r result
			for i := range n {
				if i == 200 {
					close(injected)
				}
				r.full += publishUntilAccepted(t, s, strconv.Itoa(i))
				ev.mu.Lock()
				if ev.states[len(ev.states)-1].State != session.StateConnected {
					r.duringRecovery++
				}
				ev.mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
			done <- r
		}()
		<-injected
		from := ev.count()
		proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_SIGNAL_CLOSE, nil)
		ev.waitState(from, 5*time.Second, isState(session.StateResuming))
		back, _ := ev.waitState(from, 15*time.Second, isState(session.StateConnected))
		if back.ParticipantSID != first.ParticipantSID {
			t.Fatalf("the Leave RESUME changed the participant %s -> %s", first.ParticipantSID, back.ParticipantSID)
		}
		r := <-done
		if r.duringRecovery == 0 {
			t.Fatal("no packet was published while the session resumed")
		}
		peer.checkInOrder(t, n)
		t.Logf("%d packets in order; %d published while resuming, queue full %d times", n, r.duringRecovery, r.full)
	})
}

// A node failure: the server forgets the participant and the session
// joins as a new one. What waited, and what the old participant's SCTP
// had not acknowledged, is sent again by the new participant: every packet
// arrives; one whose acknowledgement was lost may arrive twice
// (docs/protocol.md, "Data packets").
func TestReliableDataAcrossAFullReconnectAllArrive(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "data-rejoin"
		peer := joinPeer(t, srv, room)
		s, ev, _, _ := startThroughProxy(t, srv, room, nil)
		first, _ := ev.waitState(0, time.Second, isState(session.StateConnected))
		const n = 1000
		done := make(chan int)
		failed := make(chan struct{})
		go func() {
			full := 0
			for i := range n {
				if i == 200 {
					close(failed)
				}
				full += publishUntilAccepted(t, s, strconv.Itoa(i))
				time.Sleep(2 * time.Millisecond)
			}
			done <- full
		}()
		<-failed
		from := ev.count()
		if err := s.Simulate("node-failure"); err != nil {
			t.Fatal(err)
		}
		back, _ := ev.waitState(from, 20*time.Second, isState(session.StateConnected))
		if back.ParticipantSID == first.ParticipantSID {
			t.Fatalf("node failure kept participant %s", back.ParticipantSID)
		}
		full := <-done
		seen := map[string]int{}
		peer.waitFor(t, "every packet", 20*time.Second, func() bool {
			clear(seen)
			for _, d := range peer.data {
				seen[string(d.Payload)]++
			}
			return len(seen) == n
		})
		dups := 0
		for _, c := range seen {
			dups += c - 1
		}
		t.Logf("%d packets all arrived across the full reconnect; %d twice; queue full %d times", n, dups, full)
	})
}

// The minted token has canSubscribe=false: the server sends others' data
// on the publisher peer connection's channels. A supplied token that may
// subscribe makes the subscriber peer connection primary: data comes there.
func TestDataFromAnotherParticipantReachesTheHandler(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		for _, canSubscribe := range []bool{false, true} {
			t.Run(fmt.Sprint("canSubscribe=", canSubscribe), func(t *testing.T) {
				room := fmt.Sprint("data-in-", canSubscribe)
				peer := joinPeer(t, srv, room)
				var edit func(*session.Config)
				if canSubscribe {
					g := &auth.VideoGrant{RoomJoin: true, Room: room}
					g.SetCanPublish(true)
					g.SetCanSubscribe(true)
					tok, err := auth.NewAccessToken(srv.APIKey(), srv.Secret()).SetVideoGrant(g).SetIdentity("pub").SetValidFor(time.Hour).ToJWT()
					if err != nil {
						t.Fatal(err)
					}
					edit = func(c *session.Config) { c.APIKey, c.APISecret, c.AuthToken = "", "", tok }
				}
				_, ev, _, _ := startThroughProxy(t, srv, room, edit)
				for _, reliable := range []bool{true, false} {
					payload := fmt.Sprint("reliable=", reliable)
					// Lossy packets may be lost: send until one arrives.
					deadline := time.Now().Add(10 * time.Second)
					for {
						if err := peer.room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte(payload)),
							lksdk.WithDataPublishTopic("ctl"), lksdk.WithDataPublishReliable(reliable)); err != nil {
							t.Fatal(err)
						}
						if ev.waitData(payload, time.Second) {
							break
						}
						if time.Now().After(deadline) {
							t.Fatalf("%s never reached the handler", payload)
						}
					}
				}
				ev.mu.Lock()
				defer ev.mu.Unlock()
				for _, m := range ev.msgs {
					if m.ParticipantIdentity != "peer-app" || m.Topic != "ctl" {
						t.Fatalf("message %+v, want it from peer-app on ctl", m)
					}
				}
			})
		}
	})
}

func (d *dataEvents) waitData(payload string, timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		d.mu.Lock()
		for _, m := range d.msgs {
			if string(m.Payload) == payload {
				d.mu.Unlock()
				return true
			}
		}
		d.mu.Unlock()
		select {
		case <-d.got:
		case <-deadline:
			return false
		}
	}
}

// A recovery that lasts: the queue takes 256 packets, refuses the next
// with an error (the session goes on), and delivers the 256 in order once
// back.
func TestDataQueueOverflowIsAnErrorAndTheQueueArrives(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "data-overflow"
		peer := joinPeer(t, srv, room)
		s, ev, proxy, _ := startThroughProxy(t, srv, room, nil)
		from := ev.count()
		proxy.RejectNext(503, 1000)
		proxy.ResetAll()
		ev.waitState(from, 5*time.Second, isState(session.StateResuming))
		for i := range 256 {
			if err := s.PublishData([]byte(strconv.Itoa(i)), "seq", true, nil); err != nil {
				t.Fatalf("packet %d while recovering: %v", i, err)
			}
		}
		err := s.PublishData([]byte("257"), "seq", true, nil)
		if !errors.Is(err, session.ErrDataQueueFull) {
			t.Fatalf("packet 257: %v, want ErrDataQueueFull", err)
		}
		if err := s.PublishData([]byte("lossy"), "seq", false, nil); !errors.Is(err, session.ErrDataDropped) {
			t.Fatalf("lossy while recovering: %v, want ErrDataDropped", err)
		}
		t.Logf("queue full: %v", err)
		proxy.RejectNext(0, 0)
		ev.waitState(from, 30*time.Second, isState(session.StateConnected))
		if err := ev.fatalErr(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
		peer.checkInOrder(t, 256)
	})
}

func TestNameMetadataAttributesReachTheRoomAndSurviveAFullReconnect(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "meta"
		peer := joinPeer(t, srv, room)
		// The join's values are in the minted token; floor is removed at
		// runtime, and must stay removed though every new token has it.
		s, ev, _, _ := startThroughProxy(t, srv, room, func(c *session.Config) {
			c.Metadata, c.Attributes = "at join", map[string]string{"kind": "encoder", "floor": "2"}
		})
		first, _ := ev.waitState(0, time.Second, isState(session.StateConnected))
		peer.waitFor(t, "the join's metadata and attributes", 10*time.Second, func() bool {
			rp := peer.room.GetParticipantByIdentity("pub")
			return rp != nil && rp.Name() == "publisher" && rp.Metadata() == "at join" && rp.Attributes()["floor"] == "2"
		})
		_ = s.SetName("Camera 1")
		_ = s.SetMetadata(`{"where":"hall"}`)
		_ = s.SetAttributes(map[string]string{"kind": "camera"})
		_ = s.SetAttributes(map[string]string{"floor": ""})
		seen := func(sid string) func() bool {
			return func() bool {
				rp := peer.room.GetParticipantByIdentity("pub")
				if rp == nil || rp.SID() != sid {
					return false
				}
				a := rp.Attributes()
				_, floor := a["floor"]
				return rp.Name() == "Camera 1" && rp.Metadata() == `{"where":"hall"}` && a["kind"] == "camera" && !floor
			}
		}
		peer.waitFor(t, "the new name, metadata and attributes", 10*time.Second, seen(first.ParticipantSID))
		from := ev.count()
		if err := s.Simulate("node-failure"); err != nil {
			t.Fatal(err)
		}
		back, _ := ev.waitState(from, 20*time.Second, isState(session.StateConnected))
		if back.ParticipantSID == first.ParticipantSID {
			t.Fatalf("node failure kept participant %s", back.ParticipantSID)
		}
		peer.waitFor(t, "them on the new participant", 10*time.Second, seen(back.ParticipantSID))
		if w := ev.warnings(); len(w) > 0 {
			t.Fatalf("warnings: %v", w)
		}
	})
}

func TestSuppliedTokenWithoutTheGrantWarnsNamingIt(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		g := &auth.VideoGrant{RoomJoin: true, Room: "meta-denied"}
		g.SetCanPublish(true)
		g.SetCanSubscribe(false)
		tok, err := auth.NewAccessToken(srv.APIKey(), srv.Secret()).SetVideoGrant(g).SetIdentity("pub").SetValidFor(time.Hour).ToJWT()
		if err != nil {
			t.Fatal(err)
		}
		s, ev, _, _ := startThroughProxy(t, srv, "meta-denied", func(c *session.Config) {
			c.APIKey, c.APISecret, c.Room, c.Identity, c.Name, c.AuthToken = "", "", "", "", "", tok
		})
		_ = s.SetMetadata("not allowed")
		deadline := time.Now().Add(10 * time.Second)
		for len(ev.warnings()) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		w := ev.warnings()
		if len(w) == 0 || !errors.Is(w[0], session.ErrMetadataNotAllowed) {
			t.Fatalf("warnings %v, want ErrMetadataNotAllowed", w)
		}
		t.Logf("warning: %v", w[0])
		if err := ev.fatalErr(); err != nil {
			t.Fatalf("session ended: %v", err)
		}
	})
}

func TestTranscriptionReachesATextStreamHandlerWithItsAttributes(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "captions"
		peer := joinPeer(t, srv, room)
		s, _, _, tr := startThroughProxy(t, srv, room, nil)
		if err := s.SendTranscription("bonjour à tous", "SG_1", false, tr, session.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := s.SendTranscription("bonjour à tous, bienvenue", "SG_1", true, tr, session.TextOptions{}); err != nil {
			t.Fatal(err)
		}
		peer.waitFor(t, "two transcription streams", 10*time.Second, func() bool { return len(peer.texts) >= 2 })
		peer.mu.Lock()
		defer peer.mu.Unlock()
		// Each stream has its own handler goroutine: match them by text.
		for _, want := range []struct{ text, final string }{{"bonjour à tous", "false"}, {"bonjour à tous, bienvenue", "true"}} {
			found := false
			for _, got := range peer.texts {
				if got.text != want.text {
					continue
				}
				found = true
				a := got.info.Attributes
				if got.from != "pub" || a[session.AttrSegmentID] != "SG_1" || a[session.AttrTranscriptionFinal] != want.final ||
					a[session.AttrTranscribedTrack] != tr.SID() || tr.SID() == "" || got.info.Topic != session.TopicTranscription {
					t.Fatalf("stream %q from %s on %s: %v, want final=%s for track %s", got.text, got.from, got.info.Topic, a, want.final, tr.SID())
				}
			}
			if !found {
				t.Fatalf("no stream %q among %d", want.text, len(peer.texts))
			}
		}
	})
}
