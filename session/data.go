package session

import (
	"time"

	"errors"
	"fmt"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

// Data packets over the publisher peer connection's _reliable and _lossy
// data channels (docs/protocol.md, "Data packets").

var (
	// ErrDataQueueFull: the session is recovering and the reliable packets
	// waiting for it already hold 256 packets or 1 MiB. Nothing is queued.
	ErrDataQueueFull = errors.New("data queue full while recovering")
	// ErrDataDropped: a lossy packet sent while the data channel is not
	// open (connecting, recovering) is dropped, as LiveKit's SDKs do.
	ErrDataDropped = errors.New("lossy data packet dropped: not connected")
	// ErrDataTooLarge: one packet must fit an SCTP message (64 KiB with
	// pion's and livekit-server's default max-message-size).
	ErrDataTooLarge = errors.New("data packet larger than 64 KiB")
	// ErrNotStarted: data is sent from Start on.
	ErrNotStarted = errors.New("session not started")
)

const maxDataPacketSize = 64 << 10

// DataMessage is a user data packet another participant sent to this one.
type DataMessage struct {
	ParticipantIdentity string
	Topic               string
	Payload             []byte
	Reliable            bool
}

// DataHandler is implemented by a Handler that wants the data packets
// sent to this participant; OnData runs on the dispatcher goroutine, in
// the order the packets arrived.
type DataHandler interface {
	OnData(DataMessage)
}

// PublishData sends payload to the room (or to the participants named in
// destinations) on topic. Reliable packets are ordered and survive a
// resume or reconnect: while the session is recovering they wait
// (ErrDataQueueFull past the bound); lossy packets are dropped then
// (ErrDataDropped).
func (s *Session) PublishData(payload []byte, topic string, reliable bool, destinations []string) error {
	user := &livekit.UserPacket{Payload: payload}
	if topic != "" {
		user.Topic = proto.String(topic)
	}
	pkt := &livekit.DataPacket{DestinationIdentities: destinations, Value: &livekit.DataPacket_User{User: user}}
	return s.publishPackets([]*livekit.DataPacket{pkt}, reliable)
}

// publishPackets hands packets that belong together (a text stream) to
// the session goroutine: all are queued, or none.
func (s *Session) publishPackets(pkts []*livekit.DataPacket, reliable bool) error {
	if !s.started.Load() {
		return ErrNotStarted // nothing would answer before Start
	}
	return s.call(func(s *Session) error { return s.onPublish(pkts, reliable) })
}

func (s *Session) onPublish(pkts []*livekit.DataPacket, reliable bool) error {
	sizes := make([]int, len(pkts))
	for i, p := range pkts {
		// The sequence number the outbox adds takes at most 6 bytes.
		if sizes[i] = proto.Size(p); sizes[i]+6 > maxDataPacketSize {
			return fmt.Errorf("%w: %d bytes", ErrDataTooLarge, sizes[i])
		}
	}
	if !reliable {
		dc := s.openDataChannel(false)
		if dc == nil {
			return ErrDataDropped
		}
		for _, p := range pkts {
			b, err := proto.Marshal(p)
			if err != nil {
				return err
			}
			if err := dc.Send(b); err != nil {
				return fmt.Errorf("%w: %v", ErrDataDropped, err)
			}
		}
		return nil
	}
	if !s.out.fits(sizes) {
		return fmt.Errorf("%w (%d packets, %d bytes waiting; at most %d packets, %d bytes)",
			ErrDataQueueFull, s.out.unsent, s.out.waiting, outboxMaxPackets, outboxMaxBytes)
	}
	for i, p := range pkts {
		s.out.push(p, sizes[i])
	}
	s.flushData()
	return nil
}

// openDataChannel is the publisher's data channel of that kind when it
// can carry packets now, else nil.
func (s *Session) openDataChannel(reliable bool) *webrtc.DataChannel {
	if s.phase != phaseConnected || s.pc == nil {
		return nil
	}
	dc := s.pc.lossy
	if reliable {
		dc = s.pc.reliable
	}
	if dc == nil || dc.ReadyState() != webrtc.DataChannelStateOpen {
		return nil
	}
	return dc
}

// flushData sends the reliable packets that wait, if the channel is open.
func (s *Session) flushData() {
	dc := s.openDataChannel(true)
	if dc == nil {
		return
	}
	if err := s.out.flush(dc.Send); err != nil {
		s.log.Debugf("sending data: %v (sent again once the channel is back)", err)
	}
	s.out.trim(dc.BufferedAmount(), time.Now())
}

// dataToNewParticipant: a join made a new participant. Reliable packets
// the old one may not have delivered go again under new numbers, and the
// metadata changes go again.
func (s *Session) dataToNewParticipant() {
	since := s.episode
	if since.IsZero() {
		since = time.Now()
	}
	if n := s.out.newParticipant(since.Add(-resendWindow)); n > 0 {
		s.log.Debugf("new participant: sending again %d reliable packets the old one's server acknowledged since %s before the recovery", n, resendWindow)
	}
	s.metaNewParticipant()
}

// dataResumed: the server has our reliable packets up to lastSeq.
func (s *Session) dataResumed(lastSeq uint32) {
	s.log.Debugf("resumed: the server has our reliable data up to sequence %d", lastSeq)
	s.out.resumed(lastSeq)
}

// dataAcked forgets what the reliable channel's SCTP association has
// acknowledged, before that channel goes away.
func (s *Session) dataAcked(p *peer) {
	if p != nil && p.reliable != nil {
		s.out.trim(p.reliable.BufferedAmount(), time.Now())
	}
}

// watchDataChannels sends what waits once the reliable channel opens, and
// passes what others send to the handler.
func (s *Session) watchDataChannels(p *peer) {
	gen := p.gen
	p.reliable.OnOpen(func() {
		s.post(evCall(func(s *Session) {
			if s.pc != nil && s.pc.gen == gen {
				s.flushData()
			}
		}))
	})
	s.receiveData(p.reliable, true)
	s.receiveData(p.lossy, false)
}

// receiveData passes user packets arriving on dc to a DataHandler. The
// SFU sends data on the primary peer connection: the publisher's with a
// canSubscribe=false token, else the subscriber's.
func (s *Session) receiveData(dc *webrtc.DataChannel, reliable bool) {
	dh, ok := s.h.(DataHandler)
	if !ok {
		return
	}
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		dp := &livekit.DataPacket{}
		if err := proto.Unmarshal(m.Data, dp); err != nil {
			s.log.Debugf("data channel %s: unreadable packet: %v", dc.Label(), err)
			return
		}
		user := dp.GetUser()
		if user == nil {
			return // streams, RPC, transcriptions: not for OnData
		}
		from := dp.GetParticipantIdentity()
		if from == "" {
			from = user.GetParticipantIdentity() //nolint:staticcheck // old servers fill only this
		}
		msg := DataMessage{ParticipantIdentity: from, Topic: user.GetTopic(), Payload: user.GetPayload(), Reliable: reliable}
		s.disp.post(func() { dh.OnData(msg) })
	})
}
