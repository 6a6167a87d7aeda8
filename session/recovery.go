package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
)

// schedule counts the next attempt and waits delay before it (phaseWaiting).
func (s *Session) schedule(delay time.Duration) {
	s.attempt++
	s.retryAt = time.Now().Add(delay)
	s.setState(s.publicState(), s.describe())
}

// dialFull starts a full reconnect: the old participant goes, a new one
// publishes everything again.
func (s *Session) dialFull() {
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
		s.fire(happening{tr: trBroken, err: err})
		return
	}
	s.curURL = u
	s.log.Debugf("dialing %s (resume=%v, attempt %d)", u, resume, s.attempt)
	opts := signaller.DialOptions{URL: wsURL, Token: s.token, Timeout: joinTimeout, Logger: s.log}
	ctx, dial := s.ctx, s.cfg.Dial
	s.spawn(func() {
		conn, first, err := dial(ctx, opts)
		if !s.post(evDialed{gen: gen, conn: conn, first: first, err: err}) && conn != nil {
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
		s.fire(dialFailure(e.err))
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
		s.fire(happening{tr: trJoined, join: e.first.GetJoin()})
	case e.first.GetReconnect() != nil:
		s.fire(happening{tr: trResumed, resume: e.first.GetReconnect(),
			err: errors.New("the server answered a join with a ReconnectResponse")})
	case s.mode == modeResume:
		// An old server answers a resume without ReconnectResponse; the
		// frame it sent instead is handled once resumed.
		s.fire(happening{tr: trResumed, resume: &livekit.ReconnectResponse{}})
		s.onSignal(e.first)
	default:
		s.fire(happening{tr: trDialFailed, err: fmt.Errorf("unexpected first message %T from the server", e.first.GetMessage())})
	}
}

// dialFailure names the trigger of a dial that failed.
func dialFailure(err error) happening {
	var httpErr *signaller.HTTPError
	var leaveErr *signaller.LeaveError
	switch {
	case errors.As(err, new(*signaller.CertificateError)):
		// Like refused credentials: only a change of configuration (the
		// trusted CAs, the URL) can fix it.
		return happening{tr: trUntrusted, err: err}
	case errors.As(err, &httpErr) && httpErr.IsAuth():
		return happening{tr: trRefused, err: &AuthError{Status: httpErr.StatusCode, Message: httpErr.Message}}
	case errors.As(err, &leaveErr):
		// The server no longer knows us: the policy decides, never a resume.
		return happening{tr: trLeaveFirst, err: leaveErr, leave: leaveErr.Leave}
	}
	return happening{tr: trDialFailed, err: err}
}

// onSignalLost: the websocket closed without us asking (server close, read
// error, ping timeout).
func (s *Session) onSignalLost(err error) {
	reason := "signalling connection lost"
	if err != nil {
		reason = "signalling connection lost: " + err.Error()
	}
	s.fire(happening{tr: trSocketLost, err: errors.New(reason), reason: reason, rr: livekit.ReconnectReason_RR_SIGNAL_DISCONNECTED})
}

// connected: the peer connection is up after a join, resume or reconnect;
// from is the state the recovery was in.
func (s *Session) connected(from state) {
	reason := "joined"
	if s.everConnected {
		reason = "recovered after " + s.reason
		if !s.episode.IsZero() {
			s.log.Infof("recovered in %s (%s, %d attempts)", time.Since(s.episode).Round(time.Millisecond), from.mode, s.attempt)
		}
	}
	s.everConnected = true
	s.setState(StateConnected, reason)
	s.attempt = 0
	s.episode = time.Time{}
	s.warned = false
	s.plan = nil
	s.failedURLs = map[string]bool{}
	s.leaveRegion = nil
	s.pcDeadline = time.Time{}
	s.settleAt = time.Time{}
	s.path = newPathWatch()
	s.pathCheckAt = time.Now()
	s.updateFlowing()
	s.flushData()
	s.flushMeta()
}

func (s *Session) closePeers() {
	if s.pc != nil {
		s.dataAcked(s.pc)
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
	var downgrades []*livekit.RegionInfo
	s.plan, downgrades = signaller.Plan(s.url0, leave, s.fetched, s.failedURLs)
	for _, r := range downgrades {
		s.log.Warnf("region %s skipped: %s has no TLS while %s has; the token is not sent there",
			r.GetRegion(), signaller.RedactURL(r.GetUrl()), s.url0)
	}
	if len(s.plan) == 0 {
		s.failedURLs = map[string]bool{}
		s.plan, _ = signaller.Plan(s.url0, leave, s.fetched, s.failedURLs)
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
