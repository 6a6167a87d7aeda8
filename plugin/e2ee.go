package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/golivekitsink/golivekitsink/e2ee"
	"github.com/golivekitsink/golivekitsink/session"
)

// End-to-end encryption with livekit-client's shared key (docs/e2ee.md):
// e2ee-shared-key and e2ee-key-index set the key before the session
// starts, set-e2ee-key rotates it while it runs, and every published track
// gets a TrackEncryptor on the element's one key ring.

// e2eeProps are the element's settings. Guarded by element.mu.
type e2eeProps struct {
	sharedKey *string // the passphrase; never logged nor read back
	keyIndex  uint
	keys      *e2ee.KeyRing // from startSession while e2ee is on
}

const pWO = C.G_PARAM_WRITABLE

var e2eeProperties = []property[*element]{
	{
		name: "e2ee-shared-key", nick: "E2EE shared key",
		blurb: "Shared key (passphrase) for end-to-end encryption compatible with livekit-client's ExternalE2EEKeyProvider.setKey(string) " +
			"and the Rust SDK's shared key: every published track is encrypted with AES-GCM. Write-only, never logged",
		flags: C.GParamFlags(pWO | pReady), value: stringType{nil},
		set: func(e *element, v *C.GValue) { e.props.e2ee.sharedKey = gvalueString(v) },
		doc: propDoc{use: "golivekitsink only: turns on end-to-end encryption of every track (docs/e2ee.md); **write-only**, never logged. " +
			"A codec it cannot encrypt (AV1) is an ERROR naming it"},
	},
	uintProp("e2ee-key-index", "E2EE key index",
		"Key index of e2ee-shared-key (the subscribers' key provider must hold the key at this index)",
		0, e2ee.KeyRingSize-1, 0, rwReady, func(e *element) *uint { return &e.props.e2ee.keyIndex },
		propDoc{use: "golivekitsink only: the key index frames are sent with"}),
}

// startE2EE builds the key ring at start when a shared key is set.
func (e *element) startE2EE() error {
	e.mu.Lock()
	key, index := e.props.e2ee.sharedKey, e.props.e2ee.keyIndex
	e.props.e2ee.keys = nil
	e.mu.Unlock()
	if key == nil || *key == "" {
		return nil
	}
	keys := &e2ee.KeyRing{}
	if err := keys.SetSharedKey(*key, int(index)); err != nil {
		return fmt.Errorf("e2ee-shared-key: %w", err)
	}
	e.mu.Lock()
	e.props.e2ee.keys = keys
	e.mu.Unlock()
	return nil
}

// encryptLocked gives spec an encryptor when e2ee is on. e.mu is held.
func (e *element) encryptLocked(p *sinkPad, spec *session.TrackSpec) bool {
	keys := e.props.e2ee.keys
	if keys == nil {
		return true
	}
	enc, err := e2ee.NewTrackEncryptor(keys, spec.Codec)
	if err != nil {
		postError(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FORMAT,
			fmt.Sprintf("%s: end-to-end encryption (e2ee-shared-key) cannot encrypt %s: %v", p.name, spec.Codec, err), "")
		return false
	}
	spec.Encryptor = enc
	return true
}

//export goLkSetE2EEKey
func goLkSetE2EEKey(el *C.GstElement, data unsafe.Pointer, size C.size_t, index C.guint) (ok C.gboolean) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic(el, "set-e2ee-key", r)
			ok = 0
		}
		yieldP()
	}()
	e := fromC(el)
	if e == nil {
		return 0
	}
	if e.setE2EEKey(C.GoBytes(data, C.int(size)), int(index)) {
		return 1
	}
	return 0
}

// setE2EEKey rotates to key at index: the key is derived as the shared
// key is (PBKDF2, like the Rust SDK's set_shared_key(key, index)) and
// encrypts from the next frame on. Before the session starts it replaces
// e2ee-shared-key and e2ee-key-index.
func (e *element) setE2EEKey(key []byte, index int) bool {
	if len(key) == 0 || index < 0 || index >= e2ee.KeyRingSize {
		e.warnf("set-e2ee-key: empty key or index %d outside [0, %d]", index, e2ee.KeyRingSize-1)
		return false
	}
	e.mu.Lock()
	keys, running := e.props.e2ee.keys, e.sess != nil
	if !running {
		e.props.e2ee.sharedKey, e.props.e2ee.keyIndex = strp(string(key)), uint(index)
	}
	e.mu.Unlock()
	if !running {
		return true
	}
	if keys == nil {
		postWarning(e.gst, C.lk_stream_error_quark(), C.GST_STREAM_ERROR_FAILED,
			"set-e2ee-key: the session runs without end-to-end encryption (set e2ee-shared-key before PAUSED)", "")
		return false
	}
	if err := keys.SetSharedKey(string(key), index); err != nil {
		e.warnf("set-e2ee-key: %v", err)
		return false
	}
	e.infof("set-e2ee-key: frames are encrypted with key index %d", index)
	return true
}
