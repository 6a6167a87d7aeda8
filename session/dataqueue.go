package session

import (
	"time"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

// Bounds of the reliable packets that wait for the data channel while the
// session recovers (docs/protocol.md, "Data packets").
const (
	outboxMaxPackets = 256
	outboxMaxBytes   = 1 << 20

	// resendWindow: on a full reconnect, packets SCTP acknowledged this
	// long before the recovery began, or later, are sent again. A server
	// that closes the participant (node failure, forced stop) still
	// acknowledges at the transport what it no longer forwards; duplicates
	// are the price of not losing those.
	resendWindow = 2 * time.Second
)

// outbox keeps the reliable packets of this participant until the SFU has
// them, as livekit-client's ReliableDataChannel does: each gets the next
// sequence number when it first goes on the wire; sent packets stay until
// the data channel's buffered amount shows the SCTP association has them
// acknowledged; a resume drops those the server reports received
// (ReconnectResponse.last_message_seq) and sends the rest again, in order
// (the server drops sequence numbers it has seen). Owned by run.
type outbox struct {
	entries []*outboxEntry
	nextSeq uint32
	unsent  int            // entries not on the current data channel yet
	waiting int            // bytes of those
	acked   []*outboxEntry // trimmed entries, oldest first, within the bounds above
}

type outboxEntry struct {
	pkt     *livekit.DataPacket
	seq     uint32 // 0 until first sent in this LiveKit session
	size    int
	sent    bool
	ackedAt time.Time
}

func newOutbox() outbox { return outbox{nextSeq: 1} }

// fits reports whether packets of these sizes may wait in addition to
// those already waiting.
func (o *outbox) fits(sizes []int) bool {
	n, b := o.unsent, o.waiting
	for _, sz := range sizes {
		n++
		b += sz
	}
	return n <= outboxMaxPackets && b <= outboxMaxBytes
}

// push queues pkt unsent.
func (o *outbox) push(pkt *livekit.DataPacket, size int) {
	o.entries = append(o.entries, &outboxEntry{pkt: pkt, size: size})
	o.unsent++
	o.waiting += size
}

// flush sends every unsent packet in order through send; it stops at the
// first packet send refuses (the channel closed under it).
func (o *outbox) flush(send func([]byte) error) error {
	for _, e := range o.entries {
		if e.sent {
			continue
		}
		if e.seq == 0 {
			e.seq = o.nextSeq
			o.nextSeq++
		}
		e.pkt.Sequence = e.seq
		b, err := proto.Marshal(e.pkt)
		if err == nil {
			err = send(b)
		}
		if err != nil {
			return err
		}
		e.sent = true
		o.unsent--
		o.waiting -= e.size
		e.size = len(b) // what the channel's buffered amount counts
	}
	return nil
}

// trim moves the oldest sent packets that are no longer part of the
// channel's buffered amount (the peer has acknowledged them) to acked.
func (o *outbox) trim(buffered uint64, now time.Time) {
	inFlight := uint64(0)
	for _, e := range o.entries {
		if e.sent {
			inFlight += uint64(e.size)
		}
	}
	drop := 0
	for _, e := range o.entries {
		if !e.sent || inFlight-uint64(e.size) < buffered {
			break
		}
		inFlight -= uint64(e.size)
		e.ackedAt = now
		drop++
	}
	o.acked = append(o.acked, o.entries[:drop]...)
	o.entries = o.entries[drop:]
	n, b := len(o.acked), 0
	for _, e := range o.acked {
		b += e.size
	}
	old := 0
	for ; n > outboxMaxPackets || b > outboxMaxBytes; n-- {
		b -= o.acked[old].size
		old++
	}
	o.acked = o.acked[old:]
}

// resumed: the server has every packet up to lastSeq; the others go again.
func (o *outbox) resumed(lastSeq uint32) {
	o.acked = nil
	kept := o.entries[:0]
	for _, e := range o.entries {
		if e.seq != 0 && e.seq <= lastSeq {
			continue
		}
		if e.sent {
			e.sent = false
			o.unsent++
			o.waiting += e.size
		}
		kept = append(kept, e)
	}
	o.entries = kept
}

// newParticipant: a full reconnect starts a new participant whose
// sequence starts at 1; what the old one may not have delivered (not
// acknowledged, or acknowledged since the given time) is sent again under
// new numbers. It returns how many acknowledged packets go again.
func (o *outbox) newParticipant(ackedSince time.Time) int {
	again := 0
	for i, e := range o.acked {
		if !e.ackedAt.Before(ackedSince) {
			again = len(o.acked) - i
			o.entries = append(o.acked[i:len(o.acked):len(o.acked)], o.entries...)
			break
		}
	}
	o.resumed(0)
	for _, e := range o.entries {
		e.seq = 0
	}
	o.nextSeq = 1
	return again
}
