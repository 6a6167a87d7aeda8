package rtp

import (
	"bytes"
	"testing"
	"time"

	"github.com/pion/rtp/codecs"
)

var fuzzCodecs = []Codec{CodecH264, CodecH265, CodecVP8, CodecVP9, CodecAV1, CodecOpus}

func fuzzSeeds(f *testing.F, add func(codec uint8, frame []byte)) {
	for i, c := range fuzzCodecs {
		for _, tc := range frameCases() {
			if tc.codec == c && len(tc.frame) < 4000 {
				add(uint8(i), tc.frame) //nolint:gosec
			}
		}
	}
	add(0, []byte{0, 0, 1})
	add(0, []byte{0, 0, 0, 1, 0x7c, 0x85}) // FU-A in an Annex-B stream
	add(1, []byte{0, 0, 1, 0x62, 0x01, 0x93})
	add(4, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	add(4, []byte{0x08, 0x01})
}

// FuzzPacketize checks that Packetize never panics and keeps its invariants
// (MTU, sequence continuity, marker) on arbitrary input, and that its H.264
// payloads are pion's H264Payloader's.
//
//	go test -run=^$ -fuzz=FuzzPacketize -fuzztime=10s ./rtp/
func FuzzPacketize(f *testing.F) {
	fuzzSeeds(f, func(codec uint8, frame []byte) { f.Add(codec, uint16(0), int64(0), frame) })
	f.Fuzz(func(t *testing.T, codec uint8, mtu uint16, pts int64, frame []byte) {
		c := fuzzCodecs[int(codec)%len(fuzzCodecs)]
		m := MinMTU + int(mtu)%(1500-MinMTU+1)
		p, err := NewPacketizer(c, m)
		if err != nil {
			t.Fatal(err)
		}
		seq := p.seq
		for i := range 2 {
			pkts := p.Packetize(frame, time.Duration(pts)+time.Duration(i)*time.Millisecond)
			if c == CodecH264 {
				pm := m - rtpHeaderSize
				want := (&codecs.H264Payloader{DisableStapA: !h264StapASafe(frame, pm)}).Payload(uint16(pm), frame) //nolint:gosec
				if len(want) != len(pkts) {
					t.Fatalf("%d packets, pion %d", len(pkts), len(want))
				}
				for j := range want {
					if !bytes.Equal(pkts[j].Payload, want[j]) {
						t.Fatalf("packet %d payload differs from pion's", j)
					}
				}
			}
			for j, pk := range pkts {
				if pk.SequenceNumber != seq {
					t.Fatalf("seq %d, want %d", pk.SequenceNumber, seq)
				}
				seq++
				if pk.Marker != (c.IsVideo() && j == len(pkts)-1) {
					t.Fatalf("packet %d/%d marker %v", j, len(pkts), pk.Marker)
				}
				if c != CodecOpus && pk.MarshalSize() > m {
					t.Fatalf("packet %d: %d bytes > mtu %d", j, pk.MarshalSize(), m)
				}
			}
		}
	})
}

// FuzzIsKeyframe checks that IsKeyframe and HasParameterSets never panic.
//
//	go test -run=^$ -fuzz=FuzzIsKeyframe -fuzztime=10s ./rtp/
func FuzzIsKeyframe(f *testing.F) {
	fuzzSeeds(f, func(codec uint8, frame []byte) { f.Add(codec, frame) })
	f.Fuzz(func(_ *testing.T, codec uint8, frame []byte) {
		c := Codec(int(codec) % (len(fuzzCodecs) + 2)) // include CodecUnknown and an invalid value
		IsKeyframe(c, frame)
		HasParameterSets(c, frame)
		h264StapASafe(frame, int(codec))
	})
}
