package plugin

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// The element as a full participant against real livekit-server versions
// (data packets, name/metadata/attributes), commanded through host.py as
// an application does, seen by a server-sdk-go participant.

// roomPeer is another participant of the room (server-sdk-go, all grants).
type roomPeer struct {
	room *lksdk.Room
	mu   sync.Mutex
	data []lksdk.UserDataPacket
	from []string
}

func joinRoomPeer(t *testing.T, srv *harness.Server, room string) *roomPeer {
	t.Helper()
	p := &roomPeer{}
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(d lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, ok := d.(*lksdk.UserDataPacket); ok {
			p.mu.Lock()
			p.data = append(p.data, *u)
			p.from = append(p.from, params.SenderIdentity)
			p.mu.Unlock()
		}
	}
	r, err := lksdk.ConnectToRoom(srv.URL(), lksdk.ConnectInfo{APIKey: srv.APIKey(), APISecret: srv.Secret(),
		RoomName: room, ParticipantIdentity: "peer-app"}, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("peer join: %v", err)
	}
	t.Cleanup(r.Disconnect)
	p.room = r
	return p
}

// waitFor polls cond (under p.mu) until it holds.
func (p *roomPeer) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(50 * time.Millisecond) {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer: no %s within %s", what, timeout)
		}
	}
}

// checkInOrder fails unless the peer received payloads 0…n-1 on topic
// from pub once each, in order.
func (p *roomPeer) checkInOrder(t *testing.T, topic string, n int) {
	t.Helper()
	var got []string
	p.waitFor(t, fmt.Sprintf("%d packets on %s", n, topic), 20*time.Second, func() bool {
		got = got[:0]
		for i, d := range p.data {
			if d.Topic == topic && p.from[i] == "pub" {
				got = append(got, string(d.Payload))
			}
		}
		return len(got) >= n
	})
	time.Sleep(500 * time.Millisecond) // duplicates would come right after
	p.mu.Lock()
	defer p.mu.Unlock()
	got = got[:0]
	for i, d := range p.data {
		if d.Topic == topic && p.from[i] == "pub" {
			got = append(got, string(d.Payload))
		}
	}
	for i, g := range got {
		if g != strconv.Itoa(i) {
			t.Fatalf("packet %d is %q (%d received): want 0…%d once each, in order", i, g, len(got), n-1)
		}
	}
	if len(got) != n {
		t.Fatalf("%d packets received, want %d", len(got), n)
	}
}

func forEachVersion(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}

// participantHost runs an element publishing Opus to srv through a
// SigProxy, with extra element settings, and waits until it is connected.
func participantHost(t *testing.T, srv *harness.Server, room, extra string) (*host, *harness.SigProxy) {
	t.Helper()
	proxy := harness.NewSigProxy(t, srv.URL())
	h := startHost(t, fmt.Sprintf("golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s "+
		"signaller::secret-key=%s signaller::room-name=%s signaller::identity=pub %s",
		proxy.URL(), srv.APIKey(), srv.Secret(), room, extra))
	h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "audio_0")
	// Steady state first: a resume right after the join can find the
	// server's participant not resumable yet.
	time.Sleep(500 * time.Millisecond)
	return h, proxy
}

// publish-data reaches another participant, reliable and lossy; data that
// participant sends raises data-received; across a Leave RESUME 1000
// reliable packets all arrive in order.
func TestPublishDataAndDataReceived(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "plugin-data"
		peer := joinRoomPeer(t, srv, room)
		h, proxy := participantHost(t, srv, room, "")

		if got := h.do("data ctl reliable hello-reliable", "DATA ", 10*time.Second); got != "True" {
			t.Fatalf("publish-data reliable returned %s", got)
		}
		peer.waitFor(t, "the reliable packet", 10*time.Second, func() bool {
			return len(peer.data) > 0 && string(peer.data[0].Payload) == "hello-reliable" && peer.data[0].Topic == "ctl"
		})
		// Lossy packets can be lost: send until one arrives.
		lossyArrived := func() bool {
			peer.mu.Lock()
			defer peer.mu.Unlock()
			for _, d := range peer.data {
				if string(d.Payload) == "hello-lossy" && d.Topic == "lossy" {
					return true
				}
			}
			return false
		}
		for i := 0; !lossyArrived(); i++ {
			if i == 50 {
				t.Fatal("no lossy packet arrived of 50 sent")
			}
			h.do("data lossy lossy hello-lossy", "DATA ", 10*time.Second)
			time.Sleep(100 * time.Millisecond)
		}

		n := h.count()
		if err := peer.room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("from-peer")),
			lksdk.WithDataPublishTopic("cmd"), lksdk.WithDataPublishReliable(true)); err != nil {
			t.Fatal(err)
		}
		if got, ok := h.waitLine("RECEIVED ", n, 10*time.Second); !ok || got != "peer-app cmd from-peer" {
			t.Fatalf("data-received: %q (%v), want \"peer-app cmd from-peer\"\n%s", got, ok, tail(h.output(), 20))
		}

		// 1000 packets with a Leave RESUME in the middle of them.
		n = h.count()
		h.send("burst 500 seq retry")
		proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_SIGNAL_CLOSE, nil)
		h.send("burst 500 seq2 retry")
		for _, l := range h.waitLines(t, "BURST ", n, 2, 60*time.Second) {
			if !strings.HasPrefix(l, "queued=500 ") {
				t.Fatalf("burst: %s", l)
			}
			t.Logf("burst across the resume: %s", l)
		}
		peer.checkInOrder(t, "seq", 500)
		peer.checkInOrder(t, "seq2", 500)
		if errs := h.errors(); len(errs) > 0 {
			t.Fatalf("ERRORs: %v", errs)
		}
	})
}

// While the element cannot reach the server, the recovery queue takes 256
// reliable packets and refuses the next with a WARNING (no ERROR); once
// back, the 256 arrive in order.
func TestDataQueueOverflowIsAWarning(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "plugin-data-overflow"
		peer := joinRoomPeer(t, srv, room)
		h, proxy := participantHost(t, srv, room, "")
		n := h.count()
		proxy.RejectNext(503, 1000)
		proxy.ResetAll()
		waitMsg(t, h, n, "state=(string)resuming", 10*time.Second)
		if got := h.do("burst 300 seq once", "BURST ", 10*time.Second); got != "queued=256 first-refused=256 refusals=44" {
			t.Fatalf("burst while recovering: %s, want 256 queued", got)
		}
		if w := h.linesWith("WARNING ", n); len(w) == 0 || !strings.Contains(strings.Join(w, "\n"), "publish-data: data queue full") {
			t.Fatalf("no WARNING naming the full queue: %v", w)
		}
		proxy.RejectNext(0, 0)
		h.waitConnected(n, 30*time.Second, "audio_0")
		peer.checkInOrder(t, "seq", 256)
		if errs := h.errors(); len(errs) > 0 {
			t.Fatalf("ERRORs: %v", errs)
		}
	})
}

// signaller::participant-name, -metadata and -attributes: their values at
// start reach the room; changed in PLAYING they reach it too (a removed
// attribute is removed), and stay after a full reconnect (a new participant).
func TestParticipantPropertiesInPlayingSurviveAFullReconnect(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		room := "plugin-meta"
		peer := joinRoomPeer(t, srv, room)
		h, proxy := participantHost(t, srv, room, `signaller::participant-name=publisher signaller::participant-metadata="at join" `+
			`signaller::participant-attributes="attrs,kind=encoder,floor=2"`)
		first := h.waitConnected(0, time.Second, "audio_0")["participant-sid"]
		peer.waitFor(t, "the join's name, metadata and attributes", 10*time.Second, func() bool {
			rp := peer.room.GetParticipantByIdentity("pub")
			return rp != nil && rp.Name() == "publisher" && rp.Metadata() == "at join" && rp.Attributes()["floor"] == "2"
		})
		h.do("sprop participant-name Camera 1", "SPROP", 5*time.Second)
		h.do(`sprop participant-metadata {"where":"hall"}`, "SPROP", 5*time.Second)
		h.do("sprop participant-attributes attrs, kind=(string)camera", "SPROP", 5*time.Second)
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
		peer.waitFor(t, "the new name, metadata and attributes", 10*time.Second, seen(first))
		n := h.count()
		proxy.InjectLeave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_SIGNAL_CLOSE, nil)
		back := h.waitConnectedAs(t, n, first, 30*time.Second)
		peer.waitFor(t, "them on the new participant "+back, 10*time.Second, seen(back))
		if w := h.linesWith("WARNING ", 0); len(w) > 0 {
			t.Fatalf("WARNINGs: %v", w)
		}
	})
}

// waitMsg waits for a connection message containing sub after line after.
func waitMsg(t *testing.T, h *host, after int, sub string, timeout time.Duration) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range h.linesWith("MSG ", after) {
			if strings.Contains(m, sub) {
				return
			}
		}
	}
	t.Fatalf("no connection message with %s within %s:\n%s", sub, timeout, tail(h.output(), 30))
}

// waitConnectedAs waits for a connected message whose participant is not
// old, and returns its participant SID.
func (h *host) waitConnectedAs(t *testing.T, after int, old string, timeout time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range h.linesWith("MSG ", after) {
			f := harness.ParseStructure(m)
			if f["state"] == "connected" && f["participant-sid"] != "" && f["participant-sid"] != old {
				return f["participant-sid"]
			}
		}
	}
	t.Fatalf("no connected message with a new participant within %s:\n%s", timeout, tail(h.output(), 30))
	return ""
}

// waitLines waits for k lines with prefix after line after.
func (h *host) waitLines(t *testing.T, prefix string, after, k int, timeout time.Duration) []string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if l := h.linesWith(prefix, after); len(l) >= k {
			return l[:k]
		}
	}
	t.Fatalf("fewer than %d %q lines within %s:\n%s", k, prefix, timeout, tail(h.output(), 30))
	return nil
}

// With e2ee-shared-key, a codec end-to-end encryption cannot carry (AV1)
// is an ERROR naming the pad, the codec and the property; nothing is
// published unencrypted.
func TestE2EERefusesAV1NamingIt(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, "e2ee-shared-key=not-logged-4711"))
	h.do("branch v video videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "+
		"av1enc usage-profile=realtime cpu-used=10 ! av1parse", "BRANCH v video_0", 10*time.Second)
	h.setState("PLAYING")
	got, ok := h.waitLine("ERROR ", 0, 30*time.Second)
	if !ok {
		t.Fatalf("no ERROR:\n%s", tail(h.output(), 30))
	}
	for _, want := range []string{"video_0", "AV1", "e2ee-shared-key"} {
		if !strings.Contains(strings.ToUpper(got), strings.ToUpper(want)) {
			t.Errorf("ERROR %q does not name %s", got, want)
		}
	}
	if packetsSent(h.stats(), "video_0") > 0 {
		t.Errorf("video_0 sent packets: %v", h.stats())
	}
	if log := h.debugLog(); strings.Contains(log, "not-logged-4711") {
		t.Errorf("the debug log shows the shared key")
	}
}

// With an auth-token that lacks canUpdateOwnMetadata, a participant
// property changed in PLAYING is a WARNING naming the grant; publishing
// goes on.
func TestParticipantChangeWithoutTheGrantWarns(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		g := &auth.VideoGrant{RoomJoin: true, Room: "plugin-meta-denied"}
		g.SetCanPublish(true)
		g.SetCanSubscribe(false)
		tok, err := auth.NewAccessToken(srv.APIKey(), srv.Secret()).SetVideoGrant(g).SetIdentity("pub").SetValidFor(time.Hour).ToJWT()
		if err != nil {
			t.Fatal(err)
		}
		h := startHost(t, fmt.Sprintf("golivekitsink name=lk signaller::ws-url=%s signaller::auth-token=%s", srv.URL(), tok))
		h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
		h.setState("PLAYING")
		h.waitConnected(0, 20*time.Second, "audio_0")
		n := h.count()
		h.do("sprop participant-metadata not allowed", "SPROP", 5*time.Second)
		got, ok := h.waitLine("WARNING ", n, 10*time.Second)
		if !ok || !strings.Contains(got, "canUpdateOwnMetadata") || !strings.HasPrefix(got, "resource not-authorized") {
			t.Fatalf("WARNING %q (%v), want resource not-authorized naming canUpdateOwnMetadata", got, ok)
		}
		t.Logf("WARNING %s", got)
		assertSending(t, h, "audio_0")
		if errs := h.errors(); len(errs) > 0 {
			t.Fatalf("ERRORs: %v", errs)
		}
	})
}
