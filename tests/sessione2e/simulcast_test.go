package sessione2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/rtp"
	"github.com/golivekitsink/golivekitsink/session"
	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
)

// simulcastLayers are the three layers the tests publish, as LiveKit's
// default presets for a 720p camera.
var simulcastLayers = []session.LayerSpec{
	{Quality: session.QualityLow, Width: 320, Height: 180, MaxBitrate: 150_000},
	{Quality: session.QualityMedium, Width: 640, Height: 360, MaxBitrate: 500_000},
	{Quality: session.QualityHigh, Width: 1280, Height: 720, MaxBitrate: 1_700_000},
}

// layerFrames are real VP8 frames of one layer's size, made once by
// GStreamer. Keyframes are 4 s apart, so a keyframe seen soon after a
// request is the answer to it (layerPump jumps to the next keyframe).
type layerFrames struct {
	frames [][]byte
	keys   []int // indices of keyframes
}

var (
	layerFilesOnce sync.Once
	layerFiles     map[session.Quality]*layerFrames
	layerFilesErr  error
)

func simulcastFrames(t testing.TB) map[session.Quality]*layerFrames {
	layerFilesOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glk-layers")
		if err != nil {
			layerFilesErr = err
			return
		}
		defer os.RemoveAll(dir)
		layerFiles = map[session.Quality]*layerFrames{}
		for _, l := range simulcastLayers {
			path := filepath.Join(dir, session.RID(l.Quality)+".ivf")
			out, err := exec.Command("gst-launch-1.0", "-q", "videotestsrc", "pattern=ball", "num-buffers=240", "!",
				fmt.Sprintf("video/x-raw,width=%d,height=%d,framerate=30/1", l.Width, l.Height), "!",
				"vp8enc", "deadline=1", "keyframe-max-dist=120", fmt.Sprintf("target-bitrate=%d", l.MaxBitrate), "!",
				"avmux_ivf", "!", "filesink", "location="+path).CombinedOutput()
			if err != nil {
				layerFilesErr = fmt.Errorf("encoding %s: %v: %s", path, err, out)
				return
			}
			lf, err := readIVF(path)
			if err != nil {
				layerFilesErr = err
				return
			}
			layerFiles[l.Quality] = lf
		}
	})
	if layerFilesErr != nil {
		t.Fatalf("making simulcast test frames: %v", layerFilesErr)
	}
	return layerFiles
}

func readIVF(path string) (*layerFrames, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, err
	}
	lf := &layerFrames{}
	for {
		fr, _, err := r.ParseNextFrame()
		if err != nil {
			break
		}
		if harness.VP8Keyframe(fr) {
			lf.keys = append(lf.keys, len(lf.frames))
		}
		lf.frames = append(lf.frames, fr)
	}
	if len(lf.keys) == 0 {
		return nil, fmt.Errorf("%s: no keyframe", path)
	}
	return lf, nil
}

// layerPump writes every layer of a simulcast track at 30 fps, as encoders
// would: it answers a keyframe request for a layer with that layer's next
// keyframe, and notes when keyframes went out.
type layerPump struct {
	mu       sync.Mutex
	want     map[session.Quality]bool // keyframe requested
	keySent  map[session.Quality][]time.Time
	requests map[session.Quality][]time.Time
	lastSent map[session.Quality]time.Time // the layer's sent counter last moved then
}

func startLayerPump(t *testing.T, tr *session.Track) *layerPump {
	files := simulcastFrames(t)
	p := &layerPump{want: map[session.Quality]bool{}, keySent: map[session.Quality][]time.Time{},
		requests: map[session.Quality][]time.Time{}, lastSent: map[session.Quality]time.Time{}}
	stop, done := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second / 30)
		defer tick.Stop()
		next := map[session.Quality]int{}
		start := time.Now()
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				for _, l := range tr.Layers() {
					q := l.Quality()
					lf := files[q]
					p.mu.Lock()
					if p.want[q] {
						p.want[q] = false
						next[q] = nextKey(lf, next[q])
					}
					p.mu.Unlock()
					fr := lf.frames[next[q]%len(lf.frames)]
					next[q] = (next[q] + 1) % len(lf.frames)
					before := l.Stats().FramesSent
					_ = l.WriteFrame(fr, now.Sub(start))
					if l.Stats().FramesSent != before {
						p.mu.Lock()
						p.lastSent[q] = time.Now()
						if harness.VP8Keyframe(fr) {
							p.keySent[q] = append(p.keySent[q], time.Now())
						}
						p.mu.Unlock()
					}
				}
			}
		}
	}()
	return p
}

func nextKey(lf *layerFrames, from int) int {
	for _, k := range lf.keys {
		if k >= from {
			return k
		}
	}
	return lf.keys[0]
}

func (p *layerPump) keyframe(q session.Quality) {
	p.mu.Lock()
	p.want[q] = true
	p.requests[q] = append(p.requests[q], time.Now())
	p.mu.Unlock()
}

// firstKeySince is when the first keyframe of q after at went out (zero if none yet).
func (p *layerPump) firstKeySince(q session.Quality, at time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range p.keySent[q] {
		if k.After(at) {
			return k
		}
	}
	return time.Time{}
}

// simEvents is events that is also a session.LayerHandler.
type simEvents struct {
	*events
	pump    *layerPump
	changes []layerChange
}

type layerChange struct {
	at      time.Time
	enabled map[session.Quality]bool
}

func (e *simEvents) OnLayerKeyframeRequest(_ *session.Track, q session.Quality) {
	e.mu.Lock()
	p := e.pump
	e.mu.Unlock()
	if p != nil {
		p.keyframe(q)
	}
}

func (e *simEvents) OnLayersChanged(_ *session.Track, enabled map[session.Quality]bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.t.Logf("%s layers now %v", time.Now().Format("15:04:05.000"), enabled)
	e.changes = append(e.changes, layerChange{time.Now(), enabled})
	e.bump()
}

// waitLayer waits for a change after index from that sets q to on.
func (e *simEvents) waitLayer(from int, q session.Quality, on bool, timeout time.Duration) (layerChange, int) {
	e.t.Helper()
	deadline := time.After(timeout)
	for {
		e.mu.Lock()
		for i := from; i < len(e.changes); i++ {
			if e.changes[i].enabled[q] == on {
				c := e.changes[i]
				e.mu.Unlock()
				return c, i + 1
			}
		}
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			e.t.Fatalf("layer %v did not turn %v within %s", q, on, timeout)
		}
	}
}

// sentStopsAt waits until the layer's sent counter held still for quiet,
// and returns when it last moved.
func (p *layerPump) sentStopsAt(q session.Quality, quiet, timeout time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		last := p.lastSent[q]
		p.mu.Unlock()
		if time.Since(last) >= quiet {
			return last, true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}, false
}

type simWorld struct {
	srv  *harness.Server
	subs []*harness.Subscriber
	ev   *simEvents
	s    *session.Session
	tr   *session.Track
	pump *layerPump
	room string
}

// publishSimulcast starts a server, subscribers and a session publishing
// the 3-layer track, and waits until every subscriber receives video.
func publishSimulcast(t *testing.T, version string, subscribers int) *simWorld {
	t.Helper()
	w := &simWorld{room: "room-" + strings.ReplaceAll(t.Name(), "/", "-")}
	w.srv = harness.StartServer(t, harness.ServerOptions{Version: version})
	for range subscribers {
		w.subs = append(w.subs, harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, ""))
	}
	w.ev = &simEvents{events: newEvents(t)}
	s, err := session.New(session.Config{URL: w.srv.URL(), APIKey: w.srv.APIKey(), APISecret: w.srv.Secret(),
		Room: w.room, Identity: "pub", Logger: testLogger{t}}, w.ev)
	if err != nil {
		t.Fatal(err)
	}
	w.s = s
	s.Start()
	t.Cleanup(s.Close)
	w.tr, err = s.AddTrack(session.TrackSpec{Name: "video_0", Codec: rtp.CodecVP8, Layers: simulcastLayers})
	if err != nil {
		t.Fatal(err)
	}
	w.pump = startLayerPump(t, w.tr)
	w.ev.mu.Lock()
	w.ev.pump = w.pump
	w.ev.mu.Unlock()
	w.ev.waitState(0, 15*time.Second, isState(session.StateConnected))
	for _, sub := range w.subs {
		if err := sub.WaitForPackets("video", 60, 15*time.Second); err != nil {
			t.Fatalf("%s: %v (layers %+v)", sub.Identity, err, w.tr.LayerStats())
		}
	}
	return w
}

// serverLayers is what ListParticipants says about the publisher's one track.
func (w *simWorld) serverLayers(t *testing.T) (bool, string) {
	t.Helper()
	rs := lksdk.NewRoomServiceClient(w.srv.HTTPURL(), w.srv.APIKey(), w.srv.Secret())
	res, err := rs.ListParticipants(context.Background(), &livekit.ListParticipantsRequest{Room: w.room})
	if err != nil {
		t.Fatal(err)
	}
	var info *livekit.TrackInfo
	for _, p := range res.GetParticipants() {
		if p.GetIdentity() == "pub" && len(p.GetTracks()) == 1 {
			info = p.GetTracks()[0]
		}
	}
	if info == nil {
		t.Fatalf("ListParticipants: no publisher with one track: %v", res.GetParticipants())
	}
	layers := info.GetLayers()
	if len(layers) == 0 && len(info.GetCodecs()) > 0 {
		layers = info.GetCodecs()[0].GetLayers()
	}
	var got []string
	for _, l := range layers {
		got = append(got, fmt.Sprintf("%s %dx%d", l.GetQuality(), l.GetWidth(), l.GetHeight()))
	}
	return info.GetSimulcast(), strings.Join(got, ", ")
}

const wantServerLayers = "LOW 320x180, MEDIUM 640x360, HIGH 1280x720"

// A 3-layer VP8 simulcast track against a real server and two real
// subscribers: the server sees the layers, a LOW subscriber gets the q
// layer and a HIGH one the f layer; with everyone on LOW the f layer
// pauses, and it comes back with a keyframe when HIGH is asked again.
func TestSimulcastLayersAndDynacast(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publishSimulcast(t, v, 2)
		low, high, ev, tr, pump := w.subs[0], w.subs[1], w.ev, w.tr, w.pump

		// The server's view: one simulcast track with the three layers.
		simulcast, got := w.serverLayers(t)
		t.Logf("server: simulcast=%v layers %s", simulcast, got)
		if !simulcast || got != wantServerLayers {
			t.Fatalf("server track: simulcast=%v layers %s, want %s", simulcast, got, wantServerLayers)
		}

		// Each subscriber gets the layer it asks for.
		low.MustRequestQuality(t, "pub", livekit.VideoQuality_LOW)
		high.MustRequestQuality(t, "pub", livekit.VideoQuality_HIGH)
		low.MustSeeQuality(t, "pub", livekit.VideoQuality_LOW, 320, 180, 15*time.Second)
		high.MustSeeQuality(t, "pub", livekit.VideoQuality_HIGH, 1280, 720, 15*time.Second)

		// Everyone on LOW: the SFU pauses h and f (after its
		// dynacast_pause_delay, 5 s by default), and f stops being sent.
		ev.mu.Lock()
		from := len(ev.changes)
		ev.mu.Unlock()
		asked := time.Now()
		high.MustRequestQuality(t, "pub", livekit.VideoQuality_LOW)
		paused, next := ev.waitLayer(from, session.QualityHigh, false, 15*time.Second)
		f := tr.Layer(session.QualityHigh)
		stoppedAt, ok := pump.sentStopsAt(session.QualityHigh, time.Second, 5*time.Second)
		if !ok {
			t.Fatalf("f layer still sending %s after the SFU paused it: %+v", time.Since(paused.at), f.Stats())
		}
		// paused.at is when the handler heard of it, just after the session
		// turned the layer off: the last frame sent comes a little before.
		t.Logf("f layer paused: SubscribedQualityUpdate handled %s after the last subscriber asked for LOW; last f frame sent %s after the request (%s relative to the handler call)",
			paused.at.Sub(asked).Round(time.Millisecond), stoppedAt.Sub(asked).Round(time.Millisecond), stoppedAt.Sub(paused.at).Round(time.Millisecond))
		if d := stoppedAt.Sub(paused.at); d > 2*time.Second {
			t.Fatalf("f layer sent for %s after the SFU paused it, want <= 2 s", d)
		}
		// The SFU itself waits dynacast_pause_delay (5 s by default) before
		// pausing a layer (docs/protocol.md, "Simulcast and dynacast").
		if d := stoppedAt.Sub(asked); d > 5*time.Second+2*time.Second {
			t.Fatalf("f layer sent for %s after every subscriber asked for LOW, want <= the SFU's 5 s + 2 s", d)
		}
		if st := f.Stats(); st.Sending || st.FramesPaused == 0 {
			t.Fatalf("paused f layer stats %+v", st)
		}
		if !tr.Layer(session.QualityLow).Sending() {
			t.Fatal("the q layer, which subscribers watch, was paused")
		}

		// HIGH again: f comes back with a keyframe within 1 s.
		asked = time.Now()
		high.MustRequestQuality(t, "pub", livekit.VideoQuality_HIGH)
		resumed, _ := ev.waitLayer(next, session.QualityHigh, true, 10*time.Second)
		var key time.Time
		for wait := time.Now().Add(3 * time.Second); key.IsZero() && time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
			key = pump.firstKeySince(session.QualityHigh, asked)
		}
		if key.IsZero() {
			t.Fatalf("no f keyframe sent within 3 s of the HIGH request (layers resumed %s after it)", resumed.at.Sub(asked))
		}
		t.Logf("f layer back: SubscribedQualityUpdate %s after the HIGH request, first f keyframe sent %s after it",
			resumed.at.Sub(asked).Round(time.Millisecond), key.Sub(asked).Round(time.Millisecond))
		if d := key.Sub(asked); d > time.Second {
			t.Fatalf("f keyframe %s after the HIGH request, want <= 1 s", d)
		}
		high.MustSeeQuality(t, "pub", livekit.VideoQuality_HIGH, 1280, 720, 10*time.Second)
	})
}

// A simulcast track keeps every layer flowing across a resume, and is
// published again with its three layers after a full reconnect (node
// failure: the server forgets the participant).
func TestSimulcastSurvivesResumeAndFullReconnect(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publishSimulcast(t, v, 1)
		sub := w.subs[0]
		sub.MustSeeQuality(t, "pub", livekit.VideoQuality_HIGH, 1280, 720, 15*time.Second)
		first, _ := w.ev.waitState(0, time.Second, isState(session.StateConnected))

		n := w.ev.count()
		at := time.Now()
		if err := w.s.Simulate("resume"); err != nil {
			t.Fatal(err)
		}
		w.ev.waitState(n, 5*time.Second, isState(session.StateResuming))
		back, _ := w.ev.waitState(n, 10*time.Second, isState(session.StateConnected))
		if back.ParticipantSID != first.ParticipantSID {
			t.Fatalf("resume changed the participant: %s -> %s", first.ParticipantSID, back.ParticipantSID)
		}
		time.Sleep(3 * time.Second)
		gap := sub.MaxGap("video", at, time.Now())
		t.Logf("media gap across resume: %s", gap)
		if gap > time.Second {
			t.Fatalf("media gap %s across a resume, want <= 1 s", gap)
		}
		for _, st := range w.tr.LayerStats() {
			if !st.Sending {
				t.Fatalf("layer %s paused after the resume: %+v", st.RID, st)
			}
		}

		n = w.ev.count()
		at = time.Now()
		if err := w.s.Simulate("node-failure"); err != nil {
			t.Fatal(err)
		}
		back, _ = w.ev.waitState(n, 15*time.Second, isState(session.StateConnected))
		if back.ParticipantSID == first.ParticipantSID {
			t.Fatalf("node failure kept participant %s", first.ParticipantSID)
		}
		if err := sub.WaitForPackets("video", sub.PacketCount("video")+60, 10*time.Second); err != nil {
			t.Fatalf("media did not come back after the full reconnect: %v", err)
		}
		simulcast, got := w.serverLayers(t)
		if !simulcast || got != wantServerLayers {
			t.Fatalf("republished track: simulcast=%v layers %s, want %s", simulcast, got, wantServerLayers)
		}
		// The new track is a new subscription: ask for HIGH on it again.
		sub.MustSeeQuality(t, "pub", livekit.VideoQuality_HIGH, 1280, 720, 15*time.Second)
		sub.MustSeeQuality(t, "pub", livekit.VideoQuality_LOW, 320, 180, 15*time.Second)
		t.Logf("full reconnect: back with 3 layers %s after the node failure", time.Since(at).Round(time.Millisecond))
	})
}

// With no subscriber at all the SFU pauses every layer (10 s after the
// track is published), so nothing is sent; a subscriber that joins gets
// the layers back, each with a keyframe, and sees video within a few
// hundred milliseconds (docs/protocol.md, "Simulcast and dynacast").
func TestDynacastWithoutSubscribers(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := publishSimulcast(t, v, 0)
		published := time.Now()
		paused, next := w.ev.waitLayer(0, session.QualityLow, false, 20*time.Second)
		t.Logf("every layer paused %s after connecting: %v", paused.at.Sub(published).Round(time.Millisecond), paused.enabled)
		for _, st := range w.tr.LayerStats() {
			if st.Sending {
				t.Fatalf("layer %s still sending with no subscriber", st.RID)
			}
		}
		joined := time.Now()
		sub := harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
		resumed, _ := w.ev.waitLayer(next, session.QualityLow, true, 10*time.Second)
		if err := sub.WaitForPackets("video", 30, 10*time.Second); err != nil {
			t.Fatal(err)
		}
		key := w.pump.firstKeySince(session.QualityLow, resumed.at.Add(-time.Millisecond))
		first := sub.FirstPacketAt("video")
		t.Logf("subscriber joined: layers back %s after the join began, first q keyframe sent %s after, first packet at the subscriber %s after",
			resumed.at.Sub(joined).Round(time.Millisecond), key.Sub(joined).Round(time.Millisecond), first.Sub(joined).Round(time.Millisecond))
		if key.IsZero() || key.Sub(resumed.at) > time.Second {
			t.Fatalf("no q keyframe within 1 s of the layers coming back (keyframe at %v)", key)
		}
	})
}
