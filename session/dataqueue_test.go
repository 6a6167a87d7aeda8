package session

import (
	"time"

	"testing"
	"unicode/utf8"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

func userPkt(payload string) *livekit.DataPacket {
	return &livekit.DataPacket{Value: &livekit.DataPacket_User{User: &livekit.UserPacket{Payload: []byte(payload)}}}
}

// wire collects what the outbox sends: sequence and payload.
type wire struct {
	seqs     []uint32
	payloads []string
	bytes    uint64
}

func (w *wire) send(b []byte) error {
	dp := &livekit.DataPacket{}
	if err := proto.Unmarshal(b, dp); err != nil {
		return err
	}
	w.seqs = append(w.seqs, dp.GetSequence())
	w.payloads = append(w.payloads, string(dp.GetUser().GetPayload()))
	w.bytes += uint64(len(b))
	return nil
}

func pushN(o *outbox, payloads ...string) {
	for _, p := range payloads {
		pkt := userPkt(p)
		o.push(pkt, proto.Size(pkt))
	}
}

func TestOutboxNumbersInOrderAndReplaysWhatTheServerMissed(t *testing.T) {
	o := newOutbox()
	pushN(&o, "a", "b", "c")
	var w wire
	if err := o.flush(w.send); err != nil {
		t.Fatal(err)
	}
	if got := w.seqs; len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("sequences %v, want 1 2 3", got)
	}
	// Nothing acknowledged by SCTP: all stay. The server saw up to 2.
	o.trim(w.bytes, time.Now())
	pushN(&o, "d") // queued while resuming
	o.resumed(2)
	var again wire
	if err := o.flush(again.send); err != nil {
		t.Fatal(err)
	}
	if len(again.seqs) != 2 || again.seqs[0] != 3 || again.payloads[0] != "c" || again.seqs[1] != 4 || again.payloads[1] != "d" {
		t.Fatalf("after resume(2) sent %v %v, want c as 3 then d as 4", again.seqs, again.payloads)
	}
}

func TestOutboxTrimKeepsOnlyWhatSCTPStillBuffers(t *testing.T) {
	o := newOutbox()
	pushN(&o, "one", "two", "three")
	var w wire
	_ = o.flush(w.send)
	last := o.entries[2].size
	o.trim(uint64(last), time.Now()) // only the last is unacknowledged
	if len(o.entries) != 1 || string(o.entries[0].pkt.GetUser().GetPayload()) != "three" {
		t.Fatalf("%d entries kept, want only the unacknowledged third", len(o.entries))
	}
	o.trim(0, time.Now())
	if len(o.entries) != 0 {
		t.Fatalf("%d entries kept with nothing buffered", len(o.entries))
	}
}

func TestOutboxNewParticipantRenumbersFromOne(t *testing.T) {
	o := newOutbox()
	pushN(&o, "a", "b")
	var w wire
	_ = o.flush(w.send)
	pushN(&o, "c")
	o.newParticipant(time.Now())
	var again wire
	_ = o.flush(again.send)
	if len(again.seqs) != 3 || again.seqs[0] != 1 || again.seqs[2] != 3 || again.payloads[2] != "c" {
		t.Fatalf("after a new participant sent %v %v, want a b c as 1 2 3", again.seqs, again.payloads)
	}
}

// A server that closes the participant acknowledges at the transport
// what it no longer forwards: packets acknowledged shortly before the
// recovery go again to the new participant; older ones do not.
func TestOutboxNewParticipantResendsRecentlyAcknowledged(t *testing.T) {
	o := newOutbox()
	pushN(&o, "old", "recent", "unacked")
	var w wire
	_ = o.flush(w.send)
	t0 := time.Now()
	o.trim(w.bytes-uint64(o.entries[0].size), t0) // "old" acknowledged at t0
	o.trim(uint64(o.entries[len(o.entries)-1].size), t0.Add(3*time.Second))
	if len(o.entries) != 1 || len(o.acked) != 2 {
		t.Fatalf("%d unacknowledged, %d acknowledged; want 1 and 2", len(o.entries), len(o.acked))
	}
	if n := o.newParticipant(t0.Add(time.Second)); n != 1 {
		t.Fatalf("%d acknowledged packets sent again, want 1 (only the recent one)", n)
	}
	var again wire
	_ = o.flush(again.send)
	if len(again.seqs) != 2 || again.payloads[0] != "recent" || again.payloads[1] != "unacked" || again.seqs[0] != 1 {
		t.Fatalf("after a new participant sent %v %v, want recent as 1 then unacked as 2", again.seqs, again.payloads)
	}
	if len(o.acked) != 0 {
		t.Fatalf("%d acknowledged packets kept after the new participant took them", len(o.acked))
	}
}

func TestOutboxKeepsAcknowledgedWithinItsBounds(t *testing.T) {
	o := newOutbox()
	for range outboxMaxPackets + 10 {
		pushN(&o, "0123456789")
	}
	var w wire
	_ = o.flush(w.send)
	o.trim(0, time.Now())
	if len(o.acked) != outboxMaxPackets {
		t.Fatalf("%d acknowledged packets kept, want the bound %d", len(o.acked), outboxMaxPackets)
	}
}

func TestOutboxBounds(t *testing.T) {
	o := newOutbox()
	for range outboxMaxPackets {
		if !o.fits([]int{10}) {
			t.Fatal("refused below the packet bound")
		}
		pushN(&o, "0123456789")
	}
	if o.fits([]int{1}) {
		t.Fatalf("accepted packet %d", outboxMaxPackets+1)
	}
	var w wire
	_ = o.flush(w.send)
	if !o.fits([]int{outboxMaxBytes}) || o.fits([]int{outboxMaxBytes/2 + 1, outboxMaxBytes / 2}) {
		t.Fatal("the byte bound must admit exactly 1 MiB waiting")
	}
}

func TestChunkUTF8NeverSplitsARune(t *testing.T) {
	s := ""
	for len(s) < 40000 {
		s += "aé€😀"
	}
	chunks := chunkUTF8(s, textChunkSize)
	joined := ""
	for _, c := range chunks {
		if len(c) > textChunkSize || !utf8Valid(c) {
			t.Fatalf("chunk of %d bytes, valid %v", len(c), utf8Valid(c))
		}
		joined += string(c)
	}
	if joined != s || len(chunks) != 3 {
		t.Fatalf("%d chunks, joined equal %v", len(chunks), joined == s)
	}
}

func utf8Valid(b []byte) bool { return utf8.Valid(b) }
