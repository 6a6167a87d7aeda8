// Package session publishes tracks into a LiveKit room over one pion
// PeerConnection and keeps them published through LiveKit's resume and
// reconnect instructions. One goroutine (run) owns all connection state;
// everything else posts events to it.
package session

import (
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
)

// Config is frozen when the session is created.
type Config struct {
	// URL is the LiveKit server as the user gave it (ws, wss, http or https).
	URL string
	// Either AuthToken, or APIKey+APISecret (+Room, Identity, Name) to mint one.
	AuthToken string
	APIKey    string
	APISecret string
	Room      string
	Identity  string
	Name      string
	// Metadata and Attributes: the participant's at join, in minted
	// tokens (SetMetadata/SetAttributes change them later).
	Metadata   string
	Attributes map[string]string

	// PublishTimeout bounds the wait for each TrackPublished (reference "timeout").
	PublishTimeout time.Duration
	// ReconnectBudget is how long one recovery episode, or the first
	// connect, may last before the session gives up with ErrBudgetSpent.
	// Zero means never give up.
	ReconnectBudget time.Duration
	// SlowRecoveryWarning: a recovery taking longer than this raises a warning.
	SlowRecoveryWarning time.Duration
	// RoomTimeout ends the session with ErrRoomTimeout once no other
	// participant has been in the room for that long (reference
	// room-timeout); zero never does.
	RoomTimeout time.Duration
	// RegionFailover turns region lists on for hosts that are not LiveKit Cloud.
	RegionFailover bool
	// ForceRelay makes every peer connection relay-only (ice-transport-policy=relay).
	ForceRelay bool
	// ExtraICEServers are added to the servers LiveKit hands out (stun-server, turn-servers).
	ExtraICEServers []ICEServer

	// CongestionControl runs pion's GCC sender-side bandwidth estimation on
	// the SFU's transport-wide feedback; its targets reach a Handler that is
	// also a BitrateHandler. Start/Min/MaxBitrate (bit/s) bound it; zero
	// values take the reference element's defaults.
	CongestionControl bool
	StartBitrate      int
	MinBitrate        int
	MaxBitrate        int

	// Dial opens the signalling connection; nil means signaller.Dial.
	// Tests give the session a dialer of their own here.
	Dial Dialer

	// Logger receives the session's log lines; nil discards them.
	Logger Logger
	// PionLogs receives pion's own log lines (ICE, DTLS, SCTP, …); nil keeps
	// pion's default, which prints errors to stderr.
	PionLogs logging.LoggerFactory

	// pionNet replaces the host network under pion (tests: a virtual
	// network, so that no packet leaves the process).
	pionNet transport.Net
}

// Logger is the small logging surface the session needs; the plugin maps it
// onto the element's GStreamer debug category.
type Logger interface {
	Debugf(format string, args ...any)
	Infof(format string, args ...any)
	Warnf(format string, args ...any)
	Errorf(format string, args ...any)
}

// State is the externally visible connection state.
type State int

const (
	StateIdle State = iota
	StateConnecting
	StateConnected
	StateResuming
	StateReconnecting
	StateDisconnected
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateResuming:
		return "resuming"
	case StateReconnecting:
		return "reconnecting"
	case StateDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// StateChange is reported to the Handler on every state transition.
type StateChange struct {
	State          State
	Reason         string // why we got here (e.g. "leave RESUME CONNECTION_TIMEOUT", "signal closed")
	Attempt        int    // recovery attempt number, 0 outside recovery
	ParticipantSID string
	Region         string
	URL            string            // server URL in use, redacted (signaller.RedactURL)
	TrackSIDs      map[string]string // track name -> TR_ SID
	// Transport is the media path while connected: "udp/host", "tcp/host",
	// "udp/relay", … (protocol / local candidate type); "" otherwise.
	Transport string
	Elapsed   time.Duration // time since the recovery episode began
}

// Handler receives what the session has to tell the element. Calls come from
// the session's dispatcher goroutine, in order, never under a session lock.
type Handler interface {
	OnStateChange(StateChange)
	// OnKeyframeRequest asks upstream for a keyframe on that track (PLI/FIR,
	// or media flowing again after a recovery).
	OnKeyframeRequest(t *Track)
	// OnWarning reports something the user should know that does not stop publishing.
	OnWarning(err error)
	// OnFatal reports the end of the session: a DISCONNECT leave, bad
	// credentials, or the reconnect budget spent. No more calls follow.
	OnFatal(err error)
	// OnTrackError reports that one track could not be published; others go on.
	OnTrackError(t *Track, err error)
}

// BitrateHandler is implemented by a Handler that adapts encoders to the
// uplink: OnTargetBitrate gets the estimator's target (bit/s) for all media
// of the publisher peer connection, on the dispatcher goroutine, when it
// moved enough to be worth an encoder reconfiguration.
type BitrateHandler interface {
	OnTargetBitrate(bps int)
}

// LayerHandler is implemented by a Handler that publishes simulcast tracks.
// Its calls come from the dispatcher goroutine, like the Handler's.
type LayerHandler interface {
	// OnLayerKeyframeRequest asks upstream for a keyframe on one layer of a
	// simulcast track (instead of OnKeyframeRequest for the whole track).
	OnLayerKeyframeRequest(t *Track, q Quality)
	// OnLayersChanged reports which layers subscribers want now (dynacast):
	// a layer set to false is dropped by WriteFrame until it comes back, so
	// its encoder may stop; one coming back gets a keyframe request too.
	OnLayersChanged(t *Track, enabled map[Quality]bool)
}

// TrackSpec describes one track to publish.
type TrackSpec struct {
	Name   string // pad name, e.g. "video_0"; becomes the LiveKit track name
	Codec  rtp.Codec
	Source livekit.TrackSource // CAMERA / MICROPHONE when zero
	Width  int                 // video only, 0 if unknown
	Height int
	// Channels for audio (1 or 2).
	Channels int
	// Muted publishes the track muted (Track.SetMuted changes it later).
	Muted bool
	// Layers makes a video track simulcast: 2 or 3 layers of distinct
	// qualities (RIDs q, h, f), each written through Track.Layer(q).
	// Width and Height then come from the highest layer. One layer is a
	// track without simulcast with that size and bitrate.
	Layers []LayerSpec
	// Encryptor, when set, encrypts every frame end to end before it is
	// packetized (e2ee.TrackEncryptor), on every layer, and the track is
	// announced as AES-GCM encrypted.
	Encryptor FrameEncryptor
}

// FrameEncryptor encrypts the encoded frames of one track. The layers of a
// simulcast track call it concurrently. See e2ee.TrackEncryptor.
type FrameEncryptor interface {
	EncryptFrame(frame []byte, pts time.Duration) ([]byte, error)
}

// ICEServer is a STUN or TURN server in pion's URL form ("stun:host:port",
// "turn:host:port?transport=udp", "turns:host:443?transport=tcp").
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}
