package e2ee

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	pionrtp "github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

func testRing(t testing.TB, index int) *KeyRing {
	t.Helper()
	var ring KeyRing
	if err := ring.SetKey(bytes.Repeat([]byte{byte(index + 1)}, keySize), index); err != nil {
		t.Fatal(err)
	}
	return &ring
}

func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func annexB(nalus ...[]byte) []byte {
	var out []byte
	for _, n := range nalus {
		out = append(append(out, 0, 0, 0, 1), n...)
	}
	return out
}

var (
	h264AUD = []byte{0x09, 0xf0}
	h264SPS = []byte{0x67, 0x42, 0xc0, 0x1e, 0x95, 0xa0, 0xa0, 0xfd, 0x00, 0x80}
	h264PPS = []byte{0x68, 0xce, 0x3c, 0x80}
	h265AUD = []byte{0x46, 0x01, 0x50}
	h265VPS = []byte{0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xac, 0x09}
	h265SPS = []byte{0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0, 0x02, 0x80, 0x80, 0x2d}
	h265PPS = []byte{0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40}
)

// depacketize reassembles a frame the way a WebRTC receiver hands it to
// livekit-client's decrypt transform: H.264/H.265 NAL units each behind a
// 4-byte start code (pion's depacketizers do the same).
func depacketize(t *testing.T, codec rtp.Codec, pkts []*pionrtp.Packet) []byte {
	t.Helper()
	var d interface {
		Unmarshal([]byte) ([]byte, error)
	}
	switch codec {
	case rtp.CodecH264:
		d = &codecs.H264Packet{}
	case rtp.CodecH265:
		d = &codecs.H265Depacketizer{}
	case rtp.CodecVP8:
		d = &codecs.VP8Packet{}
	case rtp.CodecVP9:
		d = &codecs.VP9Packet{}
	case rtp.CodecOpus:
		d = &codecs.OpusPacket{}
	}
	var out []byte
	for _, p := range pkts {
		b, err := d.Unmarshal(p.Payload)
		if err != nil {
			t.Fatalf("depacketize seq %d: %v", p.SequenceNumber, err)
		}
		out = append(out, b...)
	}
	return out
}

// TestPacketizedRoundTrip: a frame encrypted by TrackEncryptor, packetized by
// rtp.Packetizer and reassembled as a browser does decrypts to the frame
// the decoder expects, and the encrypted slice crosses the Annex-B
// packetizer as one NAL unit (no start code leaks out of the ciphertext).
func TestPacketizedRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	idr := append([]byte{0x65, 0x88, 0x84, 0x00}, randomBytes(r, 120_000)...)
	slice := append([]byte{0x41, 0x9a}, randomBytes(r, 9_000)...)
	h265IDR := append([]byte{0x26, 0x01, 0xaf}, randomBytes(r, 40_000)...)
	h265Trail := append([]byte{0x02, 0x01, 0xd0}, randomBytes(r, 3_000)...)
	cases := []struct {
		name  string
		codec rtp.Codec
		frame []byte
		want  []byte // what the subscriber's decoder gets, when not frame
		nalus int    // NAL units the subscriber receives
	}{
		{"h264 key with AUD", rtp.CodecH264, annexB(h264AUD, h264SPS, h264PPS, idr), annexB(h264SPS, h264PPS, idr), 3},
		{"h264 3-byte start codes", rtp.CodecH264,
			append(append([]byte{0, 0, 1}, h264SPS...), append(append([]byte{0, 0, 1}, h264PPS...), append([]byte{0, 0, 1}, slice...)...)...),
			annexB(h264SPS, h264PPS, slice), 3},
		{"h264 delta", rtp.CodecH264, annexB(h264AUD, slice), annexB(slice), 1},
		{"h264 two slices", rtp.CodecH264, annexB(slice, slice), annexB(slice, slice), 1},
		{"h265 key with AUD", rtp.CodecH265, annexB(h265AUD, h265VPS, h265SPS, h265PPS, h265IDR), annexB(h265VPS, h265SPS, h265PPS, h265IDR), 4},
		{"h265 delta", rtp.CodecH265, annexB(h265Trail), nil, 1},
		{"vp8 key", rtp.CodecVP8, append([]byte{0x50, 0x43, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}, randomBytes(r, 30_000)...), nil, 0},
		{"vp8 delta", rtp.CodecVP8, append([]byte{0xb1, 0x06, 0x00}, randomBytes(r, 2_000)...), nil, 0},
		{"vp9 key", rtp.CodecVP9, append([]byte{0x82, 0x49, 0x83, 0x42, 0x00, 0x13, 0xf0, 0x0e, 0xf0}, randomBytes(r, 20_000)...), nil, 0},
		{"vp9 delta", rtp.CodecVP9, append([]byte{0x86, 0x00, 0x40}, randomBytes(r, 3_000)...), nil, 0},
		{"opus", rtp.CodecOpus, append([]byte{0xfc}, randomBytes(r, 160)...), nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys := testRing(t, 2)
			enc, err := NewTrackEncryptor(keys, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			// SSRC 1 puts 00 00 00 01 into every IV: unescaped, it would
			// split the encrypted slice.
			enc.ssrc = 1
			dec, _ := NewCryptor(keys, tc.codec)
			p, err := rtp.NewPacketizer(tc.codec, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.want
			if want == nil {
				want = tc.frame
			}
			// Many frames: each has a new IV, so a start code emulated by
			// the ciphertext or the IV would show up in some of them.
			for i := range 40 {
				encrypted, err := enc.EncryptFrame(tc.frame, time.Duration(i)*time.Second/30)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(encrypted, tc.frame[len(tc.frame)-64:]) {
					t.Fatal("the end of the frame is in clear")
				}
				pkts := p.PacketizeEncrypted(encrypted, tc.frame, time.Duration(i)*time.Second/30)
				if len(pkts) == 0 {
					t.Fatalf("frame %d: no packets", i)
				}
				received := depacketize(t, tc.codec, pkts)
				if tc.nalus > 0 {
					n := 0
					rtp.ForEachNALU(received, func([]byte) bool { n++; return true })
					if n != tc.nalus {
						t.Fatalf("frame %d: subscriber got %d NAL units, want %d", i, n, tc.nalus)
					}
				}
				got, err := dec.Decrypt(received)
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("frame %d: decrypted %d bytes, want the %d the decoder expects", i, len(got), len(want))
				}
			}
		})
	}
}

// TestEscapeRBSP: escaped bytes hold no start code and no 00 00 00, and
// unescaping restores them, for inputs dense in zeros.
func TestEscapeRBSP(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		in := make([]byte, r.IntN(64))
		for i := range in {
			if r.IntN(2) == 0 {
				in[i] = byte(r.IntN(4))
			} else {
				in[i] = byte(r.Uint32())
			}
		}
		out := escapeRBSP(in)
		for _, bad := range [][]byte{{0, 0, 0}, {0, 0, 1}, {0, 0, 2}} {
			if bytes.Contains(out, bad) {
				t.Fatalf("escape(%x) = %x contains %x", in, out, bad)
			}
		}
		if back := unescapeRBSP(out); !bytes.Equal(back, in) {
			t.Fatalf("unescape(escape(%x)) = %x", in, back)
		}
	}
}

// TestKeyRotation: after SetKey at a new index, frames carry that index and
// a subscriber holding both keys decrypts frames from before and after.
func TestKeyRotation(t *testing.T) {
	keys := testRing(t, 0)
	enc, _ := NewTrackEncryptor(keys, rtp.CodecOpus)
	frame := []byte{0xfc, 1, 2, 3, 4}
	before, _ := enc.EncryptFrame(frame, 0)
	if err := keys.SetKey(bytes.Repeat([]byte{9}, keySize), 5); err != nil {
		t.Fatal(err)
	}
	after, _ := enc.EncryptFrame(frame, 20*time.Millisecond)
	if before[len(before)-1] != 0 || after[len(after)-1] != 5 || keys.CurrentIndex() != 5 {
		t.Fatalf("key index bytes %d then %d, current %d; want 0 then 5", before[len(before)-1], after[len(after)-1], keys.CurrentIndex())
	}
	dec, _ := NewCryptor(keys, rtp.CodecOpus)
	for _, f := range [][]byte{before, after} {
		if got, err := dec.Decrypt(f); err != nil || !bytes.Equal(got, frame) {
			t.Fatalf("decrypt after rotation: %x, %v", got, err)
		}
	}
	onlyOld := testRing(t, 0)
	old, _ := NewCryptor(onlyOld, rtp.CodecOpus)
	if _, err := old.Decrypt(after); !errors.Is(err, ErrNoKey) {
		t.Fatalf("subscriber without the new key: %v, want ErrNoKey", err)
	}
	if err := keys.SetKey(make([]byte, keySize), KeyRingSize); err == nil {
		t.Fatal("key index 16 accepted")
	}
	if err := keys.SetKey(make([]byte, 32), 1); err == nil {
		t.Fatal("32-byte frame key accepted")
	}
}

// TestUnsupportedCodecs: AV1 (livekit-client cannot decrypt it) fails with
// an error naming it.
func TestUnsupportedCodecs(t *testing.T) {
	keys := testRing(t, 0)
	for _, c := range []rtp.Codec{rtp.CodecAV1, rtp.CodecUnknown} {
		_, err := NewTrackEncryptor(keys, c)
		if !errors.Is(err, ErrUnsupportedCodec) || !bytes.Contains([]byte(err.Error()), []byte(c.String())) {
			t.Errorf("%s: %v, want ErrUnsupportedCodec naming the codec", c, err)
		}
	}
	var empty KeyRing
	enc, _ := NewTrackEncryptor(&empty, rtp.CodecH264)
	if _, err := enc.EncryptFrame(annexB(h264SPS), 0); !errors.Is(err, ErrNoKey) {
		t.Errorf("encrypt without a key: %v, want ErrNoKey", err)
	}
	if _, err := NewTrackEncryptor(keys, rtp.CodecH264); err != nil {
		t.Fatal(err)
	}
	h264, _ := NewTrackEncryptor(keys, rtp.CodecH264)
	if _, err := h264.EncryptFrame(annexB(h264SPS, h264PPS), 0); !errors.Is(err, errNoSlice) {
		t.Errorf("access unit without a slice: %v, want errNoSlice", err)
	}
}

// TestConcurrentLayers: the layers of a simulcast track share one
// TrackEncryptor from their own threads; every frame decrypts and no IV
// repeats.
func TestConcurrentLayers(t *testing.T) {
	keys := testRing(t, 0)
	enc, err := NewTrackEncryptor(keys, rtp.CodecVP8)
	if err != nil {
		t.Fatal(err)
	}
	dec, _ := NewCryptor(keys, rtp.CodecVP8)
	frame := append([]byte{0xb1, 0x06, 0x00}, bytes.Repeat([]byte{7}, 500)...)
	const layers, frames = 3, 200
	out := make([][][]byte, layers)
	var wg sync.WaitGroup
	for l := range layers {
		wg.Go(func() {
			for i := range frames {
				f, err := enc.EncryptFrame(frame, time.Duration(i)*time.Second/30)
				if err != nil {
					t.Error(err)
					return
				}
				out[l] = append(out[l], f)
			}
		})
	}
	wg.Wait()
	ivs := map[string]bool{}
	for _, fs := range out {
		for _, f := range fs {
			if got, err := dec.Decrypt(f); err != nil || !bytes.Equal(got, frame) {
				t.Fatalf("decrypt: %v", err)
			}
			ivs[string(f[len(f)-trailerLength:len(f)-2])] = true
		}
	}
	if len(ivs) != layers*frames {
		t.Fatalf("%d distinct IVs for %d frames", len(ivs), layers*frames)
	}
}
