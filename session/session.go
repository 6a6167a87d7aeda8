package session

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// Session is one publishing participant. Create with New, then Start.
//
// All fields below "owned by run" belong to the session goroutine and are
// never touched elsewhere; the rest of the world talks to it through post.
type Session struct {
	cfg      Config
	creds    signaller.Credentials
	h        Handler
	log      Logger
	disp     *dispatcher
	api      *webrtc.API
	relayAPI *webrtc.API  // for relay-only peer connections (force_relay)
	subAPI   *webrtc.API  // for the subscriber peer connection (no congestion control)
	batch    *sendBatcher // the publisher sockets' send queue (sendbatch.go)

	estimators    *estimatorHook // nil without congestion control
	targetBitrate atomic.Int64   // last estimate passed on, for TargetBitrate

	ctx    context.Context
	cancel context.CancelFunc
	events chan event
	done   chan struct{}

	startOnce sync.Once
	closeOnce sync.Once
	started   atomic.Bool
	wg        sync.WaitGroup // goroutines started by spawn

	// backoff is the policy's backoff (policy.go); tests shorten it.
	backoff func(attempt int, jitter bool) time.Duration

	// owned by run
	phase         phase // the machine's state (machine.go) is phase and mode
	mode          recoveryMode
	pending       []happening // triggers fired during a transition (fire)
	firing        bool
	state         State // the last state reported to the handler
	token         string
	mintedOnce    bool // a 401 may mint a fresh token once per episode
	url0          string
	curURL        string
	sigGen        uint64
	conn          SignalConn
	pcGen         uint64
	pc            *peer
	sub           *subscriberPeer
	join          *livekit.JoinResponse
	sid           string
	region        string
	iceServers    []*livekit.ICEServer
	forceRelay    bool
	tracks        []*trackState
	offerID       uint32
	reason        string // what started the current episode
	lastErr       error  // why the last attempt of the episode failed
	rrReason      livekit.ReconnectReason
	attempt       int
	episode       time.Time // start of the current recovery (zero when none)
	warned        bool      // slow-recovery warning sent for this episode
	retryAt       time.Time // backoff timer
	pcDeadline    time.Time // peer connection must connect by then
	settleAt      time.Time // after an ICE-restart answer: accept "connected" by then
	path          pathWatch // is the SFU still answering our media? (deadpath.go)
	pathCheckAt   time.Time // next sample of path, while connected
	leaveRegion   *livekit.RegionSettings
	fetched       []*livekit.RegionInfo
	failedURLs    map[string]bool
	plan          []string
	everConnected bool
	governor      bitrateGovernor
	out           outbox          // reliable data packets (dataqueue.go)
	meta          participantMeta // name, metadata, attributes set at runtime (metadata.go)
	room          roomPresence    // other participants, for room-timeout (room.go)
}

// trackState is the session goroutine's view of a track in the current
// LiveKit session (it is reset by a full reconnect).
type trackState struct {
	t          *Track
	info       *livekit.TrackInfo
	requested  bool      // AddTrackRequest sent in this LiveKit session
	deadline   time.Time // TrackPublished expected by then
	sender     *webrtc.RTPSender
	inOffer    bool // its sender is in the outstanding offer
	negotiated bool // part of an answered offer
	failed     bool
	muted      bool
	// width, height: the video size now (caps may change mid-stream); info
	// keeps the size the server published the track with.
	width, height int
}

// New validates cfg and returns an idle session.
func New(cfg Config, h Handler) (*Session, error) {
	creds := signaller.Credentials{
		APIKey: cfg.APIKey, APISecret: cfg.APISecret, Room: cfg.Room,
		Identity: cfg.Identity, Name: cfg.Name, AuthToken: cfg.AuthToken,
		Metadata: cfg.Metadata, Attributes: maps.Clone(cfg.Attributes),
	}
	if _, err := signaller.BuildURL(cfg.URL, signaller.URLParams{}); err != nil {
		return nil, err
	}
	if err := creds.Validate(); err != nil {
		return nil, err
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = nopLogger{}
	}
	if cfg.Dial == nil {
		cfg.Dial = dialSignaller
	}
	var hook *estimatorHook
	if cfg.CongestionControl {
		hook = &estimatorHook{}
	}
	batch := &sendBatcher{}
	api, err := newAPI(cfg, false, hook, batch)
	if err != nil {
		return nil, err
	}
	relayAPI, err := newAPI(cfg, true, hook, batch)
	if err != nil {
		return nil, err
	}
	// The subscriber peer connection sends no media: no estimator there.
	subAPI, err := newAPI(cfg, false, nil, nil)
	if err != nil {
		return nil, err
	}
	// Credentials in the URL (user:password@, ?access_token=) are never sent
	// (BuildURL drops them), so the session keeps only the redacted form:
	// every log line, error and StateChange shows it.
	shownURL := signaller.RedactURL(cfg.URL)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		cfg: cfg, creds: creds, h: h, log: cfg.Logger, api: api, relayAPI: relayAPI, subAPI: subAPI, estimators: hook, batch: batch,
		ctx: ctx, cancel: cancel,
		events: make(chan event, 1024), done: make(chan struct{}),
		disp: newDispatcher(), url0: shownURL, curURL: shownURL,
		failedURLs: map[string]bool{}, backoff: backoff, out: newOutbox(),
	}
	s.disp.onPanic = func(r any) { s.log.Errorf("handler panicked: %v", r) }
	return s, nil
}

// Start connects in the background; progress is reported to the Handler.
func (s *Session) Start() {
	s.startOnce.Do(func() {
		s.started.Store(true)
		go s.run()
	})
}

// Close leaves the room (Leave CLIENT_INITIATED) and stops every goroutine
// the session started. It returns when they are gone, with one exception:
// called from a Handler callback, it cannot wait for the dispatcher
// goroutine it runs on: that goroutine delivers what is still queued once
// the callback returns, then ends (Done).
func (s *Session) Close() {
	s.closeOnce.Do(func() {
		s.startOnce.Do(func() {}) // a session closed before Start never starts
		s.cancel()
		if s.started.Load() {
			<-s.done
		}
		s.wg.Wait()
		s.disp.close()
	})
}

// Done is closed once Close has run and the last goroutine of the session,
// the dispatcher, has ended.
func (s *Session) Done() <-chan struct{} { return s.disp.done }

// AddTrack publishes a track: now, or as soon as the session is connected.
func (s *Session) AddTrack(spec TrackSpec) (*Track, error) {
	if spec.Codec.MimeType() == "" {
		return nil, fmt.Errorf("track %s: unsupported codec", spec.Name)
	}
	t, err := newTrack(s, spec)
	if err != nil {
		return nil, err
	}
	if err := s.call(func(s *Session) error { s.onAddTrack(t); return nil }); err != nil {
		return nil, err
	}
	return t, nil
}

// call runs f on the session goroutine and returns its result, or
// ErrClosed when the session ends first.
func (s *Session) call(f func(*Session) error) error {
	reply := make(chan error, 1)
	if !s.post(evCall(func(s *Session) { reply <- f(s) })) {
		return ErrClosed
	}
	select {
	case err := <-reply:
		return err
	case <-s.ctx.Done():
		return ErrClosed
	}
}

// RemoveTrack unpublishes a track and stops its sender.
func (s *Session) RemoveTrack(t *Track) {
	t.close()
	s.post(evRemoveTrack{t: t})
}

// post hands an event to the session goroutine. It never blocks for long:
// pion callbacks and GStreamer threads call it.
func (s *Session) post(ev event) bool {
	select {
	case s.events <- ev:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// isLoopbackURL reports whether the server is on this machine, where pion
// must offer loopback candidates too.
func isLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || len(h) > 4 && h[:4] == "127." || h == "::1"
}

type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
