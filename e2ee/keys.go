// Package e2ee implements LiveKit's end-to-end encryption of media frames
// with a shared key, byte for byte as livekit-client (src/e2ee) and the Rust
// SDK do it, so that their subscribers decrypt what golivekitsink publishes.
//
// A frame is encrypted before it is packetized: a few leading bytes per codec
// stay clear (the VP8 frame tag, the Opus TOC byte, the H.264/H.265 NAL units
// up to and including the first slice's header), the rest is sealed with
// AES-GCM using those clear bytes as additional data, and a trailer
// IV(12) | IV length(1) | key index(1) is appended. For H.264/H.265 the
// ciphertext and trailer are escaped like RBSP (emulation prevention bytes) so
// that no start code appears in them and the Annex-B packetizer keeps the
// encrypted slice as one NAL unit. See docs/e2ee.md.
package e2ee

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
)

const (
	// KeyRingSize is the number of key slots, livekit-client's default
	// keyringSize; a key index is a slot.
	KeyRingSize = 16

	// ratchetSalt is livekit-client's default ratchetSalt (constants.ts SALT),
	// the salt of both key derivations.
	ratchetSalt = "LKFrameEncryptionKey"
	// pbkdf2Iterations is what livekit-client uses for a passphrase.
	pbkdf2Iterations = 100000
	// keySize is AES-128: livekit-client's default keySize of 128 bits.
	keySize = 16
)

// ErrNoKey is returned when a frame is to be encrypted or decrypted with a
// key slot that holds no key.
var ErrNoKey = errors.New("e2ee: no key at this key index")

// DeriveKey derives the AES-GCM frame key from a shared passphrase as
// livekit-client's ExternalE2EEKeyProvider.setKey(string) does: PBKDF2 with
// SHA-256, 100000 iterations, salt "LKFrameEncryptionKey", 128-bit key.
func DeriveKey(passphrase string) ([]byte, error) {
	if passphrase == "" {
		return nil, errors.New("e2ee: empty shared key")
	}
	return pbkdf2.Key(sha256.New, passphrase, []byte(ratchetSalt), pbkdf2Iterations, keySize)
}

// DeriveKeyFromBytes derives the frame key from raw key material as
// livekit-client's setKey(ArrayBuffer) does: HKDF with SHA-256, salt
// "LKFrameEncryptionKey" and 128 zero bytes of info. Not every client SDK
// supports this; DeriveKey is the portable one.
func DeriveKeyFromBytes(material []byte) ([]byte, error) {
	if len(material) == 0 {
		return nil, errors.New("e2ee: empty key material")
	}
	return hkdf.Key(sha256.New, material, []byte(ratchetSalt), string(make([]byte, 128)), keySize)
}

// KeyRing holds the frame keys by index and which one encrypts. It is safe
// for concurrent use: keys are rotated from an application thread while
// streaming threads encrypt.
type KeyRing struct {
	mu      sync.RWMutex
	slots   [KeyRingSize]*frameKey
	current int
}

// frameKey is one key as AES-GCM and as the raw block cipher, which
// predicts the first ciphertext bytes (see slicesafe.go).
type frameKey struct {
	aead  cipher.AEAD
	block cipher.Block
}

// SetKey installs the derived frame key (DeriveKey, DeriveKeyFromBytes) at
// index and makes it the one that encrypts from the next frame on, as
// livekit-client's setKey(key, index) does. Keys at other indexes stay for
// decryption, so a subscriber still holding the previous key keeps decoding
// until it is told the new one.
func (r *KeyRing) SetKey(key []byte, index int) error {
	if index < 0 || index >= KeyRingSize {
		return fmt.Errorf("e2ee: key index %d outside [0, %d]", index, KeyRingSize-1)
	}
	k, err := newFrameKey(key)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.slots[index], r.current = k, index
	r.mu.Unlock()
	return nil
}

// SetSharedKey derives the key from passphrase (DeriveKey) and installs it
// at index (SetKey). The derivation takes tens of milliseconds and runs
// before the lock is taken.
func (r *KeyRing) SetSharedKey(passphrase string, index int) error {
	key, err := DeriveKey(passphrase)
	if err != nil {
		return err
	}
	return r.SetKey(key, index)
}

// CurrentIndex is the index of the key that encrypts.
func (r *KeyRing) CurrentIndex() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// encryptionKey returns the current key and its index.
func (r *KeyRing) encryptionKey() (*frameKey, byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.slots[r.current] == nil {
		return nil, 0, fmt.Errorf("%w %d", ErrNoKey, r.current)
	}
	return r.slots[r.current], byte(r.current), nil
}

// key returns the key at index for decryption.
func (r *KeyRing) key(index byte) (cipher.AEAD, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if int(index) >= KeyRingSize || r.slots[index] == nil {
		return nil, fmt.Errorf("%w %d", ErrNoKey, index)
	}
	return r.slots[index].aead, nil
}

func newFrameKey(key []byte) (*frameKey, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("e2ee: frame key is %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block) // 12-byte nonce: ivLength
	if err != nil {
		return nil, err
	}
	return &frameKey{aead: aead, block: block}, nil
}
