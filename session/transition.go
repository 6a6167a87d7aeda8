package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// happening is a trigger with what came with it.
type happening struct {
	tr     trigger
	err    error                   // why the attempt failed, or what ends the session
	reason string                  // what starts a recovery episode
	rr     livekit.ReconnectReason // for the resume's query
	leave  *livekit.LeaveRequest
	join   *livekit.JoinResponse
	resume *livekit.ReconnectResponse
}

// ruleTaken, when set (by tests, before any session runs), sees every rule
// a transition takes.
var ruleTaken func(*rule)

// fire runs a trigger through the state machine. Actions may fire triggers
// of their own (a peer connection that cannot be made); those run after
// the current transition is complete, never inside it.
func (s *Session) fire(h happening) {
	s.pending = append(s.pending, h)
	if s.firing {
		return
	}
	s.firing = true
	for len(s.pending) > 0 {
		next := s.pending[0]
		s.pending = s.pending[1:]
		s.transition(next)
	}
	s.firing = false
}

// transition applies plan's decision for h and logs it.
func (s *Session) transition(h happening) {
	from := state{s.phase, s.mode}
	f := s.facts(h)
	if h.leave != nil {
		outcome, why := leavePolicy(h.leave)
		s.log.Infof("server sent leave %s %s (regions: %d): %s, because %s", h.leave.GetAction(), h.leave.GetReason(),
			len(h.leave.GetRegions().GetRegions()), outcome, why)
	}
	next, do, r, ok := plan(from, h.tr, f)
	if !ok {
		s.log.Debugf("%s ignored in %s", h.tr, from)
		return
	}
	if ruleTaken != nil {
		ruleTaken(r)
	}
	s.log.Infof("%s → %s (%s)", from, next, h.tr)
	s.phase, s.mode = next.phase, next.mode
	for _, a := range do {
		s.do(a, h, from)
	}
	if st := s.publicState(); st != s.state && s.phase != phaseClosed {
		s.setState(st, s.describe())
	}
}

// facts are what the rules' conditions need to know of the session now.
func (s *Session) facts(h happening) facts {
	f := facts{
		everConnected: s.everConnected,
		canResume:     s.canResume(),
		resumesLeft:   s.attempt <= resumeAttempts,
		canMint:       s.creds.CanMint() && !s.mintedOnce,
		regionLeft:    len(s.plan) > 0,
		regionsKnown:  s.regionsEnabled() && len(s.fetched)+len(s.leaveRegion.GetRegions()) > 0,
	}
	if s.pc != nil {
		f.offerPending = s.pc.offering || s.pc.restarting
		f.mediaIntact = s.pc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected &&
			s.rrReason == livekit.ReconnectReason_RR_SIGNAL_DISCONNECTED
	}
	if h.leave != nil {
		f.leave, _ = leavePolicy(h.leave)
		f.leaveAction = h.leave.GetAction().String()
	}
	return f
}

// do carries out one action of a transition; from is the state before it.
func (s *Session) do(a action, h happening, from state) {
	switch a {
	case aBeginEpisode:
		if from.mode == modeNone {
			s.lastErr = nil
			s.episode = time.Now()
			s.attempt = 0
			s.warned = false
			s.mintedOnce = false
			s.rrReason = h.rr
		}
		s.reason = h.reason
	case aFailed:
		s.log.Warnf("attempt %d (%s) failed: %v", s.attempt, from.mode, h.err)
		s.lastErr = h.err
	case aDropSocket:
		s.dropConn()
	case aFreshToken:
		s.mintedOnce = true
		tok, err := s.creds.Token()
		if err != nil {
			s.fire(happening{tr: trBroken, err: h.err})
			return
		}
		s.token = tok
		s.attempt-- // a fresh token is not a new attempt
		s.lastErr = errors.New("token refused, retrying with a fresh one")
	case aMarkURLFailed:
		s.failedURLs[signaller.NormalizeURL(s.curURL)] = true
	case aWarnRetrying:
		if !s.everConnected {
			werr := fmt.Errorf("cannot connect to LiveKit at %s (attempt %d, retrying): %w", s.curURL, s.attempt, h.err)
			s.disp.post(func() { s.h.OnWarning(werr) })
		}
	case aKeepLeaveRegions:
		if h.leave.GetRegions() != nil {
			s.leaveRegion = h.leave.GetRegions()
		}
	case aRetryNow:
		s.schedule(0)
	case aRetryBackoff:
		s.schedule(s.backoff(s.attempt+1, true))
	case aRetryAfterSettle:
		s.schedule(switchCandidateSettle)
	case aDialResume:
		s.dial(s.curURL, true)
	case aDialFull:
		s.dialFull()
	case aSetUpJoin:
		s.setUpJoin(h.join)
	case aSyncResume:
		s.syncResume(h.resume)
	case aRestartICE:
		s.pc.restart = true
		s.pc.again = false
		s.negotiate()
	case aOfferIfPending:
		if s.pc.again || s.pc.pc.SignalingState() != webrtc.SignalingStateStable {
			s.pc.again = false
			s.negotiate()
		}
	case aConnected:
		s.connected(from)
	case aWarnSlow:
		s.warned = true
		err := fmt.Errorf("recovery still running after %s, attempt %d: %s",
			time.Since(s.episode).Round(time.Millisecond), s.attempt, s.describe())
		s.disp.post(func() { s.h.OnWarning(err) })
	case aLeave:
		s.teardown(true)
		s.setState(StateDisconnected, "closed by the application")
	case aEnd:
		err := h.err
		if h.leave != nil {
			err = &DisconnectError{Reason: h.leave.GetReason()}
		}
		s.log.Errorf("giving up: %v", err)
		s.teardown(false)
		s.setState(StateDisconnected, err.Error())
		s.disp.post(func() { s.h.OnFatal(err) })
		s.cancel() // unblock AddTrack/Simulate callers and pion callbacks
	}
}

// publicState is the state the application sees for the machine's state.
func (s *Session) publicState() State {
	switch {
	case s.phase == phaseConnected:
		return StateConnected
	case s.phase == phaseClosed:
		return StateDisconnected
	case !s.everConnected:
		return StateConnecting
	case s.mode == modeResume:
		return StateResuming
	default:
		return StateReconnecting
	}
}
