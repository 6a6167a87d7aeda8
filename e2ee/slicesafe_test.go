package e2ee

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// TestSliceHeaderFields reads the fields of real encoder output: an x264
// IDR slice (first_mb 0, slice_type 7, PPS 0) and P slice (0, 5, 0), and
// x265 IDR_W_RADL (first slice, no_output 0, PPS 0) and TRAIL_R slices.
func TestSliceHeaderFields(t *testing.T) {
	cases := []struct {
		codec rtp.Codec
		nalu  []byte
		want  [3]uint32
	}{
		{rtp.CodecH264, []byte{0x65, 0x88, 0x84, 0x00, 0x21}, [3]uint32{0, 7, 0}},
		{rtp.CodecH264, []byte{0x41, 0x9a, 0x20, 0x10}, [3]uint32{0, 5, 0}},
		{rtp.CodecH264, []byte{0x41, 0x01, 0x42, 0x68}, [3]uint32{160, 5, 0}}, // second slice of a frame
		{rtp.CodecH265, []byte{0x26, 0x01, 0xaf, 0x0c}, [3]uint32{1, 0, 0}},
		{rtp.CodecH265, []byte{0x02, 0x01, 0xd0, 0x04}, [3]uint32{1, 0, 0}},
	}
	for _, tc := range cases {
		got, ok := sliceFields(tc.codec, tc.nalu)
		if !ok || got != tc.want {
			t.Errorf("%s %x: fields %v (ok %v), want %v", tc.codec, tc.nalu, got, ok, tc.want)
		}
	}
}

// TestEncryptedSliceHeadersReadAsClear: every frame TrackEncryptor
// encrypts has a slice header that reads, to a receiver parsing it before
// decryption, like the clear one; with livekit-client's plain IVs many do
// not (which is what lost key frames in browsers).
func TestEncryptedSliceHeadersReadAsClear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	h264IDR := annexB(h264SPS, h264PPS, append([]byte{0x65, 0x88, 0x84, 0x00, 0x21}, randomBytes(r, 3000)...))
	h265IRAP := annexB(h265VPS, h265SPS, h265PPS, append([]byte{0x26, 0x01, 0xaf, 0x0c}, randomBytes(r, 3000)...))
	h265Trail := annexB(append([]byte{0x02, 0x01, 0xd0, 0x04}, randomBytes(r, 800)...))
	for _, tc := range []struct {
		name  string
		codec rtp.Codec
		frame []byte
	}{{"h264 idr", rtp.CodecH264, h264IDR}, {"h265 irap", rtp.CodecH265, h265IRAP}, {"h265 trail", rtp.CodecH265, h265Trail}} {
		t.Run(tc.name, func(t *testing.T) {
			keys := testRing(t, 0)
			enc, err := NewTrackEncryptor(keys, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			plain, _ := NewCryptor(keys, tc.codec)
			dec, _ := NewCryptor(keys, tc.codec)
			clear, err := h26xClearBytes(tc.frame, tc.codec)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := sliceFields(tc.codec, tc.frame[clear-2:])
			changed := 0
			for i := range 200 {
				out, err := enc.EncryptFrame(tc.frame, time.Duration(i)*time.Second/30)
				if err != nil {
					t.Fatal(err)
				}
				if got := encryptedSliceFields(t, tc.codec, out); got != want {
					t.Fatalf("frame %d: encrypted slice header reads %v, clear %v", i, got, want)
				}
				if back, err := dec.Decrypt(out); err != nil || len(back) != len(tc.frame) {
					t.Fatalf("frame %d does not decrypt: %v", i, err)
				}
				lk, err := plain.Encrypt(tc.frame, FrameInfo{SSRC: 9, Timestamp: uint32(i) * 3000})
				if err != nil {
					t.Fatal(err)
				}
				if encryptedSliceFields(t, tc.codec, lk) != want {
					changed++
				}
			}
			if changed == 0 {
				t.Fatal("no plain livekit-client IV changed the slice header: the test cannot tell")
			}
			t.Logf("plain IVs changed the slice header of %d of 200 frames", changed)
		})
	}
}

func encryptedSliceFields(t *testing.T, codec rtp.Codec, frame []byte) [3]uint32 {
	t.Helper()
	clear, err := h26xClearBytes(frame, codec)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := sliceFields(codec, frame[clear-2:])
	return f
}
