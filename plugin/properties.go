package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-gst/go-glib/glib"
	"github.com/golivekitsink/golivekitsink/session"
	lksig "github.com/golivekitsink/golivekitsink/signaller"
)

// elementProps are golivekitsink's own properties (the LiveKit connection
// settings are on the signaller).
type elementProps struct {
	reconnectBudget uint // seconds, 0 = never give up
	recoveryWarning uint // milliseconds
	regionFailover  bool
	// upstreamBitrateControl: congestion control also sets the application's
	// encoders upstream of encoded video pads (upstream.go).
	upstreamBitrateControl bool
	ref                    refProps // livekitwebrtcsink's properties (refprops.go)
	e2ee                   e2eeProps
}

const defaultRecoveryWarningMs = 3000

func defaultElementProps() elementProps {
	return elementProps{recoveryWarning: defaultRecoveryWarningMs, ref: defaultRefProps()}
}

// elementProperties is golivekitsink's property table (proptable.go): its
// own properties, then livekitwebrtcsink's (refprops.go), then end-to-end
// encryption's (e2ee.go).
var elementProperties = append(append([]property[*element]{
	{
		name: "signaller", nick: "Signaller",
		blurb: "The LiveKit connection settings (GstGoLiveKitSignaller), set as signaller::<property>: " +
			"ws-url (default ws://127.0.0.1:7880), api-key, secret-key, auth-token, room-name, " +
			"participant-name (GStreamer), participant-metadata, participant-attributes, identity (gstreamer), timeout (s, 10), room-timeout (ms, 0), " +
			"connection-state (read-only). Writable in NULL/READY with another GstGoLiveKitSignaller only " +
			"(livekitwebrtcsink's GstRSWebRTCSignallableIface implementations cannot be plugged in)",
		flags:    rwReady,
		value:    objectType{func() C.GType { return C.GType(signallerType) }},
		unlocked: true, // setSignaller takes e.mu itself
		set:      func(e *element, v *C.GValue) { e.setSignaller(C.g_value_get_object(v)) },
		get: func(e *element) *glib.Value {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.sigObj == nil {
				return nil
			}
			// A value of the signaller's own type, not G_TYPE_OBJECT (docs/architecture.md, "go-gst v1.4.0").
			v, _ := glib.ValueInit(signallerType)
			v.SetInstance(e.sigObj.Unsafe())
			return v
		},
		doc: propDoc{def: "created with the element",
			use: "The LiveKit settings, set as `signaller::<prop>`. Writable in NULL/READY, but only with another " +
				"`GstGoLiveKitSignaller` (there is no signaller interface to implement)"},
	},
	uintProp("reconnect-budget", "Reconnect budget",
		"Seconds the first connect, or one recovery (resume, reconnect, region failover), may take before the element gives up with an ERROR; 0 = keep trying forever",
		0, maxUint32, 0, pRW, func(e *element) *uint { return &e.props.reconnectBudget },
		propDoc{unit: "s", use: "golivekitsink only: how long the first connect, or one recovery, may take before an ERROR naming `reconnect-budget` and the server; 0 = forever"}),
	uintProp("recovery-warning", "Recovery warning",
		"Post a WARNING when a recovery takes longer than this many milliseconds (0 = never warn)",
		0, maxUint32, defaultRecoveryWarningMs, pRW, func(e *element) *uint { return &e.props.recoveryWarning },
		propDoc{unit: "ms", use: "golivekitsink only: WARNING when a recovery takes longer"}),
	boolProp("region-failover", "Region failover",
		"Fetch and fail over between the server's regions (/settings/regions) also on hosts that are not LiveKit Cloud (on *.livekit.cloud it is always on)",
		false, pRW, func(e *element) *bool { return &e.props.regionFailover },
		propDoc{use: "golivekitsink only: region lists on hosts that are not LiveKit Cloud"}),
	boolProp("upstream-bitrate-control", "Upstream bitrate control",
		"Let congestion control set the bitrate of the application's encoder upstream of each encoded video pad "+
			"(found through queues, parsers, capsfilters, tees, bins), in that encoder's own unit; "+
			"an encoder it does not know is left alone with one WARNING. Off: the application's encoders are never touched",
		false, rwAny, func(e *element) *bool { return &e.props.upstreamBitrateControl },
		propDoc{use: "golivekitsink only: the estimate also sets the encoder upstream of each encoded video pad " +
			"(walking through queue, parsers, capsfilter, tee, identity, valve, bins; units per encoder in docs/encoders.md); " +
			"an unknown encoder gets one WARNING and is left alone. Off by default because the encoder belongs to the application"}),
}, refProperties...), e2eeProperties...)

func (e *element) lock() func() {
	e.mu.Lock()
	return e.mu.Unlock
}

func (e *element) SetProperty(self *glib.Object, id uint, v *glib.Value) {
	defer returnToC(e.gst, "set-property")
	// GST_PARAM_MUTABLE_READY is a promise gst-inspect shows; GObject
	// does not keep it, so the element refuses such writes itself.
	if id < uint(len(elementProperties)) && elementProperties[id].flags&pReady != 0 {
		if st := C.lk_element_state(e.gst); st > C.GST_STATE_READY {
			e.warnf("%s: changeable only in NULL or READY, the element is %s; ignored",
				elementProperties[id].name, C.GoString(C.gst_element_state_get_name(st)))
			return
		}
	}
	setProperty(elementProperties, e, e.lock, id, v)
}

func (e *element) GetProperty(self *glib.Object, id uint) *glib.Value {
	defer returnToC(e.gst, "get-property")
	return getProperty(elementProperties, e, e.lock, id)
}

// settingsError is a bad or missing setting, posted as a RESOURCE/SETTINGS
// ERROR whose text names the property.
type settingsError struct {
	code C.gint
	text string
}

func (s *settingsError) Error() string { return s.text }

func (s *settingsError) post(el *C.GstElement) {
	postError(el, C.lk_resource_error_quark(), s.code, s.text, "")
}

func missing(prop, why string) *settingsError {
	t := "signaller::" + prop + " is not set"
	if why != "" {
		t += " (" + why + ")"
	}
	return &settingsError{code: C.GST_RESOURCE_ERROR_SETTINGS, text: t}
}

// validate checks the settings at NULL->READY.
func (e *element) validate() *settingsError {
	s := e.signallerObj().snapshot()
	if strings.TrimSpace(s.wsURL) == "" {
		return missing("ws-url", "the LiveKit server URL")
	}
	u, err := url.Parse(s.wsURL)
	if err != nil || u.Host == "" {
		return &settingsError{code: C.GST_RESOURCE_ERROR_SETTINGS,
			text: fmt.Sprintf("signaller::ws-url %q is not a valid URL", lksig.RedactURL(s.wsURL))}
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss", "http", "https":
	default:
		return &settingsError{code: C.GST_RESOURCE_ERROR_SETTINGS,
			text: fmt.Sprintf("signaller::ws-url %q: scheme must be ws, wss, http or https", lksig.RedactURL(s.wsURL))}
	}
	if s.token != "" {
		return nil
	}
	switch {
	case s.apiKey == "" && s.secret == "":
		return &settingsError{code: C.GST_RESOURCE_ERROR_SETTINGS,
			text: "signaller::auth-token is not set, nor signaller::api-key and signaller::secret-key"}
	case s.apiKey == "":
		return missing("api-key", "needed with signaller::secret-key to mint a token")
	case s.secret == "":
		return missing("secret-key", "needed with signaller::api-key to mint a token")
	case s.room == "":
		return missing("room-name", "needed to mint a token from signaller::api-key and signaller::secret-key")
	}
	return nil
}

// sessionConfig maps the properties onto session.Config.
func (e *element) sessionConfig() session.Config {
	s := e.signallerObj().snapshot()
	e.mu.Lock()
	p := e.props
	e.mu.Unlock()
	extra, ignored := iceServers(p.ref)
	for _, w := range ignored {
		postWarning(e.gst, C.lk_resource_error_quark(), C.GST_RESOURCE_ERROR_SETTINGS, w, "")
	}
	return session.Config{
		ForceRelay:          p.ref.icePolicy == 1,
		ExtraICEServers:     extra,
		URL:                 s.wsURL,
		AuthToken:           s.token,
		APIKey:              s.apiKey,
		APISecret:           s.secret,
		Room:                s.room,
		Identity:            s.identity,
		Name:                s.partName,
		Metadata:            s.metadata,
		Attributes:          s.attrs,
		PublishTimeout:      time.Duration(s.timeout) * time.Second,
		ReconnectBudget:     time.Duration(p.reconnectBudget) * time.Second,
		SlowRecoveryWarning: time.Duration(p.recoveryWarning) * time.Millisecond,
		RoomTimeout:         time.Duration(s.roomTimeout) * time.Millisecond,
		RegionFailover:      p.regionFailover,
		CongestionControl:   p.ref.congestion != ccDisabled,
		StartBitrate:        int(p.ref.encoderBitrate()),
		MinBitrate:          int(p.ref.minBitrate),
		MaxBitrate:          int(p.ref.maxBitrate),
		Logger:              sessionLogger{el: e.gst},
		PionLogs:            pionLogs{el: e.gst},
	}
}
