package signallertest

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/signalling"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"
)

const gatherTimeout = 2 * time.Second

// answerer is a participant's publisher peer connection on the server
// side: it answers offers (ICE restarts too) with every candidate in the
// SDP, on loopback only, and discards the media it receives.
type answerer struct {
	t  testing.TB
	mu sync.Mutex // serializes offers, candidates and close
	pc *webrtc.PeerConnection
	// candidates that came before the first offer
	pending []webrtc.ICECandidateInit
	closed  bool
	// rtcpMuted drops every RTCP packet the answerer would send: a path
	// that still carries media up but nothing back.
	rtcpMuted atomic.Bool

	media sync.Mutex // guards the maps below, written by pion's track goroutines
	// packets counts RTP packets received per RID ("" without simulcast);
	// ssrcs is the SSRC each RID arrived with.
	packets map[string]int
	ssrcs   map[string]webrtc.SSRC

	dataMu   sync.Mutex // the data channels' callbacks run on pion's goroutines
	channels map[string]*webrtc.DataChannel
	dataIn   []*livekit.DataPacket // in arrival order; reliable ones once per sequence
	lastSeq  uint32                // highest reliable sequence received, as livekit-server keeps it
}

func newAnswerer(t testing.TB, onTrack func(*webrtc.TrackRemote)) *answerer {
	a := &answerer{t: t, packets: map[string]int{}, ssrcs: map[string]webrtc.SSRC{}}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Errorf("signallertest: codecs: %v", err)
		return a
	}
	// As livekit-server: simulcast layers are told apart by their RID.
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		t.Errorf("signallertest: header extensions: %v", err)
		return a
	}
	// As livekit-server: receiver reports and TWCC feedback while media
	// arrives, the RTCP a publisher watches to know its path is alive.
	// The gate comes first: the interceptors added after it write their
	// RTCP through it.
	reg := &interceptor.Registry{}
	reg.Add(rtcpGate{&a.rtcpMuted})
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		t.Errorf("signallertest: RTCP reports: %v", err)
		return a
	}
	if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
		t.Errorf("signallertest: TWCC: %v", err)
		return a
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Errorf("signallertest: peer connection: %v", err)
		return a
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		// pion's callback goroutine reads until the peer connection closes.
		if onTrack != nil {
			onTrack(tr)
			return
		}
		_, _ = io.Copy(io.Discard, trackReader{tr, a})
	})
	pc.OnDataChannel(a.onDataChannel)
	a.pc = pc
	return a
}

// onDataChannel keeps what the client sends, dropping a reliable packet
// whose sequence was seen, as livekit-server does.
func (a *answerer) onDataChannel(dc *webrtc.DataChannel) {
	a.dataMu.Lock()
	if a.channels == nil {
		a.channels = map[string]*webrtc.DataChannel{}
	}
	a.channels[dc.Label()] = dc
	a.dataMu.Unlock()
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		dp := &livekit.DataPacket{}
		if proto.Unmarshal(m.Data, dp) != nil {
			return
		}
		a.dataMu.Lock()
		defer a.dataMu.Unlock()
		if dc.Label() == "_reliable" && dp.GetSequence() > 0 {
			if dp.GetSequence() <= a.lastSeq {
				return
			}
			a.lastSeq = dp.GetSequence()
		}
		a.dataIn = append(a.dataIn, dp)
	})
}

func (a *answerer) data() ([]*livekit.DataPacket, uint32) {
	a.dataMu.Lock()
	defer a.dataMu.Unlock()
	return append([]*livekit.DataPacket(nil), a.dataIn...), a.lastSeq
}

func (a *answerer) sendData(dp *livekit.DataPacket, reliable bool) error {
	label := "_lossy"
	if reliable {
		label = "_reliable"
	}
	a.dataMu.Lock()
	dc := a.channels[label]
	a.dataMu.Unlock()
	if dc == nil {
		return fmt.Errorf("signallertest: no %s data channel from the client yet", label)
	}
	b, err := proto.Marshal(dp)
	if err != nil {
		return err
	}
	return dc.Send(b)
}

type trackReader struct {
	tr *webrtc.TrackRemote
	a  *answerer
}

func (r trackReader) Read(b []byte) (int, error) {
	n, _, err := r.tr.Read(b)
	if err == nil {
		r.a.media.Lock()
		r.a.packets[r.tr.RID()]++
		r.a.ssrcs[r.tr.RID()] = r.tr.SSRC()
		r.a.media.Unlock()
	}
	return n, err
}

// received returns the RTP packets received with that RID so far.
func (a *answerer) received(rid string) int {
	a.media.Lock()
	defer a.media.Unlock()
	return a.packets[rid]
}

// requestKeyframe sends a PLI for the stream with that RID; false if none
// has arrived yet.
func (a *answerer) requestKeyframe(rid string) bool {
	a.media.Lock()
	ssrc, ok := a.ssrcs[rid]
	a.media.Unlock()
	if !ok || a.pc == nil {
		return false
	}
	return a.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(ssrc)}}) == nil
}

// answer applies an offer and returns the answer, or nil when it failed
// (the test is failed then).
func (a *answerer) answer(offer *livekit.SessionDescription) *livekit.SessionDescription {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pc == nil || a.closed {
		return nil
	}
	sd, id, _ := signalling.FromProtoSessionDescription(offer)
	if err := a.pc.SetRemoteDescription(sd); err != nil {
		a.fail("applying the offer", err)
		return nil
	}
	for _, c := range a.pending {
		_ = a.pc.AddICECandidate(c)
	}
	a.pending = nil
	ans, err := a.pc.CreateAnswer(nil)
	if err != nil {
		a.fail("creating the answer", err)
		return nil
	}
	gathered := webrtc.GatheringCompletePromise(a.pc)
	if err := a.pc.SetLocalDescription(ans); err != nil {
		a.fail("setting the answer", err)
		return nil
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		a.t.Errorf("signallertest: ICE gathering did not complete within %s", gatherTimeout)
		return nil
	}
	return signalling.ToProtoSessionDescription(*a.pc.LocalDescription(), id, nil)
}

// fail fails the test for an answer that could not be made, unless pion
// closed the peer connection meanwhile: the participant is gone (its
// transport closed under the offer), which is not the fake's failure.
func (a *answerer) fail(what string, err error) {
	if errors.Is(err, webrtc.ErrConnectionClosed) {
		return
	}
	a.t.Errorf("signallertest: %s: %v", what, err)
}

// addCandidate adds a trickled publisher candidate (subscriber ones are
// not ours: the fake never offers a subscriber peer connection).
func (a *answerer) addCandidate(t *livekit.TrickleRequest) {
	if t.GetTarget() != livekit.SignalTarget_PUBLISHER {
		return
	}
	c, err := signalling.FromProtoTrickle(t)
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pc == nil || a.closed {
		return
	}
	if a.pc.RemoteDescription() == nil {
		a.pending = append(a.pending, c)
		return
	}
	// Candidates of network types the fake does not gather (TCP) are ignored by pion.
	_ = a.pc.AddICECandidate(c)
}

func (a *answerer) close() {
	a.mu.Lock()
	if a.closed || a.pc == nil {
		a.closed = true
		a.mu.Unlock()
		return
	}
	a.closed = true
	a.mu.Unlock()
	_ = a.pc.Close()
}

// rtcpGate is an interceptor factory whose interceptors drop outgoing RTCP
// while muted is set.
type rtcpGate struct{ muted *atomic.Bool }

func (g rtcpGate) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &rtcpGateInterceptor{muted: g.muted}, nil
}

type rtcpGateInterceptor struct {
	interceptor.NoOp
	muted *atomic.Bool
}

func (i *rtcpGateInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, attrs interceptor.Attributes) (int, error) {
		if i.muted.Load() {
			return 0, nil
		}
		return w.Write(pkts, attrs)
	})
}
