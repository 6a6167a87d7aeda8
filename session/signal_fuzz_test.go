package session

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// FuzzSignal feeds arbitrary server messages (bytes -> proto.Unmarshal ->
// SignalResponse) to the session goroutine's handling in each phase where
// the server talks to us:
//
//	mode&3 0, join:        the first frame of the join dial (onDialed), then m1, m2 (onSignal)
//	mode&3 1, connected:   a real join and answer (connect), then first, m1, m2 (onSignal)
//	mode&3 2, 3, resume:   connect, a resume, the resume dial's first frame, then m1, m2
//
// with mode&4 firing the session's timer an hour later at the end. The test
// goroutine plays the session goroutine (run): it calls handle for each
// event, exactly as run does, and between steps checks the state is
// consistent. The signalling socket is a real one to a loopback websocket
// endpoint that answers each dial with the first frame given; pion runs on a
// virtual network (no packet leaves the process, whatever ICE servers and
// candidates the messages carry). Each step must return within stepLimit,
// and Close must leave no goroutine behind.
//
//	go test -run=^$ -fuzz=^FuzzSignal$ -fuzztime=30s ./session/
func FuzzSignal(f *testing.F) {
	srv := newFirstFrameServer()
	f.Cleanup(srv.close)
	seeds := newSignalSeeds(f)
	join := marshal(f, seeds.join)
	answer := marshal(f, seeds.answer)
	reconnect := marshal(f, &livekit.SignalResponse{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{
		IceServers:          []*livekit.ICEServer{{Urls: []string{"stun:127.0.0.1:3478"}}},
		ClientConfiguration: &livekit.ClientConfiguration{ResumeConnection: livekit.ClientConfigSetting_ENABLED},
	}}})
	none := []byte{} // an empty SignalResponse: handled as a message with no content
	f.Add(uint8(0), join, none, none)
	f.Add(uint8(4), join, none, none)
	f.Add(uint8(2), reconnect, none, none)
	f.Add(uint8(6), reconnect, none, none)
	f.Add(uint8(2), none, none, none)      // an old server answers a resume without ReconnectResponse
	f.Add(uint8(0), reconnect, none, none) // a join answered as if it were a resume
	for _, m := range seeds.messages {
		b := marshal(f, m)
		f.Add(uint8(0), join, b, none)
		f.Add(uint8(1), b, none, none)
		f.Add(uint8(2), reconnect, b, none)
	}
	// The answer to the join's offer, then a track published (a transceiver, a new offer).
	f.Add(uint8(0), join, answer, marshal(f, seeds.published[0]))
	f.Add(uint8(1), marshal(f, seeds.published[0]), marshal(f, seeds.published[1]), answer)
	f.Add(uint8(2), marshal(f, seeds.published[0]), answer, none) // first frame other than ReconnectResponse
	f.Add(uint8(1), marshal(f, seeds.published[0]), marshal(f, seeds.mute), none)

	f.Fuzz(func(t *testing.T, mode uint8, first, m1, m2 []byte) {
		w := newSignalWorld(t, srv, seeds.net)
		switch mode & 3 {
		case 0:
			w.dial(first)
			w.signal(m1)
			w.signal(m2)
		case 1:
			w.connect(join, answer)
			w.signal(first)
			w.signal(m1)
			w.signal(m2)
		default: // 2 and 3
			w.connect(join, answer)
			w.step("resume", func() {
				w.s.fire(happening{tr: trSocketLost, reason: "fuzz", rr: livekit.ReconnectReason_RR_SIGNAL_DISCONNECTED})
			})
			w.dial(first)
			w.signal(m1)
			w.signal(m2)
		}
		if mode&4 != 0 {
			w.srv.queue(join) // in case the timer starts a new attempt
			w.step("timer", func() { w.s.onTimer(time.Now().Add(time.Hour)) })
			w.settle()
		}
		w.close()
	})
}

const (
	stepLimit = 5 * time.Second // one step of the session goroutine, or Close
	dialLimit = 5 * time.Second // a dial to the loopback endpoint
)

// signalWorld is one session driven by the test goroutine.
type signalWorld struct {
	t          *testing.T
	srv        *firstFrameServer
	s          *Session
	rec        *recorder
	goroutines int // before the session existed
	begun      bool
}

func newSignalWorld(t *testing.T, srv *firstFrameServer, pionNet *vnet.Net) *signalWorld {
	srv.reset()
	w := &signalWorld{t: t, srv: srv, rec: newRecorder(), goroutines: runtime.NumGoroutine()}
	s, err := New(Config{URL: srv.url, APIKey: "k", APISecret: "secret", Room: "r", Identity: "i",
		PublishTimeout: time.Second, pionNet: pionNet}, w.rec)
	if err != nil {
		t.Fatal(err)
	}
	w.s = s
	// Fixed cids, so that the fuzzer can name the tracks (TrackPublished, RequestResponse).
	for _, spec := range []TrackSpec{{Name: "video", Codec: rtp.CodecVP8, Width: 640, Height: 360}, {Name: "audio", Codec: rtp.CodecOpus, Channels: 2}} {
		tr, err := newTrack(s, spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.setCID("TR_" + spec.Name); err != nil {
			t.Fatal(err)
		}
		w.step("add track", func() { s.onAddTrack(tr) })
	}
	w.step("begin", func() { s.begin(); w.begun = true })
	return w
}

// step runs f as the session goroutine would: alone, and in bounded time.
func (w *signalWorld) step(name string, f func()) {
	w.t.Helper()
	done := make(chan any, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
			close(done)
		}()
		f()
		w.drain()
	}()
	select {
	case r := <-done:
		if r != nil {
			w.t.Fatalf("%s: panic: %v", name, r)
		}
	case <-time.After(stepLimit):
		w.t.Fatalf("%s: the session goroutine is blocked after %s:\n%s", name, stepLimit, allStacks())
	}
	w.checkConsistent(name)
}

// drain handles the events already posted (pion callbacks, socket close).
func (w *signalWorld) drain() {
	for {
		select {
		case ev := <-w.s.events:
			w.s.handle(ev)
		default:
			return
		}
	}
}

// settle lets a dial in flight finish, as run would by waiting for evDialed.
func (w *signalWorld) settle() {
	w.t.Helper()
	deadline := time.Now().Add(dialLimit)
	for w.s.phase == phaseDialing {
		var ev event
		select {
		case ev = <-w.s.events:
		case <-time.After(time.Until(deadline)):
			w.t.Fatalf("no dial result within %s", dialLimit)
		}
		w.step(fmt.Sprintf("event %T", ev), func() { w.s.handle(ev) })
	}
}

// dial lets the timer start the pending attempt, whose dial the endpoint
// answers with first.
func (w *signalWorld) dial(first []byte) {
	w.t.Helper()
	if w.s.phase != phaseWaiting {
		return
	}
	w.srv.queue(first)
	w.step("attempt", func() { w.s.onTimer(w.s.retryAt) })
	w.settle()
}

// connect joins, answers the offer, and once pion's ICE transport has
// started stands in for the peer connection reaching "connected" (no remote
// peer: it would take a DTLS handshake per input). Connected is only ever
// reached after the answer, with the ICE transport started: the session
// reads that transport while connected.
func (w *signalWorld) connect(join, answer []byte) {
	w.t.Helper()
	w.dial(join)
	w.signal(answer)
	if w.s.phase != phaseNegotiating || w.s.pc.pc.RemoteDescription() == nil {
		w.t.Fatalf("the seed join and answer did not bring the session to negotiating with an answer (phase %s)", w.s.phase)
	}
	deadline := time.Now().Add(stepLimit)
	for w.s.pc.pc.ICEConnectionState() == webrtc.ICEConnectionStateNew {
		if time.Now().After(deadline) {
			w.t.Fatalf("pion's ICE transport did not start within %s", stepLimit)
		}
		time.Sleep(time.Millisecond)
	}
	w.step("connected", func() { w.s.fire(happening{tr: trPCConnected}) })
}

// signal delivers one message as the current socket's reader would; with
// no socket there is nobody to receive it. Bytes that are no SignalResponse
// are dropped, as the reader drops them.
func (w *signalWorld) signal(b []byte) {
	w.t.Helper()
	msg := &livekit.SignalResponse{}
	if proto.Unmarshal(b, msg) != nil || w.s.conn == nil {
		return
	}
	w.step(fmt.Sprintf("signal %T", msg.GetMessage()), func() { w.s.handle(evSignal{gen: w.s.sigGen, msg: msg}) })
}

// checkConsistent: the relations between the session's fields that the
// rest of the state machine relies on.
func (w *signalWorld) checkConsistent(after string) {
	w.t.Helper()
	s := w.s
	fail := func(format string, args ...any) {
		w.t.Helper()
		w.t.Fatalf("after %s (phase %s, mode %s): %s", after, s.phase, s.mode, fmt.Sprintf(format, args...))
	}
	switch s.phase {
	case phaseIdle:
		if w.begun {
			fail("idle after begin")
		}
	case phaseDialing:
		if s.conn != nil {
			fail("dialing with a socket")
		}
	case phaseNegotiating, phaseConnected:
		if s.conn == nil || s.pc == nil {
			fail("no socket (%v) or no peer connection (%v)", s.conn != nil, s.pc != nil)
		}
	case phaseWaiting:
		if s.conn != nil || s.mode == modeNone {
			fail("waiting with a socket (%v) or outside recovery", s.conn != nil)
		}
	case phaseClosed:
		if s.conn != nil || s.pc != nil || s.sub != nil {
			fail("closed with a socket, or a peer connection")
		}
		if s.ctx.Err() == nil {
			fail("closed but the context is live (callers would wait on it)")
		}
	default:
		fail("unknown phase")
	}
	if s.phase == phaseConnected && (s.mode != modeNone || !s.episode.IsZero() || !s.everConnected) {
		fail("connected inside a recovery episode")
	}
	for _, ts := range s.tracks {
		if s.phase == phaseClosed {
			break // tracks keep what they had; nothing uses it any more
		}
		if ts.sender != nil && (ts.info == nil || s.pc == nil) {
			fail("track %s has a sender but no TrackInfo (%v) or no peer connection", ts.t.spec.Name, ts.info != nil)
		}
		if ts.negotiated && ts.sender == nil {
			fail("track %s negotiated without a sender", ts.t.spec.Name)
		}
	}
}

// close is Close as the application calls it while run is inside one of
// the steps: run sees the context end and shuts down, then Close waits.
func (w *signalWorld) close() {
	w.t.Helper()
	w.step("close", func() {
		w.s.cancel()
		w.s.fire(happening{tr: trClose})
		w.s.Close()
	})
	if w.s.phase != phaseClosed {
		w.t.Fatalf("phase %d after Close", w.s.phase)
	}
	if last := w.rec.lastState(); last != StateDisconnected {
		w.t.Fatalf("last state reported %s, want disconnected", last)
	}
	deadline := time.Now().Add(stepLimit)
	for runtime.NumGoroutine() > w.goroutines {
		if time.Now().After(deadline) {
			w.t.Fatalf("%d goroutines after Close, %d before the session:\n%s", runtime.NumGoroutine(), w.goroutines, allStacks())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) lastState() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return StateIdle
	}
	return r.states[len(r.states)-1].State
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func marshal(f *testing.F, m *livekit.SignalResponse) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// firstFrameServer is a loopback websocket endpoint: it answers each dial
// with the frame queued for it (or closes at once when there is none) and
// reads what the session sends until the socket closes.
type firstFrameServer struct {
	srv    *httptest.Server
	url    string
	frames chan []byte
}

func newFirstFrameServer() *firstFrameServer {
	s := &firstFrameServer{frames: make(chan []byte, 4)}
	up := websocket.Upgrader{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(rw, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		select {
		case frame := <-s.frames:
			if ws.WriteMessage(websocket.BinaryMessage, frame) != nil {
				return
			}
		default:
			return
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	s.url = "ws://" + s.srv.Listener.Addr().String()
	return s
}

func (s *firstFrameServer) queue(frame []byte) { s.frames <- frame }

// reset drops frames a previous input queued but never dialed for.
func (s *firstFrameServer) reset() {
	for {
		select {
		case <-s.frames:
		default:
			return
		}
	}
}

func (s *firstFrameServer) close() { s.srv.Close() }

// signalSeeds are real server messages: marshalled from what a LiveKit
// server sends, with SDP made by pion peers on the same virtual network.
type signalSeeds struct {
	net       *vnet.Net
	join      *livekit.SignalResponse
	answer    *livekit.SignalResponse
	published [2]*livekit.SignalResponse
	mute      *livekit.SignalResponse
	messages  []*livekit.SignalResponse
}

func newSignalSeeds(f *testing.F) *signalSeeds {
	n, err := vnet.NewNet(&vnet.NetConfig{})
	if err != nil {
		f.Fatal(err)
	}
	offer, answer := seedSDP(f, n)
	regions := &livekit.RegionSettings{Regions: []*livekit.RegionInfo{
		{Region: "eu", Url: "wss://eu.example", Distance: 100}, {Region: "us", Url: "ws://127.0.0.1:1"}}}
	sd := &signalSeeds{net: n}
	sd.join = &livekit.SignalResponse{Message: &livekit.SignalResponse_Join{Join: &livekit.JoinResponse{
		Room:                 &livekit.Room{Sid: "RM_fuzz", Name: "r"},
		Participant:          &livekit.ParticipantInfo{Sid: "PA_fuzz", Identity: "i"},
		ServerInfo:           &livekit.ServerInfo{Edition: livekit.ServerInfo_Standard, Version: "1.13.5", Protocol: 16, Region: "local"},
		IceServers:           []*livekit.ICEServer{{Urls: []string{"stun:127.0.0.1:3478"}}},
		ClientConfiguration:  &livekit.ClientConfiguration{ResumeConnection: livekit.ClientConfigSetting_ENABLED},
		EnabledPublishCodecs: []*livekit.Codec{{Mime: "video/VP8"}, {Mime: "audio/opus"}},
		PingInterval:         5, PingTimeout: 15, ServerVersion: "1.13.5", SifTrailer: []byte("trailer"),
	}}}
	sd.answer = &livekit.SignalResponse{Message: &livekit.SignalResponse_Answer{Answer: &livekit.SessionDescription{Type: "answer", Sdp: answer, Id: 1}}}
	for i, kind := range []string{"video", "audio"} {
		typ := livekit.TrackType_VIDEO
		if kind == "audio" {
			typ = livekit.TrackType_AUDIO
		}
		sd.published[i] = &livekit.SignalResponse{Message: &livekit.SignalResponse_TrackPublished{TrackPublished: &livekit.TrackPublishedResponse{
			Cid: "TR_" + kind, Track: &livekit.TrackInfo{Sid: "TR_sid_" + kind, Type: typ, Name: kind}}}}
	}
	sd.mute = &livekit.SignalResponse{Message: &livekit.SignalResponse_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_sid_video", Muted: true}}}
	leave := func(a livekit.LeaveRequest_Action, r livekit.DisconnectReason, rs *livekit.RegionSettings) *livekit.SignalResponse {
		return &livekit.SignalResponse{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{Action: a, Reason: r, Regions: rs, CanReconnect: a != livekit.LeaveRequest_DISCONNECT}}}
	}
	trickle := func(target livekit.SignalTarget) *livekit.SignalResponse {
		return &livekit.SignalResponse{Message: &livekit.SignalResponse_Trickle{Trickle: &livekit.TrickleRequest{Target: target,
			CandidateInit: `{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host","sdpMid":"0","sdpMLineIndex":0}`}}}
	}
	sd.messages = []*livekit.SignalResponse{
		sd.answer, sd.published[0], sd.published[1],
		{Message: &livekit.SignalResponse_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: offer, Id: 7}}},
		trickle(livekit.SignalTarget_PUBLISHER), trickle(livekit.SignalTarget_SUBSCRIBER),
		leave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_MIGRATION, nil),
		leave(livekit.LeaveRequest_RECONNECT, livekit.DisconnectReason_SERVER_SHUTDOWN, regions),
		leave(livekit.LeaveRequest_DISCONNECT, livekit.DisconnectReason_SERVER_SHUTDOWN, regions),
		leave(livekit.LeaveRequest_DISCONNECT, livekit.DisconnectReason_PARTICIPANT_REMOVED, nil),
		{Message: &livekit.SignalResponse_Leave{Leave: &livekit.LeaveRequest{CanReconnect: true, Reason: livekit.DisconnectReason_SIGNAL_CLOSE}}}, // old server: no action
		{Message: &livekit.SignalResponse_RefreshToken{RefreshToken: "eyJhbGciOiJIUzI1NiJ9.e30.fresh"}},
		sd.mute,
		{Message: &livekit.SignalResponse_TrackUnpublished{TrackUnpublished: &livekit.TrackUnpublishedResponse{TrackSid: "TR_sid_audio"}}},
		{Message: &livekit.SignalResponse_RoomMoved{RoomMoved: &livekit.RoomMovedResponse{Token: "eyJ.moved", Participant: &livekit.ParticipantInfo{Sid: "PA_moved"}}}},
		{Message: &livekit.SignalResponse_ConnectionQuality{ConnectionQuality: &livekit.ConnectionQualityUpdate{Updates: []*livekit.ConnectionQualityInfo{
			{ParticipantSid: "PA_fuzz", Quality: livekit.ConnectionQuality_LOST}}}}},
		{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{RequestId: 1, Reason: livekit.RequestResponse_NOT_ALLOWED,
			Request: &livekit.RequestResponse_AddTrack{AddTrack: &livekit.AddTrackRequest{Cid: "TR_video"}}}}},
		{Message: &livekit.SignalResponse_RequestResponse{RequestResponse: &livekit.RequestResponse{RequestId: 2, Reason: livekit.RequestResponse_QUEUED}}},
		{Message: &livekit.SignalResponse_Reconnect{Reconnect: &livekit.ReconnectResponse{}}},
		sd.join,
	}
	return sd
}

// seedSDP makes a real offer (a data channel, as a LiveKit server's
// subscriber offer has) and a real answer to such an offer.
func seedSDP(f *testing.F, n *vnet.Net) (offer, answer string) {
	se := webrtc.SettingEngine{}
	se.SetNet(n)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se))
	a, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		f.Fatal(err)
	}
	defer a.Close()
	b, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		f.Fatal(err)
	}
	defer b.Close()
	if _, err := a.CreateDataChannel("_reliable", nil); err != nil {
		f.Fatal(err)
	}
	o, err := a.CreateOffer(nil)
	if err == nil {
		err = b.SetRemoteDescription(o)
	}
	var ans webrtc.SessionDescription
	if err == nil {
		ans, err = b.CreateAnswer(nil)
	}
	if err != nil {
		f.Fatal(err)
	}
	return o.SDP, ans.SDP
}
