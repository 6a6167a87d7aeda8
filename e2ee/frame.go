package e2ee

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/golivekitsink/golivekitsink/rtp"
)

const (
	ivLength = 12
	// trailerLength is IV | IV length | key index.
	trailerLength = ivLength + 2
	gcmTagLength  = 16

	// Clear bytes of livekit-client's UNENCRYPTED_BYTES: the VP8 frame tag
	// plus, on key frames, start code and size (RFC 6386 §9.1); the Opus TOC
	// byte (RFC 6716 §3.1).
	vp8KeyClearBytes   = 10
	vp8DeltaClearBytes = 3
	opusClearBytes     = 1
)

// ErrUnsupportedCodec is returned for a codec livekit-client cannot decrypt:
// AV1 (its FrameCryptor throws "av1 is not yet supported") and unknown ones.
var ErrUnsupportedCodec = errors.New("e2ee: codec not supported for end-to-end encryption")

// CheckCodec reports whether frames of codec can be encrypted so that
// livekit-client decrypts them.
func CheckCodec(codec rtp.Codec) error {
	switch codec {
	case rtp.CodecH264, rtp.CodecH265, rtp.CodecVP8, rtp.CodecVP9, rtp.CodecOpus:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrUnsupportedCodec, codec)
}

// FrameInfo is what the IV is made of: livekit-client takes the RTP SSRC and
// timestamp of the encoded frame. Receivers read the IV from the trailer and
// never rebuild it, so the values only have to make IVs unique per key.
type FrameInfo struct {
	SSRC      uint32
	Timestamp uint32
	Keyframe  bool // VP8 only: decides how many bytes stay clear
}

// Cryptor encrypts frames of one codec with the current key of a KeyRing and
// decrypts them with the key their trailer names. It is safe for concurrent
// use: the layers of a simulcast track share one.
type Cryptor struct {
	keys  *KeyRing
	codec rtp.Codec
	mu    sync.Mutex
	// sendCounts are livekit-client's per-SSRC frame counters (makeIV).
	sendCounts map[uint32]uint32
	// keepSliceHeaders makes Encrypt choose IVs that keep H.264/H.265 slice
	// headers readable to WebRTC receivers (slicesafe.go).
	keepSliceHeaders bool
}

// NewCryptor returns a Cryptor for codec's frames, or ErrUnsupportedCodec.
func NewCryptor(keys *KeyRing, codec rtp.Codec) (*Cryptor, error) {
	if err := CheckCodec(codec); err != nil {
		return nil, err
	}
	return &Cryptor{keys: keys, codec: codec, sendCounts: map[uint32]uint32{}}, nil
}

// SetSendCount sets the next frame counter of ssrc. livekit-client starts it
// at a random value below 0xffff; NewTrackEncryptor does the same.
func (c *Cryptor) SetSendCount(ssrc, count uint32) {
	c.mu.Lock()
	c.sendCounts[ssrc] = count
	c.mu.Unlock()
}

// iv is livekit-client's makeIV: SSRC | timestamp | timestamp - (count % 0xffff).
func (c *Cryptor) iv(info FrameInfo) []byte {
	c.mu.Lock()
	count := c.sendCounts[info.SSRC]
	c.sendCounts[info.SSRC] = count + 1
	c.mu.Unlock()
	iv := make([]byte, ivLength)
	binary.BigEndian.PutUint32(iv[0:], info.SSRC)
	binary.BigEndian.PutUint32(iv[4:], info.Timestamp)
	binary.BigEndian.PutUint32(iv[8:], info.Timestamp-count%0xffff)
	return iv
}

// Encrypt returns frame encrypted as livekit-client's encodeFunction does.
// An empty frame is returned as is (livekit-client leaves DTX frames alone).
// H.264/H.265 access units are first put in the form the subscriber will
// see (packetizedForm), which drops access unit delimiters and filler data.
func (c *Cryptor) Encrypt(frame []byte, info FrameInfo) ([]byte, error) {
	if len(frame) == 0 {
		return frame, nil
	}
	key, keyIndex, err := c.keys.encryptionKey()
	if err != nil {
		return nil, err
	}
	h26x := c.codec == rtp.CodecH264 || c.codec == rtp.CodecH265
	if h26x {
		frame = packetizedForm(frame, c.codec)
	}
	clear, err := c.clearBytes(frame, info.Keyframe)
	if err != nil {
		return nil, err
	}
	header := frame[:clear]
	iv := c.iv(info)
	if h26x && c.keepSliceHeaders {
		for try := 1; try < maxIVTries && !sliceHeaderKept(key.block, c.codec, frame, clear, iv); try++ {
			iv = c.iv(info)
		}
	}
	body := make([]byte, 0, len(frame)-clear+gcmTagLength+trailerLength)
	body = key.aead.Seal(body, iv, frame[clear:], header)
	body = append(body, iv...)
	body = append(body, ivLength, keyIndex)
	if h26x {
		body = escapeRBSP(body)
	}
	out := make([]byte, 0, clear+len(body))
	return append(append(out, header...), body...), nil
}

// Decrypt returns the plaintext of a frame encrypted by Encrypt or by
// livekit-client, as livekit-client's decodeFunction does.
func (c *Cryptor) Decrypt(frame []byte) ([]byte, error) {
	if len(frame) == 0 {
		return frame, nil
	}
	keyframe := c.codec == rtp.CodecVP8 && frame[0]&1 == 0 // the frame tag is clear
	clear, err := c.clearBytes(frame, keyframe)
	if err != nil {
		return nil, err
	}
	header, body := frame[:clear], frame[clear:]
	if (c.codec == rtp.CodecH264 || c.codec == rtp.CodecH265) && needsUnescaping(body) {
		body = unescapeRBSP(body)
	}
	if len(body) < gcmTagLength+trailerLength || body[len(body)-2] != ivLength {
		return nil, errors.New("e2ee: frame has no valid trailer")
	}
	aead, err := c.keys.key(body[len(body)-1])
	if err != nil {
		return nil, err
	}
	iv := body[len(body)-trailerLength : len(body)-2]
	ciphertext := body[:len(body)-trailerLength]
	out := make([]byte, clear, clear+len(ciphertext))
	copy(out, header)
	out, err = aead.Open(out, iv, ciphertext, header)
	if err != nil {
		return nil, fmt.Errorf("e2ee: decrypting with key %d: %w", body[len(body)-1], err)
	}
	return out, nil
}

// clearBytes is livekit-client's getUnencryptedBytes.
func (c *Cryptor) clearBytes(frame []byte, keyframe bool) (int, error) {
	n := 0
	switch c.codec {
	case rtp.CodecOpus:
		n = opusClearBytes
	case rtp.CodecVP8:
		n = vp8DeltaClearBytes
		if keyframe {
			n = vp8KeyClearBytes
		}
	case rtp.CodecVP9:
		n = 0
	case rtp.CodecH264, rtp.CodecH265:
		var err error
		if n, err = h26xClearBytes(frame, c.codec); err != nil {
			return 0, err
		}
	}
	if n > len(frame) {
		return 0, fmt.Errorf("e2ee: %d-byte %s frame is shorter than its %d clear bytes", len(frame), c.codec, n)
	}
	return n, nil
}
