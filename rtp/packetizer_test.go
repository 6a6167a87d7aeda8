package rtp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

func mustPacketizer(t testing.TB, c Codec, mtu int) *Packetizer {
	t.Helper()
	p, err := NewPacketizer(c, mtu)
	if err != nil {
		t.Fatalf("NewPacketizer(%v, %d): %v", c, mtu, err)
	}
	return p
}

func TestNewPacketizer(t *testing.T) {
	for _, c := range []Codec{CodecH264, CodecH265, CodecVP8, CodecVP9, CodecAV1, CodecOpus} {
		p := mustPacketizer(t, c, 0)
		if p.Codec() != c {
			t.Errorf("Codec() = %v, want %v", p.Codec(), c)
		}
		if p.payloadMTU != DefaultMTU-rtpHeaderSize {
			t.Errorf("%v: payload MTU %d, want %d", c, p.payloadMTU, DefaultMTU-rtpHeaderSize)
		}
	}
	for _, c := range []Codec{CodecUnknown, Codec(99), Codec(-1)} {
		if _, err := NewPacketizer(c, 0); !errors.Is(err, ErrUnknownCodec) {
			t.Errorf("NewPacketizer(%d) err = %v, want ErrUnknownCodec", int(c), err)
		}
	}
	for _, mtu := range []int{-1, 1, MinMTU - 1, MaxMTU + 1} {
		if _, err := NewPacketizer(CodecH264, mtu); err == nil {
			t.Errorf("NewPacketizer(mtu %d) succeeded", mtu)
		}
	}
	// Initial sequence numbers and timestamps are random.
	seqs, tss := map[uint16]bool{}, map[uint32]bool{}
	for range 16 {
		p := mustPacketizer(t, CodecVP8, 0)
		seqs[p.seq], tss[p.anchorTS] = true, true
	}
	if len(seqs) < 8 || len(tss) < 8 {
		t.Errorf("initial seq/timestamp not random: %d seqs, %d timestamps of 16", len(seqs), len(tss))
	}
}

type frameCase struct {
	name  string
	codec Codec
	frame []byte
}

func frameCases() []frameCase {
	return []frameCase{
		{"h264 key 120k", CodecH264, h264KeyAU(120_000)},
		{"h264 key small", CodecH264, h264KeyAU(300)},
		{"h264 delta 16k", CodecH264, h264DeltaAU(16_000)},
		{"h264 delta tiny", CodecH264, h264DeltaAU(10)},
		{"h264 params only", CodecH264, annexB(h264SPS, h264PPS)},
		{"h264 two slices", CodecH264, annexB(h264Slice(3000), h264Slice(500))},
		{"h265 key 120k", CodecH265, h265KeyAU(120_000)},
		{"h265 key small", CodecH265, h265KeyAU(200)},
		{"h265 delta", CodecH265, annexB(h265AUD, h265Trail(16_000))},
		{"vp8 key", CodecVP8, vp8Frame(true, 50_000)},
		{"vp8 delta", CodecVP8, vp8Frame(false, 800)},
		{"vp9 key", CodecVP9, vp9Frame(true, 50_000)},
		{"vp9 delta", CodecVP9, vp9Frame(false, 5000)},
		{"av1 key", CodecAV1, av1TU(true, 50_000)},
		{"av1 delta", CodecAV1, av1TU(false, 900)},
		{"opus", CodecOpus, opusPacket(160)},
	}
}

// checkPackets verifies the per-frame invariants every codec shares.
func checkPackets(t *testing.T, c Codec, pkts []*rtp.Packet, mtu int, wantSeq uint16, wantTS uint32) {
	t.Helper()
	if len(pkts) == 0 {
		t.Fatal("no packets")
	}
	for i, pk := range pkts {
		if pk.Version != 2 || pk.PayloadType != 0 || pk.SSRC != 0 || pk.Padding || pk.Extension || len(pk.CSRC) != 0 {
			t.Errorf("packet %d: unexpected header %+v", i, pk.Header)
		}
		if pk.SequenceNumber != wantSeq+uint16(i) { //nolint:gosec
			t.Errorf("packet %d: seq %d, want %d", i, pk.SequenceNumber, wantSeq+uint16(i)) //nolint:gosec
		}
		if pk.Timestamp != wantTS {
			t.Errorf("packet %d: ts %d, want %d", i, pk.Timestamp, wantTS)
		}
		wantMarker := c.IsVideo() && i == len(pkts)-1
		if pk.Marker != wantMarker {
			t.Errorf("packet %d/%d: marker %v, want %v", i, len(pkts), pk.Marker, wantMarker)
		}
		b, err := pk.Marshal()
		if err != nil {
			t.Fatalf("packet %d: marshal: %v", i, err)
		}
		// Opus packets are never fragmented (RFC 7587 §4.2), so they alone
		// may exceed the MTU.
		if len(b) > mtu && c != CodecOpus {
			t.Errorf("packet %d: %d bytes > mtu %d", i, len(b), mtu)
		}
	}
}

func TestPacketizeCodecs(t *testing.T) {
	for _, mtu := range []int{MinMTU, 300, DefaultMTU, 1500} {
		for _, tc := range frameCases() {
			t.Run(tc.name, func(t *testing.T) {
				p := mustPacketizer(t, tc.codec, mtu)
				seq, base := p.seq, p.anchorTS
				for i := range 3 {
					pts := time.Duration(i) * 20 * time.Millisecond
					pkts := p.Packetize(tc.frame, pts)
					checkPackets(t, tc.codec, pkts, mtu, seq, base+ptsTicks(pts, tc.codec.ClockRate()))
					seq += uint16(len(pkts)) //nolint:gosec
				}
			})
		}
	}
}

func TestPacketizeEmpty(t *testing.T) {
	for _, tc := range frameCases() {
		p := mustPacketizer(t, tc.codec, 0)
		seq := p.seq
		if pkts := p.Packetize(nil, 0); pkts != nil {
			t.Errorf("%s: empty frame gave %d packets", tc.name, len(pkts))
		}
		if p.seq != seq {
			t.Errorf("%s: empty frame used sequence numbers", tc.name)
		}
	}
	p := mustPacketizer(t, CodecH264, 0)
	if pkts := p.Packetize(annexB(h264AUD), 0); pkts != nil {
		t.Errorf("AUD-only AU gave %d packets", len(pkts))
	}
}

func TestSequenceWraparound(t *testing.T) {
	p := mustPacketizer(t, CodecVP8, 0)
	p.seq = 65533
	var got []uint16
	for i := range 4 {
		for _, pk := range p.Packetize(vp8Frame(i == 0, 2500), time.Duration(i)*time.Second/30) {
			got = append(got, pk.SequenceNumber)
		}
	}
	want := uint16(65533)
	for i, s := range got {
		if s != want {
			t.Fatalf("packet %d: seq %d, want %d (all: %v)", i, s, want, got)
		}
		want++
	}
	if len(got) < 6 || got[len(got)-1] > 100 {
		t.Fatalf("did not wrap: %v", got)
	}
}

// TestPacketsIndependent checks that returned packets share no memory with
// the input frame: the caller may reuse its buffer at once, as GStreamer
// does. They stay valid until the next Packetize call, which reuses them.
func TestPacketsIndependent(t *testing.T) {
	for _, tc := range frameCases() {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPacketizer(t, tc.codec, 0)
			buf := append([]byte{}, tc.frame...)
			first := p.Packetize(buf, 0)
			var before [][]byte
			for _, pk := range first {
				b, _ := pk.Marshal()
				before = append(before, b)
			}
			for i := range buf {
				buf[i] ^= 0x5a
			}
			for i, pk := range first {
				b, _ := pk.Marshal()
				if !bytes.Equal(b, before[i]) {
					t.Fatalf("packet %d changed with the caller's buffer", i)
				}
			}
		})
	}
}

// TestH264PayloadsMatchPion checks the arena payloading against pion's
// H264Payloader, fresh per access unit as the Packetizer used it, for every
// H.264 case at several MTUs, and that a call's packets come out the same
// after a larger frame grew the arena.
func TestH264PayloadsMatchPion(t *testing.T) {
	var aus [][]byte
	for _, tc := range frameCases() {
		if tc.codec == CodecH264 {
			aus = append(aus, tc.frame)
		}
	}
	aus = append(aus, h264KeyAU(120_000), h264DeltaAU(16_000), annexB(h264AUD), []byte{0, 0, 1},
		[]byte{0x65, 1, 2, 3}, // no start code: one NAL unit
		annexB(h264SPS, h264SPS, h264PPS, []byte{0x65, 9, 9}), // a second SPS: no STAP-A
		annexB([]byte{0x65, 1}, h264SPS, h264PPS))             // parameter sets last
	for _, mtu := range []int{MinMTU, 200, DefaultMTU, 1500} {
		p := mustPacketizer(t, CodecH264, mtu)
		for i, au := range aus {
			want := (&codecs.H264Payloader{DisableStapA: !h264StapASafe(au, mtu-rtpHeaderSize)}).Payload(uint16(mtu-rtpHeaderSize), au) //nolint:gosec
			got := p.Packetize(au, 0)
			if len(got) != len(want) {
				t.Fatalf("mtu %d, AU %d: %d packets, pion %d", mtu, i, len(got), len(want))
			}
			for j := range want {
				if !bytes.Equal(got[j].Payload, want[j]) {
					t.Fatalf("mtu %d, AU %d, packet %d: payload %x..., pion %x...", mtu, i, j,
						got[j].Payload[:min(8, len(got[j].Payload))], want[j][:min(8, len(want[j]))])
				}
			}
		}
	}
}

// nalus lists the NAL units of an Annex-B buffer, skipping empty ones and
// access unit delimiters (which the payloaders drop).
func nalus(t *testing.T, c Codec, au []byte) [][]byte {
	t.Helper()
	var out [][]byte
	forEachNALU(au, func(n []byte) bool {
		switch {
		case len(n) == 0:
		case c == CodecH264 && h264NALType(n) == h264NALAUD:
		case c == CodecH265 && h265NALType(n) == 35:
		default:
			out = append(out, n)
		}
		return true
	})
	return out
}

func equalNALUs(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d NAL units, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("NAL unit %d differs: got %d bytes %x..., want %d bytes %x...",
				i, len(got[i]), got[i][:min(8, len(got[i]))], len(want[i]), want[i][:min(8, len(want[i]))])
		}
	}
}

func TestH264RoundTrip(t *testing.T) {
	cases := map[string][]byte{
		"key 120k":             h264KeyAU(120_000),
		"key small (STAP-A)":   h264KeyAU(300),
		"delta":                h264DeltaAU(16_000),
		"params only":          annexB(h264AUD, h264SPS, h264PPS),
		"two PPS":              annexB(h264SPS, h264PPS, append([]byte{}, h264PPS...), h264IDR(2000)),
		"PPS only":             annexB(h264PPS, h264Slice(2000)),
		"params after slice":   annexB(h264Slice(2000), h264SPS, h264PPS),
		"3-byte start codes":   append([]byte{0, 0, 1}, append(h264SPS, append([]byte{0, 0, 1}, h264IDR(5000)...)...)...),
		"no start code (raw)":  h264IDR(4000),
		"huge SPS (no STAP-A)": annexB(nal([]byte{0x67}, 1150, 1), h264PPS, h264IDR(100)),
	}
	for name, au := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPacketizer(t, CodecH264, 0)
			pkts := p.Packetize(au, 0)
			checkPackets(t, CodecH264, pkts, DefaultMTU, pkts[0].SequenceNumber, pkts[0].Timestamp)
			var d codecs.H264Packet
			var out []byte
			for _, pk := range pkts {
				b, err := d.Unmarshal(pk.Payload)
				if err != nil {
					t.Fatalf("depacketize seq %d: %v", pk.SequenceNumber, err)
				}
				out = append(out, b...)
			}
			equalNALUs(t, nalus(t, CodecH264, out), nalus(t, CodecH264, au))
		})
	}
}

func TestH264Fragmentation(t *testing.T) {
	p := mustPacketizer(t, CodecH264, 0)
	pkts := p.Packetize(h264KeyAU(120_000), 0)
	if len(pkts) < 100 {
		t.Fatalf("120 kB IDR gave only %d packets", len(pkts))
	}
	if typ := pkts[0].Payload[0] & 0x1f; typ != 24 {
		t.Errorf("first packet NAL type %d, want STAP-A (24) with SPS+PPS", typ)
	}
	fu := 0
	for _, pk := range pkts {
		if pk.Payload[0]&0x1f == 28 {
			fu++
		}
	}
	if fu < 100 {
		t.Errorf("%d FU-A packets, want >= 100", fu)
	}
}

func TestH265RoundTrip(t *testing.T) {
	cases := map[string][]byte{
		"key 120k":  h265KeyAU(120_000),
		"key small": h265KeyAU(200),
		"delta":     annexB(h265AUD, h265Trail(16_000)),
		"cra":       annexB(h265CRA(3000)),
	}
	for name, au := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustPacketizer(t, CodecH265, 0)
			pkts := p.Packetize(au, 0)
			checkPackets(t, CodecH265, pkts, DefaultMTU, pkts[0].SequenceNumber, pkts[0].Timestamp)
			var d codecs.H265Depacketizer
			var out []byte
			for _, pk := range pkts {
				b, err := d.Unmarshal(pk.Payload)
				if err != nil {
					t.Fatalf("depacketize seq %d: %v", pk.SequenceNumber, err)
				}
				out = append(out, b...)
			}
			equalNALUs(t, nalus(t, CodecH265, out), nalus(t, CodecH265, au))
		})
	}
}

func TestVP8RoundTrip(t *testing.T) {
	p := mustPacketizer(t, CodecVP8, 0)
	var lastPID uint16
	for i, f := range [][]byte{vp8Frame(true, 50_000), vp8Frame(false, 900), vp8Frame(false, 3000)} {
		var out []byte
		for j, pk := range p.Packetize(f, time.Duration(i)*time.Second/30) {
			var d codecs.VP8Packet
			b, err := d.Unmarshal(pk.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if (d.S == 1) != (j == 0) || d.I != 1 {
				t.Errorf("frame %d packet %d: S=%d I=%d", i, j, d.S, d.I)
			}
			if i > 0 && j == 0 && d.PictureID != (lastPID+1)&0x7fff {
				t.Errorf("PictureID %d after %d", d.PictureID, lastPID)
			}
			lastPID = d.PictureID
			out = append(out, b...)
		}
		if !bytes.Equal(out, f) {
			t.Fatalf("frame %d did not round-trip", i)
		}
	}
}

func TestVP9RoundTrip(t *testing.T) {
	p := mustPacketizer(t, CodecVP9, 0)
	for i, f := range [][]byte{vp9Frame(true, 50_000), vp9Frame(false, 900), vp9Frame(false, 3000)} {
		var out []byte
		pkts := p.Packetize(f, time.Duration(i)*time.Second/30)
		for j, pk := range pkts {
			var d codecs.VP9Packet
			b, err := d.Unmarshal(pk.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if d.B != (j == 0) || d.E != (j == len(pkts)-1) || d.P != (i > 0) || d.F {
				t.Errorf("frame %d packet %d: B=%v E=%v P=%v F=%v", i, j, d.B, d.E, d.P, d.F)
			}
			if i == 0 && j == 0 && (!d.V || len(d.Width) != 1 || d.Width[0] != 1280 || d.Height[0] != 720) {
				t.Errorf("keyframe scalability structure: V=%v %v x %v", d.V, d.Width, d.Height)
			}
			out = append(out, b...)
		}
		if !bytes.Equal(out, f) {
			t.Fatalf("frame %d did not round-trip", i)
		}
	}
}

func TestAV1RoundTrip(t *testing.T) {
	for _, key := range []bool{true, false} {
		tu := av1TU(key, 50_000)
		p := mustPacketizer(t, CodecAV1, 0)
		pkts := p.Packetize(tu, 0)
		var d codecs.AV1Depacketizer
		var out []byte
		for _, pk := range pkts {
			b, err := d.Unmarshal(pk.Payload)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b...)
		}
		want := tu[2:] // the temporal delimiter OBU (2 bytes) is dropped
		if !bytes.Equal(out, want) {
			t.Fatalf("key=%v: TU did not round-trip: got %d bytes, want %d", key, len(out), len(want))
		}
		if n := pkts[0].Payload[0]&0x08 != 0; n != key {
			t.Errorf("key=%v: N bit %v", key, n)
		}
	}
}

func TestOpusPacket(t *testing.T) {
	p := mustPacketizer(t, CodecOpus, 0)
	f := opusPacket(120)
	pkts := p.Packetize(f, 0)
	if len(pkts) != 1 || !bytes.Equal(pkts[0].Payload, f) || pkts[0].Marker {
		t.Fatalf("opus: %d packets, marker %v", len(pkts), pkts[0].Marker)
	}
}
