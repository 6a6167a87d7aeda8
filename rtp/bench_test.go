package rtp

import (
	"testing"
	"time"
)

func benchPacketize(b *testing.B, c Codec, frame []byte) {
	p := mustPacketizer(b, c, 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	var pts time.Duration
	for b.Loop() {
		p.Packetize(frame, pts)
		pts += time.Second / 30
	}
}

// BenchmarkPacketizeH264_1080p: a typical 1080p P-frame (~16 kB) and an IDR
// access unit with SPS/PPS (~120 kB).
func BenchmarkPacketizeH264_1080p(b *testing.B) {
	b.Run("delta_16kB", func(b *testing.B) { benchPacketize(b, CodecH264, h264DeltaAU(16_000)) })
	b.Run("key_120kB", func(b *testing.B) { benchPacketize(b, CodecH264, h264KeyAU(120_000)) })
}

func BenchmarkPacketizeH265(b *testing.B) {
	b.Run("key_120kB", func(b *testing.B) { benchPacketize(b, CodecH265, h265KeyAU(120_000)) })
}

func BenchmarkPacketizeOpus(b *testing.B) { benchPacketize(b, CodecOpus, opusPacket(160)) }

func BenchmarkPacketizeVP8(b *testing.B) {
	b.Run("delta_16kB", func(b *testing.B) { benchPacketize(b, CodecVP8, vp8Frame(false, 16_000)) })
}

func BenchmarkPacketizeAV1(b *testing.B) {
	b.Run("delta_16kB", func(b *testing.B) { benchPacketize(b, CodecAV1, av1TU(false, 16_000)) })
}

func BenchmarkIsKeyframeH264(b *testing.B) {
	au := h264DeltaAU(16_000)
	b.ReportAllocs()
	for b.Loop() {
		IsKeyframe(CodecH264, au)
	}
}
