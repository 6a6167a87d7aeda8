package harness

import "testing"

func TestIsKeyframePacket(t *testing.T) {
	cases := []struct {
		mime string
		p    []byte
		want bool
	}{
		{"video/H264", []byte{0x65, 0x88}, true},                               // IDR
		{"video/H264", []byte{0x41, 0x9a}, false},                              // non-IDR slice
		{"video/H264", []byte{0x78, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, true}, // STAP-A SPS+PPS
		{"video/H264", []byte{0x7c, 0x85, 0}, true},                            // FU-A start of IDR
		{"video/H264", []byte{0x7c, 0x05, 0}, false},                           // FU-A middle
		{"video/H264", []byte{0x7c, 0x81, 0}, false},                           // FU-A start of non-IDR
		{"video/VP8", []byte{0x90, 0x80, 0x12, 0x10, 0x9d}, true},              // X, I (7-bit id), key frame
		{"video/VP8", []byte{0x90, 0x80, 0x12, 0x11, 0x9d}, false},             // delta frame
		{"video/VP8", []byte{0x80, 0x80, 0x12, 0x10}, false},                   // not a partition start
		{"audio/opus", []byte{0x78, 0x01}, false},
	}
	for i, c := range cases {
		if got := isKeyframePacket(c.mime, c.p); got != c.want {
			t.Errorf("case %d (%s % x): %v, want %v", i, c.mime, c.p, got, c.want)
		}
	}
}
