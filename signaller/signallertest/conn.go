package signallertest

import (
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

const writeTimeout = 2 * time.Second

// Conn is the server side of one signalling socket.
type Conn struct {
	s           *Server
	ws          *websocket.Conn
	done        chan struct{}
	participant *participant // set before the first frame; nil for a refused resume

	writeMu sync.Mutex // gorilla allows one concurrent writer

	// guarded by s.mu
	requests  []*livekit.SignalRequest // everything but pings
	arrivals  []time.Time              // when each of requests arrived
	pings     int
	mute      bool
	hold      bool // offers are recorded, not answered
	closeCode int  // close frame code received from the client
}

func newConn(s *Server, ws *websocket.Conn) *Conn {
	c := &Conn{s: s, ws: ws, done: make(chan struct{})}
	ws.SetCloseHandler(func(code int, _ string) error {
		s.mu.Lock()
		c.closeCode = code
		s.bump()
		s.mu.Unlock()
		return nil
	})
	return c
}

// Participant is the SID this socket joined or resumed as ("" if none).
func (c *Conn) Participant() string {
	if c.participant == nil {
		return ""
	}
	return c.participant.sid
}

// Send writes one binary protobuf frame.
func (c *Conn) Send(m *livekit.SignalResponse) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return c.WriteRaw(websocket.BinaryMessage, b)
}

// SendText writes one protojson text frame, as older servers may.
func (c *Conn) SendText(m *livekit.SignalResponse) error {
	b, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	return c.WriteRaw(websocket.TextMessage, b)
}

// WriteRaw writes one frame as is (for garbage and unknown messages).
func (c *Conn) WriteRaw(messageType int, b []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	return c.ws.WriteMessage(messageType, b)
}

// SendLeave sends a Leave on the live socket.
func (c *Conn) SendLeave(l *livekit.LeaveRequest) error { return c.Send(Leave(l)) }

// CloseWith sends a close frame and closes the socket.
func (c *Conn) CloseWith(code int, text string) {
	c.writeMu.Lock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(writeTimeout))
	c.writeMu.Unlock()
	_ = c.ws.Close()
}

// Drop closes the TCP connection without a close frame, as a network
// failure or a killed server does.
func (c *Conn) Drop() { _ = c.ws.NetConn().Close() }

// Done is closed when the socket has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// SetMute stops (or resumes) answering pings.
func (c *Conn) SetMute(mute bool) {
	c.s.mu.Lock()
	c.mute = mute
	c.s.mu.Unlock()
}

// HoldOffers makes the socket record the offers it gets without answering
// them: an answer lost with the socket.
func (c *Conn) HoldOffers(hold bool) {
	c.s.mu.Lock()
	c.hold = hold
	c.s.mu.Unlock()
}

// Pings counts the pings received.
func (c *Conn) Pings() int {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.pings
}

// Requests lists what the client sent, pings excepted.
func (c *Conn) Requests() []*livekit.SignalRequest {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return append([]*livekit.SignalRequest(nil), c.requests...)
}

// RequestTimes is when each request of Requests arrived, in the same order.
func (c *Conn) RequestTimes() []time.Time {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return append([]time.Time(nil), c.arrivals...)
}

// WaitRequest waits for a request that match accepts and returns it; the
// test fails when none comes within timeout.
func (c *Conn) WaitRequest(timeout time.Duration, match func(*livekit.SignalRequest) bool) *livekit.SignalRequest {
	c.s.t.Helper()
	var found *livekit.SignalRequest
	ok := c.s.waitFor(timeout, func() bool {
		for _, r := range c.requests {
			if match(r) {
				found = r
				return true
			}
		}
		return false
	})
	if !ok {
		c.s.t.Fatalf("signallertest: no matching request within %s; got %v", timeout, c.Requests())
	}
	return found
}

// WaitClosed waits until the socket ended and returns the close code the
// client sent (0 without a close frame); the test fails after timeout.
func (c *Conn) WaitClosed(timeout time.Duration) int {
	c.s.t.Helper()
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.s.t.Fatalf("signallertest: socket still open after %s", timeout)
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.closeCode
}

// readLoop records requests and answers them as a server would: pongs,
// TrackPublished for AddTrack, answers to offers.
func (c *Conn) readLoop() {
	defer close(c.done)
	defer c.ws.Close()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		req := &livekit.SignalRequest{}
		if err := proto.Unmarshal(data, req); err != nil {
			c.s.t.Errorf("signallertest: undecodable request frame: %v", err)
			return
		}
		c.handle(req)
	}
}

func (c *Conn) handle(req *livekit.SignalRequest) {
	if pong := pongFor(req); pong != nil {
		c.s.mu.Lock()
		c.pings++
		mute := c.mute
		c.s.bump()
		c.s.mu.Unlock()
		if !mute {
			_ = c.Send(pong)
		}
		return
	}
	s := c.s
	s.mu.Lock()
	c.requests = append(c.requests, req)
	c.arrivals = append(c.arrivals, time.Now())
	s.bump()
	var reply *livekit.SignalResponse
	p := c.participant
	switch m := req.GetMessage().(type) {
	case *livekit.SignalRequest_AddTrack:
		s.trks++
		reply = trackPublished(m.AddTrack, s.trks)
	case *livekit.SignalRequest_Leave:
		if p != nil && s.participants[p.sid] == p {
			delete(s.participants, p.sid)
		}
	case *livekit.SignalRequest_Offer, *livekit.SignalRequest_Trickle:
		if s.o.AnswerOffers && p != nil && p.peer == nil && !s.closed {
			p.peer = newAnswerer(s.t, s.o.OnTrack)
		}
	}
	var peer *answerer
	if p != nil && (req.GetOffer() == nil || !c.hold) {
		peer = p.peer
	}
	s.mu.Unlock()
	if reply != nil {
		_ = c.Send(reply)
	}
	if peer == nil {
		return
	}
	switch m := req.GetMessage().(type) {
	case *livekit.SignalRequest_Offer:
		if answer := peer.answer(m.Offer); answer != nil {
			_ = c.Send(&livekit.SignalResponse{Message: &livekit.SignalResponse_Answer{Answer: answer}})
		}
	case *livekit.SignalRequest_Trickle:
		peer.addCandidate(m.Trickle)
	case *livekit.SignalRequest_Leave:
		peer.close()
	}
}

// peerOf returns the participant's answering peer connection (nil without
// AnswerOffers or before the first offer).
func (c *Conn) peerOf() *answerer {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.participant == nil {
		return nil
	}
	return c.participant.peer
}

// MediaPackets is how many RTP packets the participant's publisher peer
// connection received with that RID ("" for tracks without simulcast).
// Zero without AnswerOffers.
func (c *Conn) MediaPackets(rid string) int {
	if p := c.peerOf(); p != nil {
		return p.received(rid)
	}
	return 0
}

// SetRTCPMuted stops (or resumes) every RTCP packet the participant's
// publisher peer connection sends, media still arriving: a publisher sees
// a dead path. False without AnswerOffers or before the first offer.
func (c *Conn) SetRTCPMuted(muted bool) bool {
	if p := c.peerOf(); p != nil {
		p.rtcpMuted.Store(muted)
		return true
	}
	return false
}

// RequestKeyframe sends a PLI for the stream that arrived with that RID, as
// the SFU does for a subscriber; false if no such stream has arrived.
func (c *Conn) RequestKeyframe(rid string) bool {
	if p := c.peerOf(); p != nil {
		return p.requestKeyframe(rid)
	}
	return false
}

// pongFor answers a ping (both of the protocol's kinds); nil for anything else.
func pongFor(req *livekit.SignalRequest) *livekit.SignalResponse {
	switch m := req.GetMessage().(type) {
	case *livekit.SignalRequest_PingReq:
		return &livekit.SignalResponse{Message: &livekit.SignalResponse_PongResp{PongResp: &livekit.Pong{
			LastPingTimestamp: m.PingReq.GetTimestamp(), Timestamp: time.Now().UnixMilli()}}}
	case *livekit.SignalRequest_Ping:
		return &livekit.SignalResponse{Message: &livekit.SignalResponse_Pong{Pong: m.Ping}}
	}
	return nil
}

func trackPublished(r *livekit.AddTrackRequest, n int) *livekit.SignalResponse {
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_TrackPublished{TrackPublished: &livekit.TrackPublishedResponse{
		Cid: r.GetCid(),
		Track: &livekit.TrackInfo{
			Sid: fmt.Sprintf("TR_%d", n), Name: r.GetName(), Type: r.GetType(), Source: r.GetSource(),
			Width: r.GetWidth(), Height: r.GetHeight(), Stereo: r.GetStereo(),
		},
	}}}
}

// DataReceived is what the participant of this socket sent on its data
// channels (with AnswerOffers), in order; a reliable packet whose sequence
// was seen before is dropped, as livekit-server does.
func (c *Conn) DataReceived() []*livekit.DataPacket {
	if p := c.peer(); p != nil {
		d, _ := p.data()
		return d
	}
	return nil
}

// SendData sends dp to the participant of this socket on its publisher
// data channel, as livekit-server does for a participant that does not
// subscribe.
func (c *Conn) SendData(dp *livekit.DataPacket, reliable bool) error {
	p := c.peer()
	if p == nil {
		return fmt.Errorf("signallertest: no peer connection for this participant")
	}
	return p.sendData(dp, reliable)
}

func (c *Conn) peer() *answerer {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.participant == nil {
		return nil
	}
	return c.participant.peer
}
