package session

import (
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// Events posted to the session goroutine. Those that come from one
// signalling connection carry its sigGen, those from one peer connection
// its pcGen; the loop drops any whose generation is not current.
type event interface{}

type (
	// evCall runs a function on the session goroutine (Session.call).
	evCall        func(s *Session)
	evRemoveTrack struct{ t *Track }
	evMute        struct {
		t     *Track
		muted bool
	}
	evVideoSize struct {
		t             *Track
		width, height int
	}

	evDialed struct {
		gen   uint64
		conn  SignalConn
		first *livekit.SignalResponse
		err   error
	}
	evSignal struct {
		gen uint64
		msg *livekit.SignalResponse
	}
	evSignalClosed struct {
		gen uint64
		err error
	}

	evLocalCandidate struct {
		gen        uint64
		c          *webrtc.ICECandidate
		subscriber bool
	}
	evPCState struct {
		gen   uint64
		state webrtc.PeerConnectionState
	}
	evICEState struct {
		gen   uint64
		state webrtc.ICEConnectionState
	}
	// evTargetBitrate: pion's estimator for publisher peer connection gen
	// has a new target.
	evTargetBitrate struct {
		gen uint64
		bps int
	}
	// evRegions carries no generation: a region list stays valid across
	// connections to the same project.
	evRegions struct {
		regions *livekit.RegionSettings
	}
)
