package faults

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// A thin uplink: the publisher's UDP is policed to 600 kbit/s while the
// encoder the element plugged runs at 2 Mbit/s or more. The estimator
// (pion's GCC on the SFU's TWCC feedback) must bring the encoder below the
// limit within seconds, and media must keep flowing without a recovery.
func TestPluggedEncoderFollowsAThinUplink(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		encoderFollowsAThinUplink(t, newWorld(t, v, worldOptions{netns: true, rawVideo: true, elemProps: "start-bitrate=2000000"}))
	})
}

// encoderFollowsAThinUplink is the thin-uplink check for the encoder that
// golivekitsink sets on video_0 (plugged or, with upstream-bitrate-control,
// the application's).
func encoderFollowsAThinUplink(t *testing.T, w *world) {
	w.waitPublishing()
	before := w.bitrates()
	if len(before) == 0 {
		t.Fatalf("no golivekitsink-bitrate message on a clean link: the estimator never reported")
	}
	if last := before[len(before)-1]; last.encoder < 1_500_000 {
		t.Fatalf("encoder at %d bit/s before the limit: the test needs it well above 600 kbit/s", last.encoder)
	}
	n := w.messageCount()
	cut := time.Now()
	w.tp.LimitUDP(t, 600)

	var low bitrateMsg
	var lowAt time.Time // when a poll (every 100 ms) first saw it
	deadline := time.Now().Add(20 * time.Second)
	for lowAt.IsZero() && time.Now().Before(deadline) {
		for _, m := range w.bitrates()[len(before):] {
			if m.encoder > 0 && m.encoder <= 600_000 {
				low, lowAt = m, time.Now()
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lowAt.IsZero() {
		t.Fatalf("the encoder never went below the 600 kbit/s limit within 20s; bitrate messages:\n%s",
			strings.Join(w.pipe.ElementMessages("golivekitsink-bitrate"), "\n"))
	}
	if dropped := w.tp.DroppedPackets(t); dropped == 0 {
		t.Fatalf("the policer dropped nothing: the uplink was never thin")
	}
	// Media keeps coming through the thin link at the lower rate.
	if err := w.sub.WaitForPackets("video", w.sub.PacketCount("video")+60, 10*time.Second); err != nil {
		t.Fatalf("video stopped on the thin link: %v", err)
	}
	for _, m := range w.pipe.ElementMessages("golivekitsink-connection")[n:] {
		t.Errorf("a thin (not dead) link started a recovery: %s", m)
	}
	t.Logf("encoder %d -> %d bit/s %s after the 600 kbit/s limit (target %d)",
		before[len(before)-1].encoder, low.encoder, lowAt.Sub(cut).Round(time.Millisecond), low.target)
}

type bitrateMsg struct {
	target, encoder int // encoder: video_0's bitrate, 0 if not set
}

// bitrates parses the golivekitsink-bitrate messages so far.
func (w *world) bitrates() []bitrateMsg {
	var out []bitrateMsg
	for _, m := range w.pipe.ElementMessages("golivekitsink-bitrate") {
		f := harness.ParseStructure(m)
		var b bitrateMsg
		b.target, _ = strconv.Atoi(f["target-bitrate"])
		for _, kv := range strings.Split(f["encoder-bitrates"], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok && k == "video_0" {
				b.encoder, _ = strconv.Atoi(v)
			}
		}
		out = append(out, b)
	}
	return out
}
