package rtp

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/pion/rtp/codecs"
	"github.com/pion/rtp/codecs/vp9"
)

// TestVP9DescriptorsMatchPayloader: for a clear frame, vp9NonFlexible
// writes exactly the payloads pion's VP9Payloader writes.
func TestVP9DescriptorsMatchPayloader(t *testing.T) {
	for _, f := range [][]byte{vp9Frame(true, 50_000), vp9Frame(false, 3000), vp9Frame(true, 300)} {
		var h vp9.Header
		if err := h.Unmarshal(f); err != nil {
			t.Fatal(err)
		}
		pion := codecs.VP9Payloader{InitialPictureIDFn: func() uint16 { return 0x1234 }}
		want := pion.Payload(DefaultMTU-rtpHeaderSize, f)
		got := vp9NonFlexible(DefaultMTU-rtpHeaderSize, 0x1234, h, f)
		if len(got) != len(want) {
			t.Fatalf("%d payloads, pion %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("payload %d differs from pion's:\n got %x\nwant %x", i, got[i][:16], want[i][:16])
			}
		}
	}
}

// TestPacketizeEncryptedVP9: an encrypted VP9 frame (opaque bytes, longer
// than the clear one) is carried whole, with the descriptor of the clear
// frame and a PictureID that advances per frame; other codecs packetize
// the encrypted frame as Packetize does.
func TestPacketizeEncryptedVP9(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	p := mustPacketizer(t, CodecVP9, 0)
	var lastPID uint16
	for i, clear := range [][]byte{vp9Frame(true, 20_000), vp9Frame(false, 2000)} {
		enc := make([]byte, len(clear)+30)
		for j := range enc {
			enc[j] = byte(r.Uint32())
		}
		pkts := p.PacketizeEncrypted(enc, clear, 0)
		var out []byte
		for j, pk := range pkts {
			var d codecs.VP9Packet
			b, err := d.Unmarshal(pk.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				if d.P != (i == 1) || d.V != (i == 0) || (i == 0 && (d.Width[0] != 1280 || d.Height[0] != 720)) {
					t.Fatalf("frame %d descriptor P=%v V=%v size %vx%v", i, d.P, d.V, d.Width, d.Height)
				}
				if i == 1 && d.PictureID != (lastPID+1)&0x7fff {
					t.Fatalf("PictureID %d after %d", d.PictureID, lastPID)
				}
				lastPID = d.PictureID
			}
			out = append(out, b...)
		}
		if !bytes.Equal(out, enc) || !pkts[len(pkts)-1].Marker {
			t.Fatalf("frame %d: %d bytes carried, want the %d encrypted ones", i, len(out), len(enc))
		}
	}
	if pkts := p.PacketizeEncrypted([]byte{1, 2, 3}, []byte{0xff}, 0); pkts != nil {
		t.Fatal("packets for an unparsable clear header")
	}
	vp8 := mustPacketizer(t, CodecVP8, 0)
	if pkts := vp8.PacketizeEncrypted(vp8Frame(true, 500), nil, 0); len(pkts) != 1 {
		t.Fatalf("VP8: %d packets", len(pkts))
	}
}
