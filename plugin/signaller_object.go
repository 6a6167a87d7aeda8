package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"sync"
	"unsafe"

	"github.com/go-gst/go-glib/glib"
	lksig "github.com/golivekitsink/golivekitsink/signaller"
)

// signaller is the GObject behind "signaller::" (GType GstGoLiveKitSignaller).
// It only holds settings; the connection itself is the element's session.
// Property names, types and defaults follow livekitwebrtcsink's signaller.
type signaller struct {
	mu       sync.Mutex
	obj      *C.GObject // set in Constructed; borrowed
	wsURL    *string
	apiKey   *string
	secret   *string
	token    *string
	room     *string
	partName *string
	identity *string
	timeout  uint
	roomTO   uint
	state    int // GstGoLiveKitConnectionState value

	// Accepted for compatibility only (signaller_compat.go).
	role          int
	producerPeer  *string
	excludedPeers []string
}

// Connection states, as in livekitwebrtcsink's GstWebRTCLiveKitConnectionState.
const (
	connServerDisconnected = 0
	connServerConnected    = 1
	connPublishing         = 2
	connPublished          = 3
	connSubscribed         = 4
)

const (
	defaultWSURL    = "ws://127.0.0.1:7880"
	defaultPartName = "GStreamer"
	defaultIdentity = "gstreamer"
	defaultTimeoutS = 10
	maxTimeoutS     = 3600
	maxUint32       = 1<<32 - 1
)

// Property ids: the index in signallerProps.
const (
	spWSURL = iota
	spAPIKey
	spSecretKey
	spAuthToken
	spRoomName
	spParticipantName
	spIdentity
	spTimeout
	spRoomTimeout
	spConnectionState
	spRole
	spProducerPeerID
	spExcludedProducerPeerIDs
	spManualSDPMunging
	spReliableChannel
	spLossyChannel
)

func strp(s string) *string { return &s }

func signallerProps() []*glib.ParamSpec {
	rw := glib.ParameterReadWrite
	specs := []*glib.ParamSpec{
		spWSURL: glib.NewStringParam("ws-url", "WebSocket URL",
			"URL of the LiveKit server (ws://, wss://, http:// or https://; http(s) is turned into ws(s) and /rtc is appended). Credentials in it are never sent, and read back redacted",
			strp(defaultWSURL), rw),
		spAPIKey: glib.NewStringParam("api-key", "API key",
			"LiveKit API key; with secret-key and room-name the element mints its own access token (ignored when auth-token is set)",
			nil, rw),
		spSecretKey: glib.NewStringParam("secret-key", "API secret",
			"LiveKit API secret used with api-key to sign the access token; never logged, reads back as xxxxx once set",
			nil, rw),
		spAuthToken: glib.NewStringParam("auth-token", "Access token",
			"Ready-made LiveKit access token (JWT); takes precedence over api-key/secret-key; never logged, reads back as xxxxx once set",
			nil, rw),
		spRoomName: glib.NewStringParam("room-name", "Room name",
			"Room to join; required when the token is minted from api-key/secret-key (with auth-token the token's room grant applies)",
			nil, rw),
		spParticipantName: glib.NewStringParam("participant-name", "Participant name",
			"Display name of the publishing participant (token 'name' claim when minting)",
			strp(defaultPartName), rw),
		spIdentity: glib.NewStringParam("identity", "Participant identity",
			"Participant identity (token 'sub' claim when minting); two publishers with the same identity in one room kick each other out",
			strp(defaultIdentity), rw),
		spTimeout: glib.NewUintParam("timeout", "Publish timeout",
			"Seconds to wait for the server to confirm each published track (TrackPublished)",
			1, maxTimeoutS, defaultTimeoutS, rw),
		spRoomTimeout: glib.NewUintParam("room-timeout", "Room timeout",
			"Milliseconds to stay in a room with no other participant (0 = forever). Accepted for compatibility with livekitwebrtcsink; not acted upon yet",
			0, maxUint32, 0, rw),
		spConnectionState: glib.ToParamSpec(unsafe.Pointer(withCStrings3("connection-state", "Connection state",
			"Connection to the LiveKit server: server-disconnected (connecting, resuming, reconnecting, stopped), server-connected (joined, nothing published), published (joined with published tracks). Read-only; notify on change",
			func(n, k, b *C.char) unsafe.Pointer {
				return unsafe.Pointer(C.lk_param_spec_enum(n, k, b, C.lk_connection_state_get_type(), 0, C.G_PARAM_READABLE|C.G_PARAM_STATIC_STRINGS))
			}))),
	}
	return append(specs, compatSignallerSpecs()...) // spRole onwards
}

// withCStrings3 passes three C strings to f. The param spec keeps pointers
// to name/nick/blurb only with G_PARAM_STATIC_STRINGS, which we only use
// on strings intentionally leaked for the life of the process.
func withCStrings3(a, b, c string, f func(a, b, c *C.char) unsafe.Pointer) unsafe.Pointer {
	return f(C.CString(a), C.CString(b), C.CString(c))
}

func (s *signaller) New() glib.GoObjectSubclass {
	return &signaller{
		wsURL:    strp(defaultWSURL),
		partName: strp(defaultPartName),
		identity: strp(defaultIdentity),
		timeout:  defaultTimeoutS,
		role:     roleProducer,
	}
}

func (s *signaller) ClassInit(klass *glib.ObjectClass) {
	klass.InstallProperties(signallerProps())
}

func (s *signaller) Constructed(o *glib.Object) {
	s.obj = (*C.GObject)(o.Unsafe())
}

func (s *signaller) strField(id uint) **string {
	switch id {
	case spWSURL:
		return &s.wsURL
	case spAPIKey:
		return &s.apiKey
	case spSecretKey:
		return &s.secret
	case spAuthToken:
		return &s.token
	case spRoomName:
		return &s.room
	case spParticipantName:
		return &s.partName
	case spIdentity:
		return &s.identity
	}
	return nil
}

func (s *signaller) SetProperty(self *glib.Object, id uint, v *glib.Value) {
	defer recoverToBus(nil, "signaller set-property")
	gv := (*C.GValue)(v.Native())
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.strField(id); f != nil {
		*f = gvalueString(gv)
		return
	}
	if s.setCompat(id, gv) {
		return
	}
	switch id {
	case spTimeout:
		s.timeout = uint(C.g_value_get_uint(gv))
	case spRoomTimeout:
		s.roomTO = uint(C.g_value_get_uint(gv))
	}
}

func (s *signaller) GetProperty(self *glib.Object, id uint) *glib.Value {
	defer recoverToBus(nil, "signaller get-property")
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.strField(id); f != nil {
		if *f == nil {
			return nil // the GValue GObject passes in already holds NULL
		}
		v, _ := glib.GValue(shownSetting(id, **f))
		return v
	}
	if v, ok := s.getCompat(id); ok {
		return v
	}
	switch id {
	case spTimeout, spRoomTimeout:
		v, _ := glib.ValueInit(glib.TYPE_UINT)
		if id == spTimeout {
			v.SetUInt(s.timeout)
		} else {
			v.SetUInt(s.roomTO)
		}
		return v
	case spConnectionState:
		v, _ := glib.ValueInit(glib.Type(C.lk_connection_state_get_type()))
		v.SetEnum(s.state)
		return v
	}
	return nil
}

// maskedSecret is what secret-key and auth-token read back as once set.
const maskedSecret = "xxxxx"

// shownSetting is a string property as g_object_get (and so gst-inspect,
// DOT dumps, property notify logs) may see it: secrets masked, credentials
// in ws-url redacted (docs/properties.md, "Differences").
func shownSetting(id uint, v string) string {
	switch id {
	case spSecretKey, spAuthToken:
		return maskedSecret
	case spWSURL:
		return lksig.RedactURL(v)
	}
	return v
}

// setConnectionState updates connection-state and emits notify when it changed.
func (s *signaller) setConnectionState(st int) {
	s.mu.Lock()
	changed := s.state != st
	s.state = st
	obj := s.obj
	s.mu.Unlock()
	if changed && obj != nil {
		withCString("connection-state", func(c *C.char) { C.lk_notify(obj, c) })
	}
}

// signallerSettings is a snapshot of the signaller's properties.
type signallerSettings struct {
	wsURL, apiKey, secret, token, room, partName, identity string
	timeout, roomTimeout                                   uint
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (s *signaller) snapshot() signallerSettings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return signallerSettings{
		wsURL: deref(s.wsURL), apiKey: deref(s.apiKey), secret: deref(s.secret),
		token: deref(s.token), room: deref(s.room), partName: deref(s.partName),
		identity: deref(s.identity), timeout: s.timeout, roomTimeout: s.roomTO,
	}
}

func gvalueString(gv *C.GValue) *string {
	c := C.g_value_get_string(gv)
	if c == nil {
		return nil
	}
	s := C.GoString(c)
	return &s
}
