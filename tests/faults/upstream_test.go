package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// Encoded input with upstream-bitrate-control: the application's encoder,
// found upstream through h264parse and a queue, follows the estimate.

// upstreamX264 is the application's branch: its own x264enc on snow (every
// bit costs), then path up to golivekitsink.
func upstreamX264(kbps int, path string) string {
	return rawSnowVideo + fmt.Sprintf(" ! x264enc name=appenc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=%d ! %s", kbps, path)
}

// longPath has every kind of element the walk goes through: a tee, a
// capsfilter, identity, valve, and a bin (its ghost pads) around the
// parser and a queue.
const longPath = "tee ! queue ! video/x-h264 ! identity ! valve ! ( h264parse ! queue )"

// TestUpstreamEncoderFollowsAThinUplink: the plugged encoder's thin-uplink
// test with the application's x264enc upstream of an encoded pad.
func TestUpstreamEncoderFollowsAThinUplink(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		encoderFollowsAThinUplink(t, newWorld(t, v, worldOptions{netns: true, video: upstreamX264(2000, "h264parse ! queue"),
			elemProps: "upstream-bitrate-control=true start-bitrate=2000000"}))
	})
}

// TestUpstreamBitrateControlOnlyWhenAsked: with max-bitrate=300000 the
// estimator never allows more than 300 kbit/s. The application's x264enc at
// 1500 kbit/s, behind longPath, keeps its rate (as the subscriber measures
// it) when the property is off, and drops to the estimate when it is on.
// Not a server feature: the newest server version only.
func TestUpstreamBitrateControlOnlyWhenAsked(t *testing.T) {
	versions := harness.Versions()
	v := versions[len(versions)-1]
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("upstream-bitrate-control=%v", on), func(t *testing.T) {
			w := newWorld(t, v, worldOptions{video: upstreamX264(1500, longPath),
				elemProps: fmt.Sprintf("upstream-bitrate-control=%v start-bitrate=300000 max-bitrate=300000", on)})
			w.waitPublishing()
			time.Sleep(2 * time.Second) // x264enc's rate control settles after a change
			from := time.Now()
			time.Sleep(4 * time.Second)
			rate := w.videoPayloadRate(from, time.Now())
			var setTo []int
			for _, m := range w.bitrates() {
				if m.encoder > 0 {
					setTo = append(setTo, m.encoder)
				}
			}
			t.Logf("received video payload %d bit/s; video_0 set to %v", rate, setTo)
			if on {
				if len(setTo) == 0 {
					t.Fatalf("no golivekitsink-bitrate message set video_0's upstream encoder; the element's log about it:\n%s",
						debugLogLines(w.pipe, 30, "upstream", "target bitrate"))
				}
				if rate > 600_000 {
					t.Errorf("video arrives at %d bit/s: the upstream encoder did not follow the 300 kbit/s estimate", rate)
				}
				return
			}
			if len(setTo) > 0 {
				t.Errorf("with the property off the element set video_0's encoder: %v", setTo)
			}
			if rate < 900_000 {
				t.Errorf("video arrives at %d bit/s: the application's 1500 kbit/s encoder was changed", rate)
			}
		})
	}
}

// TestUpstreamBitrateControlWarnsOnceForAnUnknownEncoder: an encoder the
// table does not know (a passthrough registered with klass
// Codec/Encoder/Video) gets exactly one WARNING naming it, however many
// estimates arrive, and is left alone; media keeps flowing.
func TestUpstreamBitrateControlWarnsOnceForAnUnknownEncoder(t *testing.T) {
	versions := harness.Versions()
	v := versions[len(versions)-1]
	tp := harness.NewTopology(t)
	srv := harness.StartServer(t, harness.ServerOptions{Version: v, Netns: tp.SrvNS, Host: tp.ServerAddr})
	room := "faults-upstream-unknown"
	sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, "")
	line := launchLine(srv.URL(), srv.APIKey(), srv.Secret(), room, "", "upstream-bitrate-control=true",
		"videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "+
			"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 bitrate=800 ! testh264enc name=mystery ! h264parse ! queue")
	script, _ := filepath.Abs("testdata/unknown_encoder.py")
	app := harness.RunAppNetns(t, tp.PubNS, []string{"/usr/bin/python3", script, "60", line})
	if err := sub.WaitForPackets("video", 50, 20*time.Second); err != nil {
		t.Fatalf("publishing never started: %v\n%s", err, app.Output())
	}
	// Several estimates: each one walks upstream again.
	deadline := time.Now().Add(15 * time.Second)
	for len(app.ElementMessages("golivekitsink-bitrate")) < 5 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	msgs := app.ElementMessages("golivekitsink-bitrate")
	if len(msgs) < 5 {
		t.Fatalf("only %d golivekitsink-bitrate messages in 15 s:\n%s", len(msgs), app.Output())
	}
	var about []string
	for _, w := range app.Warnings() {
		if strings.Contains(w, "testh264enc") {
			about = append(about, w)
		}
	}
	if len(about) != 1 || !strings.Contains(about[0], "mystery") || !strings.Contains(about[0], "video_0") {
		t.Errorf("want one WARNING naming video_0 and the encoder mystery (testh264enc) after %d estimates, got %d:\n%s",
			len(msgs), len(about), strings.Join(app.Warnings(), "\n---\n"))
	}
	for _, m := range msgs {
		if strings.Contains(harness.ParseStructure(m)["encoder-bitrates"], "video_0") {
			t.Errorf("the bitrate message claims video_0's unknown encoder was set: %s", m)
		}
	}
	if errs := app.Errors(); len(errs) > 0 {
		t.Errorf("ERROR on the bus:\n%s", strings.Join(errs, "\n"))
	}
	if err := sub.WaitForPackets("video", sub.PacketCount("video")+60, 10*time.Second); err != nil {
		t.Errorf("video stopped: %v", err)
	}
}

// videoPayloadRate is the video payload the subscriber received in
// [from, to], in bit/s.
func (w *world) videoPayloadRate(from, to time.Time) int {
	bytes := 0
	for _, tr := range w.sub.TracksOf("video") {
		for _, p := range tr.Packets {
			if !p.At.Before(from) && !p.At.After(to) {
				bytes += p.PayloadSize
			}
		}
	}
	return int(float64(bytes*8) / to.Sub(from).Seconds())
}

// debugLogLines are the last n lines of p's debug log that contain one of words.
func debugLogLines(p *harness.Pipeline, n int, words ...string) string {
	b, err := os.ReadFile(p.DebugLogPath())
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out[max(len(out)-n, 0):], "\n")
}
