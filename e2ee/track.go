package e2ee

import (
	"math/rand/v2"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
)

// TrackEncryptor encrypts the frames of one published track before they are
// packetized (session.TrackSpec.Encryptor). It is safe for concurrent use:
// the layers of a simulcast track share it, and the shared frame counter
// keeps their IVs distinct.
type TrackEncryptor struct {
	cryptor *Cryptor
	codec   rtp.Codec
	// ssrc stands in for the RTP SSRC in the IV: frames are encrypted before
	// the track is bound to a transceiver, and the SSRC changes with every
	// peer connection while the IV only has to be unique. Random per track,
	// as SSRCs are.
	ssrc uint32
}

// NewTrackEncryptor returns the encryptor of one track of codec using keys;
// it fails with ErrUnsupportedCodec for AV1. Encrypted frames go through
// rtp.Packetizer.PacketizeEncrypted, which reads VP9's header from the
// clear frame.
func NewTrackEncryptor(keys *KeyRing, codec rtp.Codec) (*TrackEncryptor, error) {
	c, err := NewCryptor(keys, codec)
	if err != nil {
		return nil, err
	}
	c.keepSliceHeaders = true
	ssrc := rand.Uint32()
	c.SetSendCount(ssrc, rand.N[uint32](0xffff)) // livekit-client's random start
	return &TrackEncryptor{cryptor: c, codec: codec, ssrc: ssrc}, nil
}

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
