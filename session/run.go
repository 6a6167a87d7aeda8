package session

import (
	"errors"
	"fmt"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// run is the session goroutine: the one owner of connection state.
func (s *Session) run() {
	defer close(s.done)
	defer s.recoverPanic()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	s.begin()
	for s.phase != phaseClosed {
		s.armTimer(timer)
		select {
		case <-s.ctx.Done():
			s.fire(happening{tr: trClose})
			return
		case ev := <-s.events:
			s.handle(ev)
		case <-timer.C:
			s.onTimer(time.Now())
		}
	}
}

// begin starts the initial connection: a "full" episode that reports
// connecting instead of reconnecting.
func (s *Session) begin() {
	tok, err := s.creds.Token()
	if err != nil {
		s.fire(happening{tr: trBroken, err: err})
		return
	}
	s.token = tok
	s.fire(happening{tr: trStart, reason: "start"})
}

func (s *Session) handle(ev event) {
	switch e := ev.(type) {
	case evRemoveTrack:
		s.onRemoveTrack(e.t)
	case evMute:
		s.onMute(e.t, e.muted)
	case evVideoSize:
		s.onVideoSize(e.t, e.width, e.height)
	case evDialed:
		if e.gen != s.sigGen {
			if e.conn != nil {
				_ = e.conn.Close()
			}
			return
		}
		s.onDialed(e)
	case evSignal:
		if e.gen == s.sigGen {
			s.onSignal(e.msg)
		}
	case evSignalClosed:
		if e.gen == s.sigGen {
			s.conn = nil
			s.onSignalLost(e.err)
		}
	case evLocalCandidate:
		s.onLocalCandidate(e)
	case evPCState:
		if s.pc != nil && e.gen == s.pc.gen {
			s.onPCState()
		}
	case evICEState:
		if s.pc != nil && e.gen == s.pc.gen {
			s.log.Debugf("publisher ICE state %s", e.state)
		}
	case evTargetBitrate:
		s.onTargetBitrate(e)
	case evCall:
		e(s)
	case evRegions:
		if e.regions != nil {
			s.fetched = e.regions.Regions
		}
	}
}

// armTimer points the single timer at the earliest pending deadline.
func (s *Session) armTimer(t *time.Timer) {
	next := time.Time{}
	consider := func(d time.Time) {
		if !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	if s.phase == phaseWaiting {
		consider(s.retryAt)
	}
	consider(s.roomDeadline())
	if s.phase == phaseConnected {
		consider(s.pathCheckAt)
	}
	if s.phase == phaseNegotiating {
		consider(s.pcDeadline)
		consider(s.settleAt)
	}
	for _, ts := range s.tracks {
		if ts.requested && ts.info == nil && !ts.failed {
			consider(ts.deadline)
		}
	}
	if !s.episode.IsZero() {
		if s.cfg.SlowRecoveryWarning > 0 && !s.warned && s.everConnected {
			consider(s.episode.Add(s.cfg.SlowRecoveryWarning))
		}
		if s.cfg.ReconnectBudget > 0 { // the first connect too
			consider(s.episode.Add(s.cfg.ReconnectBudget))
		}
	}
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
	if next.IsZero() {
		t.Reset(time.Hour)
		return
	}
	t.Reset(time.Until(next))
}

func (s *Session) onTimer(now time.Time) {
	if s.checkRoomTimeout(now) {
		return
	}
	for _, ts := range s.tracks {
		if ts.requested && ts.info == nil && !ts.failed && !now.Before(ts.deadline) {
			s.failTrack(ts, fmt.Errorf("no TrackPublished from the server within %s (signaller::timeout)", s.cfg.PublishTimeout))
			s.negotiate()
		}
	}
	if !s.episode.IsZero() {
		elapsed := now.Sub(s.episode)
		if s.cfg.ReconnectBudget > 0 && elapsed >= s.cfg.ReconnectBudget {
			// An unattended pipeline whose user set a budget wants an ERROR
			// also when the server was never reached.
			what := "reconnected"
			if !s.everConnected {
				what = "connected"
			}
			s.fire(happening{tr: trBudgetSpent, err: fmt.Errorf("%w: still not %s to %s after %s (reconnect-budget): %s",
				ErrBudgetSpent, what, s.curURL, elapsed.Round(time.Millisecond), s.describe())})
			return
		}
		if s.cfg.SlowRecoveryWarning > 0 && !s.warned && s.everConnected && elapsed >= s.cfg.SlowRecoveryWarning {
			s.fire(happening{tr: trSlow})
		}
	}
	switch s.phase {
	case phaseConnected:
		if !now.Before(s.pathCheckAt) {
			s.checkPath(now)
		}
	case phaseWaiting:
		if !now.Before(s.retryAt) {
			s.fire(happening{tr: trBackoffOver})
		}
	case phaseNegotiating:
		if !s.settleAt.IsZero() && !now.Before(s.settleAt) {
			s.settleAt = time.Time{}
			if s.pc != nil && s.pc.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
				s.fire(happening{tr: trPCConnected})
				if s.phase != phaseNegotiating {
					return
				}
			}
		}
		if !now.Before(s.pcDeadline) {
			s.fire(happening{tr: trPCTimeout, err: fmt.Errorf("peer connection did not connect within %s", pcConnectTimeout)})
		}
	}
}

// checkPath samples what the tracks sent and the RTCP the SFU sent back;
// media that goes unanswered for pathWatch's window starts a resume with an
// ICE restart, as a failed publisher peer connection would, only sooner.
func (s *Session) checkPath(now time.Time) {
	s.pathCheckAt = now.Add(pathCheckEvery)
	var sent, heard uint64
	for _, ts := range s.tracks {
		sent += ts.t.stats.packetsSent.Load()
		heard += ts.t.stats.rtcpIn.Load()
	}
	quiet, dead := s.path.observe(now, sent, heard)
	if line, ok := s.path.report(now, 10*time.Second); ok {
		s.log.Debugf("path: %s", line)
	}
	if !dead {
		return
	}
	why := fmt.Sprintf("no RTCP from the SFU for %s while sending media (window %s)", quiet.Round(time.Millisecond), s.path.window())
	s.log.Warnf("publisher media path looks dead: %s", why)
	s.fire(happening{tr: trPathDead, err: errors.New(why), reason: why, rr: livekit.ReconnectReason_RR_PUBLISHER_FAILED})
}

// send writes a signal request on the current websocket.
func (s *Session) send(req *livekit.SignalRequest) error {
	if s.conn == nil {
		return fmt.Errorf("signalling not connected")
	}
	return s.conn.Send(req)
}

// setState reports a state (change) to the handler with everything a bus
// message needs.
func (s *Session) setState(st State, reason string) {
	s.state = st
	sc := StateChange{
		State: st, Reason: reason, Attempt: s.attempt, ParticipantSID: s.sid,
		Region: s.region, URL: signaller.RedactURL(s.curURL), TrackSIDs: map[string]string{},
	}
	if !s.episode.IsZero() {
		sc.Elapsed = time.Since(s.episode)
	}
	for _, ts := range s.tracks {
		if ts.info != nil {
			sc.TrackSIDs[ts.t.spec.Name] = ts.info.Sid
		}
	}
	if st == StateConnected {
		sc.Transport = s.transport()
	}
	s.log.Infof("state %s (%s) attempt=%d participant=%s url=%s", st, reason, s.attempt, s.sid, s.curURL)
	s.disp.post(func() { s.h.OnStateChange(sc) })
}

// teardown closes the websocket (with a Leave when asked) and every peer connection.
func (s *Session) teardown(leave bool) {
	if s.conn != nil {
		if leave {
			s.conn.Leave(livekit.DisconnectReason_CLIENT_INITIATED)
		} else {
			_ = s.conn.Close()
		}
		s.conn = nil
	}
	s.sigGen++
	s.closePeers()
	for _, ts := range s.tracks {
		ts.t.close()
	}
}
