package session

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	lkrtp "github.com/golivekitsink/golivekitsink/rtp"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Quality names a simulcast layer as LiveKit does (LOW, MEDIUM, HIGH).
type Quality = livekit.VideoQuality

const (
	QualityLow    = livekit.VideoQuality_LOW
	QualityMedium = livekit.VideoQuality_MEDIUM
	QualityHigh   = livekit.VideoQuality_HIGH
)

// LayerSpec describes one simulcast layer of a video track.
type LayerSpec struct {
	Quality       Quality
	Width, Height int
	MaxBitrate    int // bit/s; 0 if unknown
}

// RID is the RTP stream id LiveKit clients use for a quality: q, h, f.
func RID(q Quality) string {
	switch q {
	case QualityLow:
		return "q"
	case QualityMedium:
		return "h"
	case QualityHigh:
		return "f"
	}
	return ""
}

// simulcastMTU leaves room in each packet for the MID and RID header
// extensions a simulcast layer carries until the SFU knows its SSRC.
const simulcastMTU = lkrtp.DefaultMTU - 16

// Layer is one encoding of a track: the whole track when it is not
// simulcast, one RID otherwise. Each layer has its own packetizer (sequence
// numbers, timestamps, picture ids) and its own SSRC.
type Layer struct {
	t    *Track
	spec LayerSpec
	rid  string // "" when the track is not simulcast

	mu         sync.Mutex // serialises WriteFrame (packetizer state, paramSets, local)
	packetizer *lkrtp.Packetizer
	paramSets  lkrtp.ParameterSets // H.264: SPS and PPS in front of every IDR
	local      *webrtc.TrackLocalStaticRTP

	// enabled is dynacast: false while no subscriber wants this layer.
	enabled atomic.Bool
	lastKey atomic.Int64 // unix nanos of the last PLI/FIR-driven keyframe request sent upstream
	// ssrc of the layer on the current sender; acked once the SFU sent a
	// receiver report for it, after which MID/RID extensions are not needed.
	ssrc  atomic.Uint32
	acked atomic.Bool
	ids   atomic.Pointer[streamIDs]

	stats layerCounters
}

// streamIDs are the header extensions that tell the SFU which RID (and
// MID) an SSRC it has not seen in the SDP belongs to.
type streamIDs struct {
	midID, ridID uint8
	mid          string
}

type layerCounters struct {
	framesSent, framesDropped, framesPaused atomic.Uint64
	packetsSent, bytesSent                  atomic.Uint64
	plis, firs, nacks                       atomic.Uint64
}

// LayerStats is what one layer has sent.
type LayerStats struct {
	Quality       Quality
	RID           string
	Width, Height int
	// Sending is false while dynacast pauses the layer (no subscriber wants it).
	Sending       bool
	FramesSent    uint64
	FramesDropped uint64 // no transport up
	FramesPaused  uint64 // dropped because dynacast paused the layer
	PacketsSent   uint64
	BytesSent     uint64
	PLIs, FIRs    uint64
	NACKs         uint64
}

// normalizeLayers checks a video track's layers and sorts them low to high,
// the order LiveKit clients add encodings in.
func normalizeLayers(spec TrackSpec) ([]LayerSpec, error) {
	if len(spec.Layers) == 0 {
		return []LayerSpec{{Quality: QualityHigh, Width: spec.Width, Height: spec.Height}}, nil
	}
	if !spec.Codec.IsVideo() {
		return nil, fmt.Errorf("track %s: video layers on an audio track", spec.Name)
	}
	if len(spec.Layers) == 1 {
		// One layer is no simulcast: the track itself, which LiveKit calls HIGH.
		l := spec.Layers[0]
		l.Quality = QualityHigh
		return []LayerSpec{l}, nil
	}
	if len(spec.Layers) > 3 {
		return nil, fmt.Errorf("track %s: %d simulcast layers, at most 3", spec.Name, len(spec.Layers))
	}
	layers := slices.Clone(spec.Layers)
	slices.SortFunc(layers, func(a, b LayerSpec) int { return int(a.Quality) - int(b.Quality) })
	for i, l := range layers {
		if RID(l.Quality) == "" {
			return nil, fmt.Errorf("track %s: unknown layer quality %v", spec.Name, l.Quality)
		}
		if i > 0 && layers[i-1].Quality == l.Quality {
			return nil, fmt.Errorf("track %s: two %v layers", spec.Name, l.Quality)
		}
	}
	return layers, nil
}

func newLayer(t *Track, spec LayerSpec, simulcast bool) (*Layer, error) {
	mtu := 0
	l := &Layer{t: t, spec: spec}
	if simulcast {
		l.rid, mtu = RID(spec.Quality), simulcastMTU
	}
	p, err := lkrtp.NewPacketizer(t.spec.Codec, mtu)
	if err != nil {
		return nil, err
	}
	l.packetizer = p
	l.enabled.Store(true)
	return l, nil
}

// Quality is the layer's quality (HIGH for a track without simulcast).
func (l *Layer) Quality() Quality { return l.spec.Quality }

// RID is the layer's RTP stream id ("" for a track without simulcast).
func (l *Layer) RID() string { return l.rid }

// Sending is false while dynacast pauses the layer.
func (l *Layer) Sending() bool { return l.enabled.Load() }

// WriteFrame packetizes one encoded frame of this layer and sends it,
// encrypted first when the track's spec has an Encryptor (an encryption
// error drops the frame and is returned). A layer paused by dynacast drops it (counted, no packetizing); while no
// transport is up it is dropped too, and a keyframe is asked for when media
// can flow again.
func (l *Layer) WriteFrame(frame []byte, pts time.Duration) error {
	t := l.t
	l.mu.Lock()
	defer l.mu.Unlock()
	if t.spec.Codec == lkrtp.CodecH264 {
		// Before the drops below: the parameter sets may come only in a
		// frame sent while the track is not flowing yet.
		frame = l.paramSets.Fill(frame)
	}
	if t.muted.Load() {
		t.stats.framesMuted.Add(1)
		return nil
	}
	if !l.enabled.Load() {
		l.stats.framesPaused.Add(1)
		return nil
	}
	if !t.flowing.Load() {
		l.stats.framesDropped.Add(1)
		t.stats.framesDropped.Add(1)
		return nil
	}
	if t.closed.Load() {
		return ErrClosed
	}
	var pkts []*rtp.Packet
	if enc := t.spec.Encryptor; enc != nil {
		encrypted, err := enc.EncryptFrame(frame, pts)
		if err != nil {
			l.stats.framesDropped.Add(1)
			t.stats.framesDropped.Add(1)
			return err
		}
		pkts = l.packetizer.PacketizeEncrypted(encrypted, frame, pts)
	} else {
		pkts = l.packetizer.Packetize(frame, pts)
	}
	ids := l.ids.Load()
	if l.acked.Load() {
		ids = nil
	}
	bytes := 0
	// The frame's packets leave in one batch (sendbatch.go).
	t.sess.batch.cork()
	defer t.sess.batch.uncork()
	for _, pkt := range pkts {
		if ids != nil {
			// The SFU learns a simulcast SSRC from these (the SDP only has RIDs).
			if ids.midID != 0 {
				_ = pkt.Header.SetExtension(ids.midID, []byte(ids.mid))
			}
			_ = pkt.Header.SetExtension(ids.ridID, []byte(l.rid))
		}
		// Errors are per binding (a peer connection going away); media is
		// best effort and recovery is the state machine's job.
		_ = l.local.WriteRTP(pkt)
		bytes += pkt.Header.MarshalSize() + len(pkt.Payload)
	}
	// Counted once per frame, not per packet: readers only want totals.
	l.stats.packetsSent.Add(uint64(len(pkts)))
	l.stats.bytesSent.Add(uint64(bytes))
	l.stats.framesSent.Add(1)
	t.stats.packetsSent.Add(uint64(len(pkts)))
	t.stats.bytesSent.Add(uint64(bytes))
	t.stats.framesSent.Add(1)
	return nil
}

// Stats returns the layer's counters now.
func (l *Layer) Stats() LayerStats {
	c := &l.stats
	return LayerStats{
		Quality: l.spec.Quality, RID: l.rid, Width: l.spec.Width, Height: l.spec.Height,
		Sending:    l.enabled.Load(),
		FramesSent: c.framesSent.Load(), FramesDropped: c.framesDropped.Load(), FramesPaused: c.framesPaused.Load(),
		PacketsSent: c.packetsSent.Load(), BytesSent: c.bytesSent.Load(),
		PLIs: c.plis.Load(), FIRs: c.firs.Load(), NACKs: c.nacks.Load(),
	}
}

// bind notes the layer's SSRC and the header extension ids negotiated on
// its sender. Called by the session goroutine once the offer is answered.
func (l *Layer) bind(sender *webrtc.RTPSender, mid string) {
	params := sender.GetParameters()
	for _, enc := range params.Encodings {
		if enc.RID == l.rid {
			if old := l.ssrc.Swap(uint32(enc.SSRC)); old != uint32(enc.SSRC) {
				l.acked.Store(false)
			}
		}
	}
	if l.rid == "" {
		return
	}
	ids := &streamIDs{mid: mid}
	for _, ext := range params.HeaderExtensions {
		switch ext.URI {
		case sdp.SDESMidURI:
			ids.midID = uint8(ext.ID)
		case sdp.SDESRTPStreamIDURI:
			ids.ridID = uint8(ext.ID)
		}
	}
	if ids.ridID == 0 {
		ids = nil // not negotiated: nothing to write
	}
	l.ids.Store(ids)
}

// requestKeyframe forwards a keyframe request for this layer upstream. PLIs
// and FIRs get at most one per keyframeMinSpacing: a subscriber storm must
// not turn into an encoder emitting nothing but keyframes. A forced request
// (media starting, unmute, a layer back) always goes and does not open that
// window: a subscriber whose down track the SFU binds just after media
// started missed that keyframe, and the SFU's PLI for it must be answered
// now, not after the SFU's next PLI half a second or more later.
func (l *Layer) requestKeyframe(force bool) {
	t := l.t
	if !t.spec.Codec.IsVideo() {
		return
	}
	if !force {
		now := time.Now().UnixNano()
		last := l.lastKey.Load()
		if now-last < int64(keyframeMinSpacing) || !l.lastKey.CompareAndSwap(last, now) {
			return
		}
	}
	s := t.sess
	if lh, ok := s.h.(LayerHandler); ok && t.Simulcast() {
		q := l.spec.Quality
		s.disp.post(func() { lh.OnLayerKeyframeRequest(t, q) })
		return
	}
	s.disp.post(func() { s.h.OnKeyframeRequest(t) })
}
