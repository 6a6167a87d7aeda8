package session

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// Data packets, text streams and participant updates through the fake
// server, whose peer connection keeps what arrives on the data channels
// and, like livekit-server, drops a reliable sequence number seen before.

// waitData polls the fake's data channels until cond holds for what conn's
// participant received.
func waitData(t *testing.T, conn *signallertest.Conn, what string, cond func([]*livekit.DataPacket) bool) []*livekit.DataPacket {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		got := conn.DataReceived()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s: %d packets received", what, waitLong, len(got))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func userPayloads(pkts []*livekit.DataPacket) []string {
	var out []string
	for _, p := range pkts {
		if u := p.GetUser(); u != nil {
			out = append(out, string(u.GetPayload()))
		}
	}
	return out
}

// publishUntilAccepted retries a reliable packet the full queue refused,
// as an application would; it returns how often the queue was full.
func publishUntilAccepted(t *testing.T, s *Session, payload string) int {
	t.Helper()
	for full := 0; ; full++ {
		err := s.PublishData([]byte(payload), "t", true, nil)
		if err == nil {
			return full
		}
		if !errors.Is(err, ErrDataQueueFull) || full > 1000 {
			t.Fatalf("publishing %s: %v", payload, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReliableDataArrivesOnceInOrderAcrossAResume(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, first := connected(t, srv, nil)
	const n = 400
	type result struct{ full, duringRecovery int }
	done := make(chan result)
	go func() {
		var r result
		for i := range n {
			r.full += publishUntilAccepted(t, s, fmt.Sprint(i))
			w.mu.Lock()
			if last := w.states[len(w.states)-1].State; last != StateConnected {
				r.duringRecovery++
			}
			w.mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		done <- r
	}()
	waitData(t, conn, "first packets", func(p []*livekit.DataPacket) bool { return len(p) > 20 })
	from := w.count()
	if err := s.Simulate("resume"); err != nil {
		t.Fatal(err)
	}
	back, _ := w.waitState(t, from, StateConnected)
	if back.ParticipantSID != first.ParticipantSID {
		t.Fatalf("resume changed the participant %s → %s", first.ParticipantSID, back.ParticipantSID)
	}
	r := <-done
	if r.duringRecovery == 0 {
		t.Fatal("no packet was published while the session resumed")
	}
	got := userPayloads(waitData(t, conn, "every packet", func(p []*livekit.DataPacket) bool { return len(p) >= n }))
	for i, p := range got {
		if p != fmt.Sprint(i) {
			t.Fatalf("packet %d is %q: %d received, want 0…%d once each, in order", i, p, len(got), n-1)
		}
	}
	t.Logf("%d packets in order across the resume, %d published while resuming (queue full %d times)", len(got), r.duringRecovery, r.full)
}

func TestDataQueueOverflowIsAnErrorNotTheEnd(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, _ := connected(t, srv, nil)
	srv.SetDefault(signallertest.Refuse(503, "down for the test"))
	from := w.count()
	conn.Drop()
	w.waitState(t, from, StateResuming)
	if err := s.PublishData([]byte("x"), "", false, nil); !errors.Is(err, ErrDataDropped) {
		t.Fatalf("lossy while resuming: %v, want ErrDataDropped", err)
	}
	for i := range outboxMaxPackets {
		if err := s.PublishData([]byte(fmt.Sprint(i)), "", true, nil); err != nil {
			t.Fatalf("packet %d of %d: %v", i, outboxMaxPackets, err)
		}
	}
	err := s.PublishData([]byte("one too many"), "", true, nil)
	if !errors.Is(err, ErrDataQueueFull) {
		t.Fatalf("packet %d: %v, want ErrDataQueueFull", outboxMaxPackets+1, err)
	}
	if err := s.SendText("t", "hello", nil, TextOptions{}); !errors.Is(err, ErrDataQueueFull) {
		t.Fatalf("text stream with a full queue: %v, want ErrDataQueueFull", err)
	}
	if err := w.fatalErr(); err != nil {
		t.Fatalf("a full queue ended the session: %v", err)
	}
	srv.SetDefault(signallertest.Answer{})
	w.waitState(t, from, StateConnected)
	last := srv.Connects()[len(srv.Connects())-1].Conn
	got := userPayloads(waitData(t, last, "the queued packets", func(p []*livekit.DataPacket) bool { return len(p) >= outboxMaxPackets }))
	for i, p := range got {
		if p != fmt.Sprint(i) {
			t.Fatalf("packet %d is %q after recovering, want the queue in order", i, p)
		}
	}
}

func TestDataQueueBoundIsAlsoOneMebibyte(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, w, conn, _ := connected(t, srv, nil)
	srv.SetDefault(signallertest.Refuse(503, "down for the test"))
	from := w.count()
	conn.Drop()
	w.waitState(t, from, StateResuming)
	if err := s.PublishData(make([]byte, maxDataPacketSize), "", true, nil); !errors.Is(err, ErrDataTooLarge) {
		t.Fatalf("a 64 KiB payload: %v, want ErrDataTooLarge", err)
	}
	big := make([]byte, 60<<10)
	for i := range 17 { // 17 × 60 KiB fit in 1 MiB
		if err := s.PublishData(big, "", true, nil); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if err := s.PublishData(big, "", true, nil); !errors.Is(err, ErrDataQueueFull) {
		t.Fatalf("18 × 60 KiB waiting: %v, want ErrDataQueueFull", err)
	}
}

func TestDataFromOthersReachesTheHandler(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	_, w, conn, _ := connected(t, srv, nil)
	// The client's channels reach the fake once SCTP is up: wait for them.
	deadline := time.Now().Add(waitLong)
	for _, reliable := range []bool{true, false} {
		dp := &livekit.DataPacket{ParticipantIdentity: "other", Value: &livekit.DataPacket_User{User: &livekit.UserPacket{
			Payload: []byte(fmt.Sprint("reliable=", reliable)), Topic: ptr("chat")}}}
		for conn.SendData(dp, reliable) != nil {
			if time.Now().After(deadline) {
				t.Fatal("the client's data channels never reached the fake")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	w.waitFor(t, "two data messages", func() bool { return len(w.data) == 2 })
	// The two channels are independent: either may deliver first.
	for _, m := range w.data {
		want := fmt.Sprint("reliable=", m.Reliable)
		if m.ParticipantIdentity != "other" || m.Topic != "chat" || string(m.Payload) != want {
			t.Fatalf("message %+v, want %s from other on chat", m, want)
		}
	}
	if w.data[0].Reliable == w.data[1].Reliable {
		t.Fatalf("both messages came as reliable=%v", w.data[0].Reliable)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTextStreamIsHeaderChunksTrailer(t *testing.T) {
	srv := newFake(t, signallertest.Options{})
	s, _, conn, _ := connected(t, srv, nil)
	text := strings.Repeat("sous-titre é€ ", 2000) // > 2 chunks
	attrs := TranscriptionAttributes("SG_1", true, nil)
	if err := s.SendText(TopicTranscription, text, attrs, TextOptions{StreamID: "stream-1"}); err != nil {
		t.Fatal(err)
	}
	got := waitData(t, conn, "the stream's trailer", func(p []*livekit.DataPacket) bool {
		return len(p) > 0 && p[len(p)-1].GetStreamTrailer() != nil
	})
	h := got[0].GetStreamHeader()
	if h == nil || h.GetStreamId() != "stream-1" || h.GetTopic() != TopicTranscription || h.GetMimeType() != "text/plain" ||
		h.GetTotalLength() != uint64(len(text)) || h.GetAttributes()[AttrSegmentID] != "SG_1" ||
		h.GetAttributes()[AttrTranscriptionFinal] != "true" || h.GetTextHeader().GetOperationType() != livekit.DataStream_CREATE {
		t.Fatalf("header %v", h)
	}
	joined := ""
	for i, p := range got[1 : len(got)-1] {
		c := p.GetStreamChunk()
		if c == nil || c.GetStreamId() != "stream-1" || c.GetChunkIndex() != uint64(i) {
			t.Fatalf("packet %d is not chunk %d of the stream: %v", i+1, i, p)
		}
		joined += string(c.GetContent())
	}
	if joined != text || len(got) != 5 {
		t.Fatalf("%d packets; chunks join to the text: %v", len(got), joined == text)
	}
}

func TestDataBeforeStartDoesNotBlock(t *testing.T) {
	s, err := New(Config{URL: "ws://127.0.0.1:1", APIKey: "key", APISecret: "secret-of-the-test", Room: "r", Identity: "i"}, newWatcher())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PublishData([]byte("x"), "", true, nil); !errors.Is(err, ErrNotStarted) {
		t.Fatalf("before Start: %v, want ErrNotStarted", err)
	}
}
