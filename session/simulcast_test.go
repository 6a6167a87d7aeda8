package session

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
	"github.com/livekit/protocol/livekit"
)

// layerWatcher is a watcher that is also a LayerHandler.
type layerWatcher struct {
	*watcher
	keyframes []Quality
	layers    []map[Quality]bool
}

func (w *layerWatcher) OnLayerKeyframeRequest(_ *Track, q Quality) {
	w.update(func() { w.keyframes = append(w.keyframes, q) })
}

func (w *layerWatcher) OnLayersChanged(_ *Track, enabled map[Quality]bool) {
	w.update(func() { w.layers = append(w.layers, enabled) })
}

var testLayers = []LayerSpec{
	{Quality: QualityHigh, Width: 1280, Height: 720, MaxBitrate: 1_700_000},
	{Quality: QualityLow, Width: 320, Height: 180, MaxBitrate: 150_000},
	{Quality: QualityMedium, Width: 640, Height: 360, MaxBitrate: 500_000},
}

// simulcastSession connects a session to srv and publishes a 3-layer VP8
// track whose layers are written at 30 fps until the test ends.
func simulcastSession(t *testing.T, srv *signallertest.Server) (*Session, *layerWatcher, *Track) {
	t.Helper()
	w := &layerWatcher{watcher: newWatcher()}
	s, err := New(Config{URL: srv.URL(), APIKey: "key", APISecret: "secret-of-the-test", Room: "room", Identity: "pub",
		Logger: newBufferedLogger(t)}, w)
	if err != nil {
		t.Fatal(err)
	}
	s.backoff = fastBackoff
	s.Start()
	t.Cleanup(s.Close)
	tr, err := s.AddTrack(TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Layers: testLayers})
	if err != nil {
		t.Fatal(err)
	}
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		frame := make([]byte, 1500) // two packets per frame
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for _, l := range tr.Layers() {
				_ = l.WriteFrame(frame, time.Duration(i)*time.Second/30)
			}
		}
	}()
	return s, w, tr
}

// waitPackets waits until conn's peer connection received more than n
// packets with each rid.
func waitPackets(t *testing.T, conn *signallertest.Conn, n int, rids ...string) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for _, rid := range rids {
		for conn.MediaPackets(rid) <= n {
			if time.Now().After(deadline) {
				t.Fatalf("layer %s: %d packets received, want more than %d", rid, conn.MediaPackets(rid), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func TestSimulcastTrackAnnouncesAndSendsEveryLayer(t *testing.T) {
	t.Parallel()
	srv := newFake(t, signallertest.Options{})
	_, w, tr := simulcastSession(t, srv)
	w.waitState(t, 0, StateConnected)
	conn := srv.WaitConnects(1, waitLong)[0].Conn

	req := conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetAddTrack() != nil }).GetAddTrack()
	if req.GetWidth() != 1280 || req.GetHeight() != 720 {
		t.Fatalf("AddTrackRequest size %dx%d, want the high layer's 1280x720", req.GetWidth(), req.GetHeight())
	}
	want := []string{"LOW q 320x180 150000", "MEDIUM h 640x360 500000", "HIGH f 1280x720 1700000"}
	for _, layers := range [][]*livekit.VideoLayer{req.GetLayers(), req.GetSimulcastCodecs()[0].GetLayers()} {
		var got []string
		for _, l := range layers {
			got = append(got, fmt.Sprintf("%s %s %dx%d %d", l.GetQuality(), l.GetRid(), l.GetWidth(), l.GetHeight(), l.GetBitrate()))
		}
		if strings.Join(got, ", ") != strings.Join(want, ", ") {
			t.Fatalf("layers %q, want %q", got, want)
		}
	}
	offer := conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool {
		return strings.Contains(r.GetOffer().GetSdp(), "a=simulcast")
	}).GetOffer().GetSdp()
	for _, line := range []string{"a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;f",
		"urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", "urn:ietf:params:rtp-hdrext:sdes:mid"} {
		if !strings.Contains(offer, line) {
			t.Fatalf("offer has no %q:\n%s", line, offer)
		}
	}
	// The answering peer connection demultiplexes the layers by their RID
	// header extension, as livekit-server does.
	waitPackets(t, conn, 10, "q", "h", "f")

	// A PLI for one layer asks for a keyframe of that layer only.
	w.mu.Lock()
	w.keyframes = nil
	w.mu.Unlock()
	time.Sleep(keyframeMinSpacing) // past the spacing of the requests made when media started
	if !conn.RequestKeyframe("h") {
		t.Fatal("no h stream to send a PLI for")
	}
	w.waitFor(t, "keyframe request for MEDIUM", func() bool { return len(w.keyframes) > 0 })
	w.mu.Lock()
	got := append([]Quality(nil), w.keyframes...)
	w.mu.Unlock()
	if len(got) != 1 || got[0] != QualityMedium {
		t.Fatalf("keyframe requests %v after a PLI on h, want [MEDIUM]", got)
	}
	if st := tr.Layer(QualityMedium).Stats(); st.PLIs != 1 {
		t.Fatalf("h layer counted %d PLIs, want 1", st.PLIs)
	}
}

func qualityUpdate(sid string, enabled map[Quality]bool) *livekit.SignalResponse {
	var qs []*livekit.SubscribedQuality
	for q := QualityLow; q <= QualityHigh; q++ {
		qs = append(qs, &livekit.SubscribedQuality{Quality: q, Enabled: enabled[q]})
	}
	return &livekit.SignalResponse{Message: &livekit.SignalResponse_SubscribedQualityUpdate{SubscribedQualityUpdate: &livekit.SubscribedQualityUpdate{
		TrackSid: sid, SubscribedQualities: qs, SubscribedCodecs: []*livekit.SubscribedCodec{{Codec: "vp8", Qualities: qs}},
	}}}
}

// waitLayers waits for an OnLayersChanged call equal to want after the
// first from calls.
func (w *layerWatcher) waitLayers(t *testing.T, from int, want map[Quality]bool) int {
	t.Helper()
	next := 0
	w.waitFor(t, "layers "+layerText(want), func() bool {
		for i := from; i < len(w.layers); i++ {
			if maps.Equal(w.layers[i], want) {
				next = i + 1
				return true
			}
		}
		return false
	})
	return next
}

func layerText(m map[Quality]bool) string {
	var out []string
	for q := QualityLow; q <= QualityHigh; q++ {
		if m[q] {
			out = append(out, q.String())
		}
	}
	return "[" + strings.Join(out, " ") + "]"
}

// sentHoldsStill waits until the layer's sent counter holds still for 200 ms.
func sentHoldsStill(t *testing.T, l *Layer) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for {
		before := l.Stats().FramesSent
		time.Sleep(200 * time.Millisecond)
		if l.Stats().FramesSent == before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("layer %s still sending", l.RID())
		}
	}
}

func TestDynacastPausesUnwantedLayersAndResumesWithAKeyframe(t *testing.T) {
	t.Parallel()
	srv := newFake(t, signallertest.Options{})
	_, w, tr := simulcastSession(t, srv)
	w.waitState(t, 0, StateConnected)
	conn := srv.WaitConnects(1, waitLong)[0].Conn
	waitPackets(t, conn, 10, "q", "h", "f")

	lowOnly := map[Quality]bool{QualityLow: true, QualityMedium: false, QualityHigh: false}
	if err := conn.Send(qualityUpdate(tr.SID(), lowOnly)); err != nil {
		t.Fatal(err)
	}
	next := w.waitLayers(t, 0, lowOnly)
	high := tr.Layer(QualityHigh)
	sentHoldsStill(t, high)
	if st := high.Stats(); st.Sending || st.FramesPaused == 0 {
		t.Fatalf("paused high layer: %+v", st)
	}
	fPackets, qPackets := conn.MediaPackets("f"), conn.MediaPackets("q")
	time.Sleep(200 * time.Millisecond)
	if conn.MediaPackets("f") != fPackets || conn.MediaPackets("q") <= qPackets {
		t.Fatalf("after pausing f: f %d → %d packets, q %d → %d", fPackets, conn.MediaPackets("f"), qPackets, conn.MediaPackets("q"))
	}

	w.mu.Lock()
	w.keyframes = nil
	w.mu.Unlock()
	all := map[Quality]bool{QualityLow: true, QualityMedium: true, QualityHigh: true}
	if err := conn.Send(qualityUpdate(tr.SID(), all)); err != nil {
		t.Fatal(err)
	}
	w.waitLayers(t, next, all)
	w.waitFor(t, "keyframe requests for the resumed layers", func() bool {
		return len(w.keyframes) == 2 && !slices.Contains(w.keyframes, QualityLow)
	})
	waitPackets(t, conn, fPackets+10, "f")

	// An update for another track changes nothing here.
	n := len(w.layers)
	if err := conn.Send(qualityUpdate("TR_other", lowOnly)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if !high.Sending() || len(w.layers) != n {
		t.Fatal("an update for another track paused this one")
	}
}

// A full reconnect publishes the simulcast track again with every layer
// (the new participant's dynacast starts over); a resume keeps sending
// every layer to the same participant.
func TestSimulcastSurvivesResumeAndFullReconnect(t *testing.T) {
	t.Parallel()
	srv := newFake(t, signallertest.Options{})
	_, w, tr := simulcastSession(t, srv)
	first, _ := w.waitState(t, 0, StateConnected)
	conn := srv.WaitConnects(1, waitLong)[0].Conn
	waitPackets(t, conn, 10, "q", "h", "f")
	lowOnly := map[Quality]bool{QualityLow: true, QualityMedium: false, QualityHigh: false}
	if err := conn.Send(qualityUpdate(tr.SID(), lowOnly)); err != nil {
		t.Fatal(err)
	}
	next := w.waitLayers(t, 0, lowOnly)

	from := w.count()
	if err := conn.SendLeave(&livekit.LeaveRequest{Action: livekit.LeaveRequest_RESUME}); err != nil {
		t.Fatal(err)
	}
	resumed := srv.WaitConnects(2, waitLong)[1]
	if !resumed.Reconnect {
		t.Fatal("Leave RESUME did not resume")
	}
	w.waitState(t, from, StateConnected)
	if tr.Layer(QualityHigh).Sending() {
		t.Fatal("a resume re-enabled a layer the SFU still has paused")
	}
	waitPackets(t, conn, conn.MediaPackets("q")+10, "q")

	from = w.count()
	if err := resumed.Conn.SendLeave(&livekit.LeaveRequest{Action: livekit.LeaveRequest_RECONNECT}); err != nil {
		t.Fatal(err)
	}
	rejoined := srv.WaitConnects(3, waitLong)[2]
	back, _ := w.waitState(t, from, StateConnected)
	if rejoined.Reconnect || back.ParticipantSID == first.ParticipantSID {
		t.Fatalf("Leave RECONNECT: reconnect=%v, participant %s → %s", rejoined.Reconnect, first.ParticipantSID, back.ParticipantSID)
	}
	w.waitLayers(t, next, map[Quality]bool{QualityLow: true, QualityMedium: true, QualityHigh: true})
	req := rejoined.Conn.WaitRequest(waitLong, func(r *livekit.SignalRequest) bool { return r.GetAddTrack() != nil }).GetAddTrack()
	if len(req.GetLayers()) != 3 {
		t.Fatalf("republished with %d layers, want 3", len(req.GetLayers()))
	}
	waitPackets(t, rejoined.Conn, 10, "q", "h", "f")
}

func TestLayerSpecsAreChecked(t *testing.T) {
	s, err := New(Config{URL: "ws://127.0.0.1:1", APIKey: "k", APISecret: "s", Room: "r", Identity: "i"}, newWatcher())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, spec := range map[string]TrackSpec{
		"audio":      {Name: "a", Codec: rtp.CodecOpus, Layers: testLayers[:2]},
		"duplicate":  {Name: "v", Codec: rtp.CodecVP8, Layers: []LayerSpec{testLayers[0], testLayers[0]}},
		"no quality": {Name: "v", Codec: rtp.CodecVP8, Layers: []LayerSpec{testLayers[0], {Quality: livekit.VideoQuality_OFF}}},
	} {
		if _, err := newTrack(s, spec); err == nil {
			t.Errorf("%s: accepted %+v", name, spec.Layers)
		}
	}
	tr, err := newTrack(s, TrackSpec{Name: "v", Codec: rtp.CodecH264, Layers: testLayers})
	if err != nil {
		t.Fatal(err)
	}
	var rids []string
	for _, l := range tr.Layers() {
		rids = append(rids, l.RID())
	}
	if strings.Join(rids, "") != "qhf" || tr.Layer(QualityHigh) != tr.Layers()[2] || !tr.Simulcast() {
		t.Fatalf("layers %v, want q h f", rids)
	}
	single, err := newTrack(s, TrackSpec{Name: "v", Codec: rtp.CodecH264, Width: 640, Height: 480})
	if err != nil || single.Simulcast() || single.Layer(QualityHigh).RID() != "" {
		t.Fatalf("a track without layers: simulcast=%v err=%v", single.Simulcast(), err)
	}
	one, err := newTrack(s, TrackSpec{Name: "v", Codec: rtp.CodecH264, Layers: testLayers[1:2]})
	if err != nil || one.Simulcast() || one.Layer(QualityHigh) == nil || one.Spec().Width != 320 {
		t.Fatalf("a track with one layer: simulcast=%v size %dx%d err=%v", one.Simulcast(), one.Spec().Width, one.Spec().Height, err)
	}
}
