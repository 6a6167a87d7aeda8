package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

// beginRecovery starts (or sharpens) a recovery episode. Only one runs at a
// time: a trigger during an episode can upgrade resume to full and cut the
// backoff short, never start a second worker (docs/protocol.md, "The state machine").
func (s *Session) beginRecovery(mode recoveryMode, rr livekit.ReconnectReason, reason string, now bool) {
	if s.phase == phaseClosed {
		return
	}
	s.dropConn()
	if s.mode == modeNone {
		s.mode = mode
		s.lastErr = nil
		s.episode = time.Now()
		s.attempt = 0
		s.warned = false
		s.mintedOnce = false
		s.rrReason = rr
	} else if mode == modeFull {
		s.mode = modeFull
	}
	s.reason = reason
	s.log.Infof("recovery needed (%s): %s", s.modeName(), reason)
	delay := time.Duration(0)
	if !now {
		delay = s.backoff(s.attempt+1, true)
	}
	s.schedule(delay)
}

// schedule waits delay before the next attempt.
func (s *Session) schedule(delay time.Duration) {
	s.attempt++
	s.phase = phaseWaiting
	s.retryAt = time.Now().Add(delay)
	s.setState(s.recoveringState(), s.describe())
}

func (s *Session) recoveringState() State {
	switch {
	case !s.everConnected:
		return StateConnecting
	case s.mode == modeResume:
		return StateResuming
	default:
		return StateReconnecting
	}
}

func (s *Session) modeName() string {
	if s.mode == modeResume {
		return "resume"
	}
	return "full reconnect"
}

// attemptNow runs one recovery attempt: a resume on the current server, or a
// full reconnect to the next URL of the plan.
func (s *Session) attemptNow() {
	if s.mode == modeResume && (s.attempt > resumeAttempts || !s.canResume()) {
		s.mode = modeFull
		s.setState(StateReconnecting, s.describe())
	}
	if s.mode == modeResume {
		s.dial(s.curURL, true)
		return
	}
	// Full reconnect: the old participant goes, a new one publishes everything again.
	if s.conn != nil {
		s.conn.Leave(livekit.DisconnectReason_CLIENT_INITIATED)
		s.conn = nil
	}
	s.closePeers()
	for _, ts := range s.tracks {
		ts.reset()
	}
	if s.creds.CanMint() && s.everConnected {
		if tok, err := s.creds.Token(); err == nil {
			s.token = tok
		}
	}
	s.dial(s.nextURL(), false)
}

func (s *Session) canResume() bool {
	if s.pc == nil || s.sid == "" || s.join == nil {
		return false
	}
	return s.join.GetClientConfiguration().GetResumeConnection() != livekit.ClientConfigSetting_DISABLED
}

// dial opens a websocket in the background; the result comes back as evDialed.
func (s *Session) dial(u string, resume bool) {
	s.dropConn()
	gen := s.sigGen
	params := signaller.URLParams{}
	if resume {
		params = signaller.URLParams{Reconnect: true, SID: s.sid, Reason: s.rrReason}
	}
	wsURL, err := signaller.BuildURL(u, params)
	if err != nil {
		s.fatal(err)
		return
	}
	s.phase = phaseDialing
	s.curURL = u
	s.log.Debugf("dialing %s (resume=%v, attempt %d)", u, resume, s.attempt)
	opts := signaller.DialOptions{URL: wsURL, Token: s.token, Timeout: joinTimeout, Logger: s.log}
	ctx, dial := s.ctx, s.cfg.Dial
	s.spawn(func() {
		conn, first, err := dial(ctx, opts)
		if !s.post(evDialed{gen: gen, url: u, conn: conn, first: first, err: err}) && conn != nil {
			_ = conn.Close()
		}
	})
}

// dropConn forgets the current websocket: its late events are stale.
func (s *Session) dropConn() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
	s.sigGen++
}

func (s *Session) onDialed(e evDialed) {
	if e.err != nil {
		s.attemptFailed(e.err, false)
		return
	}
	s.conn = e.conn
	gen := s.sigGen
	conn := e.conn
	// The forwarder ends when the socket does; the socket is owned by the
	// session goroutine and closed by dropConn/teardown.
	s.spawn(func() {
		for m := range conn.Messages() {
			if !s.post(evSignal{gen: gen, msg: m}) {
				return
			}
		}
		s.post(evSignalClosed{gen: gen, err: conn.Err()})
	})
	switch {
	case e.first.GetJoin() != nil:
		s.onJoin(e.first.GetJoin())
	case s.mode != modeResume:
		// Only a JoinResponse answers a join (a ReconnectResponse would find
		// no peer connection to resume).
		s.attemptFailed(fmt.Errorf("unexpected first message %T from the server", e.first.GetMessage()), false)
	case e.first.GetReconnect() != nil:
		s.onReconnectResponse(e.first.GetReconnect())
	default:
		// An old server answers a resume without ReconnectResponse.
		s.onReconnectResponse(&livekit.ReconnectResponse{})
		s.onSignal(e.first)
	}
}

// attemptFailed decides what follows a failed attempt: a fresh token, the
// next region, a full reconnect instead of a resume, or a backoff.
func (s *Session) attemptFailed(err error, escalate bool) {
	s.log.Warnf("attempt %d (%s) failed: %v", s.attempt, s.modeName(), err)
	var httpErr *signaller.HTTPError
	var leaveErr *signaller.LeaveError
	switch {
	case errors.As(err, new(*signaller.CertificateError)):
		// Like refused credentials: only a change of configuration (the
		// trusted CAs, the URL) can fix it.
		s.fatal(err)
		return
	case errors.As(err, &httpErr) && httpErr.IsAuth():
		if s.creds.CanMint() && !s.mintedOnce {
			s.mintedOnce = true
			if tok, terr := s.creds.Token(); terr == nil {
				s.token = tok
				s.attempt-- // a fresh token is not a new attempt
				s.lastErr = errors.New("token refused, retrying with a fresh one")
				s.schedule(0)
				return
			}
		}
		s.fatal(&AuthError{Status: httpErr.StatusCode, Message: httpErr.Message})
		return
	case errors.As(err, &leaveErr):
		// A Leave instead of a join or resume answer: the same policy as on a
		// working socket, except that the server no longer knows us, so no
		// resume. Leave{RESUME|RECONNECT} (e.g. the 5 s window passed) rejoins
		// at once; a DISCONNECT that is not the end (a node shutting down)
		// rejoins with backoff, so a cluster in a rolling deploy is not hammered.
		l := leaveErr.Leave
		outcome, why := leavePolicy(l)
		s.log.Infof("server answered with leave %s %s: %s, because %s", l.GetAction(), l.GetReason(), outcome, why)
		if outcome == leaveEnd {
			s.fatal(&DisconnectError{Reason: l.GetReason()})
			return
		}
		s.mode = modeFull
		if l.GetRegions() != nil {
			s.leaveRegion = l.GetRegions()
		}
		s.lastErr = leaveErr
		s.dropConn()
		if l.GetAction() == livekit.LeaveRequest_DISCONNECT {
			s.schedule(s.backoff(s.attempt+1, true))
		} else {
			s.schedule(0)
		}
		return
	}
	s.lastErr = err
	s.dropConn()
	if s.mode == modeFull || s.mode == modeNone {
		s.failedURLs[signaller.NormalizeURL(s.curURL)] = true
		if len(s.plan) > 0 {
			// Another region is left: try it now.
			s.schedule(0)
			return
		}
	}
	// With regions to go to, a server that cannot take the resume is not
	// waited for: the full reconnect's plan moves to another region (the Go
	// SDK escalates on any resume failure for the same reason).
	if s.mode == modeResume && (escalate || s.regionsEnabled() && len(s.fetched)+len(s.leaveRegion.GetRegions()) > 0) {
		s.mode = modeFull
		s.schedule(0)
		return
	}
	if s.mode == modeNone {
		s.mode = modeFull
	}
	if !s.everConnected {
		werr := fmt.Errorf("cannot connect to LiveKit at %s (attempt %d, retrying): %w", s.curURL, s.attempt, err)
		s.disp.post(func() { s.h.OnWarning(werr) })
	}
	s.schedule(s.backoff(s.attempt+1, true))
}

// onSignalLost: the websocket closed without us asking (server close, read
// error, ping timeout).
func (s *Session) onSignalLost(err error) {
	reason := "signalling connection lost"
	if err != nil {
		reason = "signalling connection lost: " + err.Error()
	}
	switch s.phase {
	case phaseConnected:
		s.beginRecovery(modeResume, livekit.ReconnectReason_RR_SIGNAL_DISCONNECTED, reason, false)
	case phaseNegotiating:
		s.attemptFailed(errors.New(reason), s.mode == modeResume)
	}
}

// onConnected: the peer connection is up after a join, resume or reconnect.
func (s *Session) onConnected() {
	reason := "joined"
	if s.everConnected {
		reason = "recovered after " + s.reason
		if !s.episode.IsZero() {
			s.log.Infof("recovered in %s (%s, %d attempts)", time.Since(s.episode).Round(time.Millisecond), s.modeName(), s.attempt)
		}
	}
	s.phase = phaseConnected
	s.everConnected = true
	s.setState(StateConnected, reason)
	s.mode = modeNone
	s.attempt = 0
	s.episode = time.Time{}
	s.warned = false
	s.plan = nil
	s.failedURLs = map[string]bool{}
	s.leaveRegion = nil
	s.pcDeadline = time.Time{}
	s.settleAt = time.Time{}
}

func (s *Session) closePeers() {
	if s.pc != nil {
		pc := s.pc.pc
		s.pc = nil
		s.spawn(func() { _ = pc.Close() }) // pion's Close waits for its goroutines; not on the loop
	}
	if s.sub != nil {
		pc := s.sub.pc
		s.sub = nil
		s.spawn(func() { _ = pc.Close() })
	}
}

func (ts *trackState) reset() {
	ts.t.flowing.Store(false)
	ts.info = nil
	ts.requested = false
	ts.sender = nil
	ts.negotiated = false
	ts.inOffer = false
	ts.failed = false
}

// regionsEnabled: region lists are used for LiveKit Cloud hosts, and for
// any host when the user turned region-failover on.
func (s *Session) regionsEnabled() bool {
	return signaller.IsCloudHost(s.url0) || s.cfg.RegionFailover
}

// nextURL picks the URL of the next full-reconnect attempt.
func (s *Session) nextURL() string {
	if !s.regionsEnabled() {
		return s.url0
	}
	var leave []*livekit.RegionInfo
	if s.leaveRegion != nil {
		leave = s.leaveRegion.Regions
	}
	for _, list := range [][]*livekit.RegionInfo{leave, s.fetched} {
		for _, r := range list {
			if signaller.IsDowngrade(s.url0, r.GetUrl()) {
				s.log.Warnf("region %s skipped: %s has no TLS while %s has; the token is not sent there",
					r.GetRegion(), signaller.RedactURL(r.GetUrl()), s.url0)
			}
		}
	}
	s.plan = signaller.Plan(s.url0, leave, s.fetched, s.failedURLs)
	if len(s.plan) == 0 {
		s.failedURLs = map[string]bool{}
		s.plan = signaller.Plan(s.url0, leave, s.fetched, s.failedURLs)
	}
	if len(s.plan) == 0 {
		return s.url0
	}
	u := s.plan[0]
	s.plan = s.plan[1:]
	return u
}

// fetchRegions warms the region list in the background.
func (s *Session) fetchRegions() {
	if !s.regionsEnabled() {
		return
	}
	u, tok := s.url0, s.token
	s.spawn(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 3*time.Second)
		defer cancel()
		rs, err := signaller.FetchRegions(ctx, u, tok)
		if err != nil {
			s.log.Debugf("region list: %v", err)
			return
		}
		s.post(evRegions{regions: rs})
	})
}

// describe is the reason shown while recovering: the trigger of the episode
// and what went wrong in the last attempt.
func (s *Session) describe() string {
	if s.lastErr == nil {
		return s.reason
	}
	return s.reason + "; last attempt: " + s.lastErr.Error()
}
