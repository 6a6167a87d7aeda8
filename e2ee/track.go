package e2ee

import (
	"math/rand/v2"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// TrackEncryptor encrypts the frames of one published track before they are
// packetized (session.TrackSpec.Encryptor). Like Cryptor.Encrypt it is not
// safe for concurrent use; a track's frames come one at a time.
type TrackEncryptor struct {
	cryptor *Cryptor
	codec   rtp.Codec
	// ssrc stands in for the RTP SSRC in the IV: frames are encrypted before
	// the track is bound to a transceiver, and the SSRC changes with every
	// peer connection while the IV only has to be unique. Random per track,
	// as SSRCs are.
	ssrc uint32
}

// NewTrackEncryptor returns the encryptor of one track of codec using keys.
// It fails with ErrUnsupportedCodec for AV1 and with ErrNotPacketizable for
// VP9, whose encrypted frames the RTP payloader cannot describe.
func NewTrackEncryptor(keys *KeyRing, codec rtp.Codec) (*TrackEncryptor, error) {
	if codec == rtp.CodecVP9 {
		return nil, ErrNotPacketizable
	}
	c, err := NewCryptor(keys, codec)
	if err != nil {
		return nil, err
	}
	c.keepSliceHeaders = true
	ssrc := rand.Uint32()
	c.SetSendCount(ssrc, rand.N[uint32](0xffff)) // livekit-client's random start
	return &TrackEncryptor{cryptor: c, codec: codec, ssrc: ssrc}, nil
}

// ErrNotPacketizable is returned for VP9: livekit-client encrypts VP9 frames
// whole, and golivekitsink's VP9 payloader (RFC 9628 non-flexible mode)
// reads the frame's uncompressed header to fill the payload descriptor.
var ErrNotPacketizable = &unsupportedError{"vp9: an encrypted frame hides the header the RTP payloader reads"}

type unsupportedError struct{ reason string }

func (e *unsupportedError) Error() string { return ErrUnsupportedCodec.Error() + ": " + e.reason }
func (e *unsupportedError) Unwrap() error { return ErrUnsupportedCodec }

// EncryptFrame encrypts one encoded frame presented at pts (a negative pts
// means none). The IV's timestamp is pts on the codec's RTP clock.
func (e *TrackEncryptor) EncryptFrame(frame []byte, pts time.Duration) ([]byte, error) {
	info := FrameInfo{SSRC: e.ssrc, Keyframe: e.codec == rtp.CodecVP8 && rtp.IsKeyframe(rtp.CodecVP8, frame)}
	if pts >= 0 {
		rate := time.Duration(e.codec.ClockRate())
		ticks := pts/time.Second*rate + pts%time.Second*rate/time.Second
		info.Timestamp = uint32(ticks) //nolint:gosec // RTP timestamps wrap at 32 bits
	}
	return e.cryptor.Encrypt(frame, info)
}
