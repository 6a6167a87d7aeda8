package session

import (
	"fmt"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"
)

// setUpJoin: a fresh LiveKit session (initial join or full reconnect). Build
// the peer connection, publish every track, and offer at once so the
// participant becomes active even before the first track is there.
func (s *Session) setUpJoin(j *livekit.JoinResponse) {
	s.join = j
	s.sid = j.GetParticipant().GetSid()
	s.region = j.GetServerInfo().GetRegion()
	s.iceServers = j.GetIceServers()
	s.forceRelay = j.GetClientConfiguration().GetForceRelay() == livekit.ClientConfigSetting_ENABLED
	s.startPings()
	s.roomJoined(j, time.Now())
	s.log.Infof("joined room %q as %s (server %s %s, region %q, force_relay %v, ICE servers %v)", j.GetRoom().GetName(), s.sid,
		j.GetServerInfo().GetVersion(), j.GetServerInfo().GetEdition(), s.region, s.forceRelay, iceURLs(s.iceServers))

	s.closePeers()
	s.dataToNewParticipant()
	p, err := s.newPeer()
	if err != nil {
		s.fire(happening{tr: trBroken, err: err})
		return
	}
	s.pc = p
	s.pcDeadline = time.Now().Add(pcConnectTimeout)
	for _, ts := range s.tracks {
		ts.reset()
		s.setLayers(ts, nil) // a new participant: the SFU's dynacast starts over with every layer
		s.publishTrack(ts)
	}
	s.negotiate()
	s.fetchRegions()
}

// syncResume: the server kept our participant. Apply the new ICE
// configuration and tell it what we publish (SyncState); the machine then
// restarts ICE unless the media path never broke.
func (s *Session) syncResume(r *livekit.ReconnectResponse) {
	s.dataResumed(r.GetLastMessageSeq())
	if len(r.GetIceServers()) > 0 {
		s.iceServers = r.GetIceServers()
	}
	if r.GetClientConfiguration().GetForceRelay() == livekit.ClientConfigSetting_ENABLED {
		s.forceRelay = true
		// pion fixes candidate types when the agent is made: from now on
		// trickle relay candidates only; a failed resume rebuilds relay-only.
		s.pc.relay = true
	}
	// pion (ice v4.4.8) swaps the server list under a gathering that is
	// still running without a lock, a data race: then the join's servers,
	// from the same server, stay in use.
	if s.pc.pc.ICEGatheringState() == webrtc.ICEGatheringStateGathering {
		s.log.Debugf("still gathering candidates: keeping the join's ICE servers")
	} else if err := s.pc.pc.SetConfiguration(s.rtcConfig()); err != nil {
		s.log.Debugf("applying the new ICE configuration: %v", err)
	}
	s.startPings()
	s.sendSyncState()
	for _, ts := range s.tracks {
		if ts.failed {
			continue
		}
		s.syncTrackInfo(ts)
		// Requested but not published: the TrackPublished may have gone down
		// with the old socket, and the server does not repeat it. Ask again
		// under a new cid (the old pending entry stays unused on the server).
		if ts.requested && ts.info == nil {
			if err := ts.t.renewCID(); err != nil {
				s.failTrack(ts, fmt.Errorf("publishing again after the resume: %w", err))
				continue
			}
			ts.requested = false
		}
		// Tracks added while the socket was down have not been announced yet.
		if !ts.requested {
			s.publishTrack(ts)
		}
	}
	s.pcDeadline = time.Now().Add(pcConnectTimeout)
	// An offer that was in flight when the socket died lost its answer.
	s.pc.offering = false
}

func (s *Session) startPings() {
	interval := time.Duration(s.join.GetPingInterval()) * time.Second
	timeout := time.Duration(s.join.GetPingTimeout()) * time.Second
	s.conn.Start(interval, timeout)
}

// sendSyncState tells the server which tracks and data channels this
// participant has. subscription must be non-nil: v1.9.11 dereferences it.
func (s *Session) sendSyncState() {
	st := &livekit.SyncState{
		Subscription: &livekit.UpdateSubscription{Subscribe: true},
		DataChannels: s.pc.dataChannelInfos(),
	}
	for _, ts := range s.tracks {
		if ts.info != nil {
			st.PublishTracks = append(st.PublishTracks, &livekit.TrackPublishedResponse{Cid: ts.t.cid, Track: ts.info})
		}
	}
	if s.sub != nil {
		if ld := s.sub.pc.LocalDescription(); ld != nil {
			st.Answer = toProtoSD(*ld, 0)
		}
		if rd := s.sub.pc.RemoteDescription(); rd != nil {
			st.Offer = toProtoSD(*rd, 0)
		}
	}
	if err := s.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_SyncState{SyncState: st}}); err != nil {
		s.log.Warnf("sync state: %v", err)
	}
}
