package rtp

import "testing"

func TestIsKeyframe(t *testing.T) {
	vp9Profile3Key := []byte{0xb1, 0x24, 0xc1, 0xa1, 0x00} // marker 2, profile 3, reserved 0, key, show, sync code at bit 9
	vp9Profile3Key = append(vp9Profile3Key, fill(20, 1)...)
	cases := []struct {
		name  string
		codec Codec
		frame []byte
		want  bool
	}{
		{"h264 idr", CodecH264, h264KeyAU(1000), true},
		{"h264 idr only", CodecH264, annexB(h264IDR(100)), true},
		{"h264 idr 3-byte start code", CodecH264, append([]byte{0, 0, 1}, h264IDR(50)...), true},
		{"h264 delta", CodecH264, h264DeltaAU(1000), false},
		{"h264 params no idr", CodecH264, annexB(h264SPS, h264PPS, h264Slice(100)), false},
		{"h264 empty", CodecH264, nil, false},
		{"h265 idr", CodecH265, h265KeyAU(1000), true},
		{"h265 cra", CodecH265, annexB(h265CRA(100)), true},
		{"h265 bla", CodecH265, annexB(nal([]byte{0x20, 0x01}, 50, 1)), true},
		{"h265 trail", CodecH265, annexB(h265AUD, h265Trail(100)), false},
		{"h265 reserved irap 22", CodecH265, annexB(nal([]byte{0x2c, 0x01}, 50, 1)), false},
		{"h265 1-byte nal", CodecH265, []byte{0, 0, 1, 0x26}, false},
		{"vp8 key", CodecVP8, vp8Frame(true, 100), true},
		{"vp8 delta", CodecVP8, vp8Frame(false, 100), false},
		{"vp8 key tag without start code", CodecVP8, []byte{0x90, 0x0c, 0x00, 1, 2, 3, 4, 5, 6, 7}, false},
		{"vp8 short", CodecVP8, []byte{0x90, 0x0c}, false},
		{"vp9 key", CodecVP9, vp9Frame(true, 100), true},
		{"vp9 delta", CodecVP9, vp9Frame(false, 100), false},
		{"vp9 key profile 3", CodecVP9, vp9Profile3Key, true},
		{"vp9 show existing", CodecVP9, []byte{0x88, 0, 0, 0, 0}, false},
		{"vp9 bad marker", CodecVP9, []byte{0x02, 0x49, 0x83, 0x42}, false},
		{"vp9 truncated key", CodecVP9, []byte{0x82, 0x49}, false},
		{"av1 key", CodecAV1, av1TU(true, 100), true},
		{"av1 delta", CodecAV1, av1TU(false, 100), false},
		{"av1 seq header after frame", CodecAV1, append(av1OBU(av1Frame, fill(10, 1)), av1OBU(av1OBUSequenceHeader, []byte{0})...), true},
		{"av1 truncated size", CodecAV1, []byte{0x32, 0x80}, false},
		{"av1 size past end", CodecAV1, append(av1OBU(av1Frame, fill(10, 1))[:5], av1OBU(av1OBUSequenceHeader, nil)...), false},
		{"av1 extension header", CodecAV1, []byte{0x0e, 0x08, 0x01, 0x00}, true}, // seq header with extension byte
		{"opus", CodecOpus, opusPacket(50), true},
		{"unknown", CodecUnknown, h264KeyAU(100), false},
	}
	for _, c := range cases {
		if got := IsKeyframe(c.codec, c.frame); got != c.want {
			t.Errorf("%s: IsKeyframe = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestHasParameterSets(t *testing.T) {
	cases := []struct {
		name  string
		codec Codec
		frame []byte
		want  bool
	}{
		{"h264 key", CodecH264, h264KeyAU(100), true},
		{"h264 sps only", CodecH264, annexB(h264SPS, h264IDR(100)), false},
		{"h264 pps only", CodecH264, annexB(h264PPS, h264IDR(100)), false},
		{"h264 delta", CodecH264, h264DeltaAU(100), false},
		{"h265 key", CodecH265, h265KeyAU(100), true},
		{"h265 no vps", CodecH265, annexB(h265SPS, h265PPS, h265IDR(100)), false},
		{"h265 delta", CodecH265, annexB(h265Trail(100)), false},
		{"av1 key", CodecAV1, av1TU(true, 100), true},
		{"av1 delta", CodecAV1, av1TU(false, 100), false},
		{"vp8", CodecVP8, vp8Frame(false, 100), true},
		{"vp9", CodecVP9, vp9Frame(false, 100), true},
		{"opus", CodecOpus, opusPacket(10), true},
		{"unknown", CodecUnknown, h264KeyAU(100), false},
	}
	for _, c := range cases {
		if got := HasParameterSets(c.codec, c.frame); got != c.want {
			t.Errorf("%s: HasParameterSets = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestForEachNALU(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want []string
	}{
		{"none", nil, nil},
		{"no start code", []byte{0x65, 1, 2}, []string{"\x65\x01\x02"}},
		{"3-byte", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, []string{"\x67\x01", "\x68\x02"}},
		{"4-byte", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2}, []string{"\x67\x01", "\x68\x02"}},
		{"empty between", []byte{0, 0, 1, 0, 0, 1, 0x68}, []string{"", "\x68"}},
		{"trailing start code", []byte{0, 0, 1, 0x41, 0, 0, 1}, []string{"\x41", ""}},
	}
	for _, c := range cases {
		var got []string
		forEachNALU(c.in, func(n []byte) bool { got = append(got, string(n)); return true })
		if len(got) != len(c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %q, want %q", c.name, got, c.want)
			}
		}
	}
}

func TestH264StapASafe(t *testing.T) {
	cases := []struct {
		name string
		au   []byte
		want bool
	}{
		{"sps pps idr", h264KeyAU(100), true},
		{"delta", h264DeltaAU(100), true},
		{"params at end", annexB(h264SPS, h264PPS), false},
		{"pps only", annexB(h264PPS, h264Slice(10)), false},
		{"two pps", annexB(h264SPS, h264PPS, h264PPS, h264IDR(10)), false},
		{"two sets", annexB(h264SPS, h264PPS, h264IDR(10), h264SPS, h264PPS, h264IDR(10)), true},
		{"too big", annexB(nal([]byte{0x67}, 1190, 1), h264PPS, h264IDR(10)), false},
	}
	for _, c := range cases {
		if got := h264StapASafe(c.au, DefaultMTU-rtpHeaderSize); got != c.want {
			t.Errorf("%s: h264StapASafe = %v, want %v", c.name, got, c.want)
		}
	}
}
