// Package rtp turns encoded frames into RTP packets: pion's payloaders per
// codec, RTP timestamps derived from presentation timestamps, sequence
// numbers that stay continuous for the life of a track, and keyframe
// detection. It has no cgo and no pion/webrtc dependency.
package rtp

import "strings"

// Codec is a codec golivekitsink can publish.
type Codec int

const (
	CodecUnknown Codec = iota
	CodecH264
	CodecH265
	CodecVP8
	CodecVP9
	CodecAV1
	CodecOpus
)

// MimeType is the WebRTC mime type ("video/H264", "audio/opus", ...).
func (c Codec) MimeType() string {
	switch c {
	case CodecH264:
		return "video/H264"
	case CodecH265:
		return "video/H265"
	case CodecVP8:
		return "video/VP8"
	case CodecVP9:
		return "video/VP9"
	case CodecAV1:
		return "video/AV1"
	case CodecOpus:
		return "audio/opus"
	}
	return ""
}

// ClockRate is the RTP clock rate of the codec.
func (c Codec) ClockRate() uint32 {
	if c == CodecOpus {
		return 48000
	}
	return 90000
}

// IsVideo reports whether the codec carries video.
func (c Codec) IsVideo() bool { return c != CodecOpus && c != CodecUnknown }

func (c Codec) String() string {
	if m := c.MimeType(); m != "" {
		return strings.ToLower(m[strings.Index(m, "/")+1:])
	}
	return "unknown"
}

// CodecFromMime maps a WebRTC mime type (case-insensitive) to a Codec.
func CodecFromMime(mime string) Codec {
	for _, c := range []Codec{CodecH264, CodecH265, CodecVP8, CodecVP9, CodecAV1, CodecOpus} {
		if strings.EqualFold(c.MimeType(), mime) {
			return c
		}
	}
	return CodecUnknown
}
