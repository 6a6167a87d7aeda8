package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"sync"

	"github.com/go-gst/go-glib/glib"
	lksig "github.com/golivekitsink/golivekitsink/signaller"
)

// signaller is the GObject behind "signaller::" (GType GstGoLiveKitSignaller).
// It only holds settings; the connection itself is the element's session.
// Property names, types and defaults follow livekitwebrtcsink's signaller.
type signaller struct {
	mu        sync.Mutex
	obj       *C.GObject // set in Constructed; borrowed
	wsURL     *string
	apiKey    *string
	secret    *string
	token     *string
	room      *string
	partName  *string
	partMeta  *string
	partAttrs *string // serialized GstStructure
	live      liveParticipant
	identity  *string
	timeout   uint
	roomTO    uint
	state     int // GstGoLiveKitConnectionState value

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

// signallerProperties is the signaller's property table (proptable.go):
// livekitwebrtcsink's LiveKit signaller's, golivekitsink's participant
// metadata and attributes (participant.go), then the ones accepted for
// compatibility only (signaller_compat.go).
var signallerProperties = append([]property[*signaller]{
	maskedStringProp("ws-url", "WebSocket URL",
		"URL of the LiveKit server (ws://, wss://, http:// or https://; http(s) is turned into ws(s) and /rtc is appended). Credentials in it are never sent, and read back redacted",
		strp(defaultWSURL), pRW, func(s *signaller) **string { return &s.wsURL }, lksig.RedactURL,
		propDoc{use: "server URL; `http(s)` becomes `ws(s)`, `/rtc` is appended. Credentials in it (`user:password@`, `?access_token=…`) are never sent, " +
			"and **read back, shown in the bus message's `url`, logs and errors redacted** (`xxxxx`)"}),
	stringProp("api-key", "API key",
		"LiveKit API key; with secret-key and room-name the element mints its own access token (ignored when auth-token is set)",
		nil, pRW, func(s *signaller) **string { return &s.apiKey },
		propDoc{use: "with `secret-key`, mints the access token (canPublish, canPublishData, canSubscribe=false, 6 h)"}),
	maskedStringProp("secret-key", "API secret",
		"LiveKit API secret used with api-key to sign the access token; never logged, reads back as xxxxx once set",
		nil, pRW, func(s *signaller) **string { return &s.secret }, maskSecret,
		propDoc{use: "signs the minted token; never logged. **Reads back as `xxxxx` once set**"}),
	maskedStringProp("auth-token", "Access token",
		"Ready-made LiveKit access token (JWT); takes precedence over api-key/secret-key; never logged, reads back as xxxxx once set",
		nil, pRW, func(s *signaller) **string { return &s.token }, maskSecret,
		propDoc{use: "ready-made token; wins over api-key/secret-key; never logged. **Reads back as `xxxxx` once set**"}),
	stringProp("room-name", "Room name",
		"Room to join; required when the token is minted from api-key/secret-key (with auth-token the token's room grant applies)",
		nil, pRW, func(s *signaller) **string { return &s.room }, propDoc{use: "room, needed when minting"}),
	participantNameProp(),
	stringProp("identity", "Participant identity",
		"Participant identity (token 'sub' claim when minting); two publishers with the same identity in one room kick each other out",
		strp(defaultIdentity), pRW, func(s *signaller) **string { return &s.identity },
		propDoc{use: "token `sub`; two publishers with one identity in a room kick each other out"}),
	uintProp("timeout", "Publish timeout",
		"Seconds to wait for the server to confirm each published track (TrackPublished)",
		1, maxTimeoutS, defaultTimeoutS, pRW, func(s *signaller) *uint { return &s.timeout },
		propDoc{unit: "s", use: "wait for each TrackPublished"}),
	uintProp("room-timeout", "Room timeout",
		"Milliseconds to stay in a room with no other participant (0 = forever); then ERROR \"Room timeout reached with no other participants\". Read when the element goes to PAUSED",
		0, maxUint32, 0, pRW, func(s *signaller) *uint { return &s.roomTO },
		propDoc{unit: "ms", use: "as on the reference: alone in the room for this long (since the join, or since the last other participant left) ends with the ERROR `Room timeout reached with no other participants`; 0 = never"}),
	enumProp("connection-state", "Connection state",
		"Connection to the LiveKit server: server-disconnected (connecting, resuming, reconnecting, stopped), server-connected (joined, nothing published), published (joined with published tracks). Read-only; notify on change",
		enumType{gtype: func() C.GType { return C.lk_connection_state_get_type() }, def: connServerDisconnected}, pRO,
		func(s *signaller) *int { return &s.state },
		propDoc{use: "notifies on change. `published` once tracks are up; `server-disconnected` while connecting, resuming, reconnecting"}),
}, append(participantDataProps(), compatSignallerProperties...)...)

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
	installProperties(klass, signallerProperties)
}

func (s *signaller) Constructed(o *glib.Object) {
	s.obj = (*C.GObject)(o.Unsafe())
}

func (s *signaller) lock() func() {
	s.mu.Lock()
	return s.mu.Unlock
}

func (s *signaller) SetProperty(self *glib.Object, id uint, v *glib.Value) {
	defer returnToC(nil, "signaller set-property")
	setProperty(signallerProperties, s, s.lock, id, v)
}

func (s *signaller) GetProperty(self *glib.Object, id uint) *glib.Value {
	defer returnToC(nil, "signaller get-property")
	return getProperty(signallerProperties, s, s.lock, id)
}

// maskedSecret is what secret-key and auth-token read back as once set.
const maskedSecret = "xxxxx"

func maskSecret(string) string { return maskedSecret }

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
	metadata                                               string
	attrs                                                  map[string]string
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
	return s.snapshotLocked()
}

func (s *signaller) snapshotLocked() signallerSettings {
	return signallerSettings{
		metadata: deref(s.partMeta), attrs: structureFields(s.partAttrs),
		wsURL: deref(s.wsURL), apiKey: deref(s.apiKey), secret: deref(s.secret),
		token: deref(s.token), room: deref(s.room), partName: deref(s.partName),
		identity: deref(s.identity), timeout: s.timeout, roomTimeout: s.roomTO,
	}
}
