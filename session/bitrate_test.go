package session

import (
	"reflect"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
)

func TestGovernorPassesDropsAtOnceAndHoldsBackSmallMoves(t *testing.T) {
	var g bitrateGovernor
	t0 := time.Unix(1000, 0)
	steps := []struct {
		after time.Duration
		bps   int
		want  bool
		why   string
	}{
		{0, 2_000_000, true, "the first estimate always passes"},
		{100 * time.Millisecond, 2_080_000, false, "+4% within a second waits"},
		{200 * time.Millisecond, 2_400_000, true, "+20% passes at once"},
		{300 * time.Millisecond, 2_250_000, true, "-6.25% (congestion) passes at once"},
		{400 * time.Millisecond, 2_220_000, false, "-1.3% is noise"},
		{800 * time.Millisecond, 2_300_000, false, "+2.2% only 0.5 s after the last report"},
		{1400 * time.Millisecond, 2_300_000, true, "+2.2% passes a second after the last report"},
		{5 * time.Second, 2_310_000, false, "+0.4% is noise however long it lasts"},
		{5 * time.Second, 0, false, "zero is not an estimate"},
	}
	for _, s := range steps {
		if got := g.accept(s.bps, t0.Add(s.after)); got != s.want {
			t.Fatalf("accept(%d) at +%v = %v, want %v: %s", s.bps, s.after, got, s.want, s.why)
		}
	}
	g.reset()
	if !g.accept(2_310_000, t0.Add(6*time.Second)) {
		t.Fatal("after reset (a new peer connection) the first estimate must pass")
	}
}

func TestBitrateBoundsFillDefaultsAndClampStart(t *testing.T) {
	cases := []struct {
		cfg           Config
		start, lo, hi int
	}{
		{Config{}, 2048000, 1000, 8192000},
		{Config{StartBitrate: 500_000, MinBitrate: 600_000, MaxBitrate: 900_000}, 600_000, 600_000, 900_000},
		{Config{StartBitrate: 5_000_000, MaxBitrate: 1_000_000}, 1_000_000, 1000, 1_000_000},
		{Config{MinBitrate: 3_000_000, MaxBitrate: 1_000_000}, 3_000_000, 3_000_000, 3_000_000},
	}
	for _, c := range cases {
		s, lo, hi := bitrateBounds(c.cfg)
		if s != c.start || lo != c.lo || hi != c.hi {
			t.Errorf("bitrateBounds(%+v) = %d, %d, %d; want %d, %d, %d", c.cfg, s, lo, hi, c.start, c.lo, c.hi)
		}
	}
}

func TestVideoBitrateShare(t *testing.T) {
	cases := []struct {
		target, video, audio, lo, hi, want int
	}{
		{1_000_000, 1, 1, 1000, 8_000_000, 936_000},
		{1_000_000, 2, 0, 1000, 8_000_000, 500_000},
		{20_000_000, 1, 0, 1000, 8_000_000, 8_000_000},
		{100_000, 1, 2, 50_000, 8_000_000, 50_000},
		{100_000, 1, 2, 0, 0, 1},
		{1_000_000, 0, 1, 1000, 8_000_000, 0},
	}
	for _, c := range cases {
		if got := VideoBitrateShare(c.target, c.video, c.audio, 64000, c.lo, c.hi); got != c.want {
			t.Errorf("VideoBitrateShare(%d, %d video, %d audio, [%d, %d]) = %d, want %d", c.target, c.video, c.audio, c.lo, c.hi, got, c.want)
		}
	}
}

// Only streams with the transport-wide sequence number reach the estimator:
// an Opus stream, which LiveKit answers without the extension, is written
// past it.
func TestEstimatorBindsTWCCStreamsOnly(t *testing.T) {
	reg := &interceptor.Registry{}
	if err := addCongestionControl(Config{}, reg, &estimatorHook{}); err != nil {
		t.Fatal(err)
	}
	chain, err := reg.Build("pc")
	if err != nil {
		t.Fatal(err)
	}
	defer chain.Close() //nolint:errcheck
	var written int
	next := interceptor.RTPWriterFunc(func(*rtp.Header, []byte, interceptor.Attributes) (int, error) {
		written++
		return 0, nil
	})
	audio := chain.BindLocalStream(&interceptor.StreamInfo{SSRC: 1}, next)
	if reflect.ValueOf(audio).Pointer() != reflect.ValueOf(next).Pointer() {
		t.Fatal("a stream without the TWCC extension went through the estimator")
	}
	video := chain.BindLocalStream(&interceptor.StreamInfo{SSRC: 2,
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 3}}}, next)
	if reflect.ValueOf(video).Pointer() == reflect.ValueOf(next).Pointer() {
		t.Fatal("a stream with the TWCC extension was not given to the estimator")
	}
	h := &rtp.Header{SSRC: 2}
	_ = h.SetExtension(3, []byte{0, 1})
	if _, err := video.Write(h, []byte{1}, nil); err != nil || written != 1 {
		t.Fatalf("write through the estimator: %v, %d written", err, written)
	}
}
