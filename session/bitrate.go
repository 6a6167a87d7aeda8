package session

import (
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/sdp/v3"
)

// Bounds of the bandwidth estimator when the Config leaves them zero: the
// reference element's start-bitrate, min-bitrate and max-bitrate defaults.
const (
	defaultStartBitrate = 2048000
	defaultMinBitrate   = 1000
	defaultMaxBitrate   = 8192000
)

// estimatorHook receives the estimator pion builds for each peer connection
// of an API with congestion control. pion calls it from inside
// NewPeerConnection, so take() right after that call returns the estimator
// of that peer connection.
type estimatorHook struct {
	mu   sync.Mutex
	last cc.BandwidthEstimator
}

func (h *estimatorHook) set(_ string, e cc.BandwidthEstimator) {
	h.mu.Lock()
	h.last = e
	h.mu.Unlock()
}

func (h *estimatorHook) take() cc.BandwidthEstimator {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.last
	h.last = nil
	return e
}

// addCongestionControl registers pion's GCC (send-side, fed by the SFU's
// TWCC feedback) in reg. It must come before the TWCC header extension
// interceptor, as in pion's bandwidth-estimation example: the estimator
// reads the sequence number that interceptor writes. Packets are not paced
// (NoOpPacer): frames come paced by the pipeline's clock, and the encoders
// are what follows the estimate.
func addCongestionControl(cfg Config, reg *interceptor.Registry, hook *estimatorHook) error {
	start, lo, hi := bitrateBounds(cfg)
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(start), gcc.SendSideBWEMinBitrate(lo),
			gcc.SendSideBWEMaxBitrate(hi), gcc.SendSideBWEPacer(gcc.NewNoOpPacer()))
	})
	if err != nil {
		return err
	}
	f.OnNewPeerConnection(hook.set)
	reg.Add(twccStreamsOnly{f})
	return nil
}

// twccStreamsOnly gives the estimator only the local streams that carry
// the transport-wide sequence number its feedback is about. pion's GCC
// records every packet of a stream without it too (for RFC 8888 feedback,
// which LiveKit does not send): for the Opus track, which LiveKit answers
// without the extension, a history entry per packet for nothing.
type twccStreamsOnly struct{ *cc.InterceptorFactory }

func (f twccStreamsOnly) NewInterceptor(id string) (interceptor.Interceptor, error) {
	i, err := f.InterceptorFactory.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return twccStreamsInterceptor{i}, nil
}

type twccStreamsInterceptor struct{ interceptor.Interceptor }

func (i twccStreamsInterceptor) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			return i.Interceptor.BindLocalStream(info, w)
		}
	}
	return w
}

// bitrateBounds are the estimator's start, min and max with the defaults
// filled in and start clamped into [min, max].
func bitrateBounds(cfg Config) (start, lo, hi int) {
	start, lo, hi = cfg.StartBitrate, cfg.MinBitrate, cfg.MaxBitrate
	if lo <= 0 {
		lo = defaultMinBitrate
	}
	if hi <= 0 {
		hi = defaultMaxBitrate
	}
	if hi < lo {
		hi = lo
	}
	if start <= 0 {
		start = defaultStartBitrate
	}
	return min(max(start, lo), hi), lo, hi
}

// watchEstimator forwards the estimator's targets of publisher peer
// connection gen to the session goroutine. pion calls the callback on a
// goroutine of its own per change; post gives up once the session ends.
func (s *Session) watchEstimator(e cc.BandwidthEstimator, gen uint64) {
	if e == nil {
		return
	}
	e.OnTargetBitrateChange(func(bps int) { s.post(evTargetBitrate{gen: gen, bps: bps}) })
}

// onTargetBitrate passes a target of the current publisher peer connection
// on to the handler when the governor lets it through.
func (s *Session) onTargetBitrate(e evTargetBitrate) {
	if s.pc == nil || e.gen != s.pc.gen || !s.governor.accept(e.bps, time.Now()) {
		return
	}
	s.targetBitrate.Store(int64(e.bps))
	s.log.Debugf("target bitrate %d bit/s", e.bps)
	if bh, ok := s.h.(BitrateHandler); ok {
		bps := e.bps
		s.disp.post(func() { bh.OnTargetBitrate(bps) })
	}
}

// TargetBitrate is the last estimate passed on (bit/s); 0 without
// congestion control or before the first one.
func (s *Session) TargetBitrate() int { return int(s.targetBitrate.Load()) }

// bitrateGovernor decides which estimates reach the encoders. GCC moves its
// target on every feedback report (about ten a second while it ramps up);
// reconfiguring an encoder that often costs more than it brings, while a
// drop (congestion) must reach it at once.
type bitrateGovernor struct {
	last   int
	lastAt time.Time
}

const (
	governorDrop   = 0.05        // a drop this large (relative) passes at once
	governorRise   = 0.15        // so does a rise this large
	governorSettle = time.Second // smaller moves wait this long since the last report
	governorNoise  = 0.02        // and moves below this are never passed on
)

// accept reports whether bps should be passed on now, and records it if so.
func (g *bitrateGovernor) accept(bps int, now time.Time) bool {
	if bps <= 0 {
		return false
	}
	ok := false
	if g.last == 0 {
		ok = true
	} else {
		rel := float64(bps-g.last) / float64(g.last)
		switch {
		case rel <= -governorDrop, rel >= governorRise:
			ok = true
		case (rel >= governorNoise || rel <= -governorNoise) && now.Sub(g.lastAt) >= governorSettle:
			ok = true
		}
	}
	if ok {
		g.last, g.lastAt = bps, now
	}
	return ok
}

// reset forgets the last report: a new peer connection brings a new
// estimator, whose first target always passes.
func (g *bitrateGovernor) reset() { *g = bitrateGovernor{} }

// VideoBitrateShare splits a target (bit/s) for the whole peer connection
// into the bitrate of each of videoTracks video encoders: audio keeps
// audioBitrate per audio track, the rest is shared evenly and clamped into
// [lo, hi] (the user's min-bitrate and max-bitrate).
func VideoBitrateShare(target, videoTracks, audioTracks, audioBitrate, lo, hi int) int {
	if videoTracks <= 0 {
		return 0
	}
	share := (target - audioTracks*audioBitrate) / videoTracks
	if hi > 0 && share > hi {
		share = hi
	}
	return max(share, lo, 1)
}
