package harness

import (
	"path/filepath"
	"testing"
	"time"
)

func TestSubscriberJoinsEmptyRoom(t *testing.T) {
	for _, v := range Versions() {
		t.Run(v, func(t *testing.T) {
			s := StartServer(t, ServerOptions{Version: v})
			sub := Subscribe(t, s.URL(), s.APIKey(), s.Secret(), "empty", "")
			if _, err := sub.WaitForTracks(1, 500*time.Millisecond); err == nil {
				t.Fatal("a track in an empty room")
			}
			if sub.MaxGap("video", time.Time{}, time.Time{}) != 0 || !sub.FirstPacketAt("video").IsZero() {
				t.Error("packets in an empty room")
			}
			sub.Close()
			sub.Close() // idempotent
		})
	}
}

// TestSubscriberRecordsWhatSDKPublishes checks the subscriber's files with a
// known publisher: server-sdk-go sending pre-encoded H264, VP8 and Opus.
func TestSubscriberRecordsWhatSDKPublishes(t *testing.T) {
	dir := t.TempDir()
	h264 := filepath.Join(dir, "in.h264")
	encodeFile(t, `videotestsrc num-buffers=90 ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc speed-preset=ultrafast tune=zerolatency key-int-max=10 threads=1 ! video/x-h264,profile=constrained-baseline ! h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! filesink location=`+h264)
	vp8 := filepath.Join(dir, "in.ivf")
	encodeFile(t, `videotestsrc num-buffers=90 ! video/x-raw,width=320,height=240,framerate=30/1 ! vp8enc deadline=1 keyframe-max-dist=10 ! avmux_ivf ! filesink location=`+vp8)
	ogg := filepath.Join(dir, "in.ogg")
	encodeFile(t, `audiotestsrc num-buffers=150 samplesperbuffer=960 ! audio/x-raw,rate=48000,channels=2 ! opusenc ! oggmux ! filesink location=`+ogg)

	s := StartServer(t, ServerOptions{})
	sub := Subscribe(t, s.URL(), s.APIKey(), s.Secret(), "sdk", filepath.Join(dir, "out"))
	start := time.Now()
	pub := PublishFiles(t, s.URL(), s.APIKey(), s.Secret(), "sdk", "sdk-pub", 33*time.Millisecond, h264, vp8, ogg)
	tracks, err := sub.WaitForTracks(3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Wait(20 * time.Second) {
		t.Fatal("publisher did not finish")
	}
	time.Sleep(500 * time.Millisecond) // let the tail arrive
	sub.Close()
	t.Logf("published in %v", time.Since(start).Round(time.Millisecond))
	tracks = sub.Tracks()
	// The publisher starts sending before the server forwards to the
	// subscriber, and video forwarding starts at a keyframe: what was sent
	// earlier is lost by design. So the rule is: >= 90% of the frames that
	// arrived (distinct RTP timestamps) decode, and >= 60% of all sent arrive.
	sent := map[string]int{"video/H264": 90, "video/VP8": 90, "audio/opus": 150}
	for _, tr := range tracks {
		n := DecodedFrames(t, tr.File, tr.Codec)
		t.Logf("%s %s track %s: %d packets, %d frames written, %d decoded, max gap %v", tr.Identity, tr.Codec, tr.TrackSID,
			len(tr.Packets), tr.Frames, n, sub.MaxGap(tr.Kind, time.Time{}, time.Time{}))
		if tr.Identity != "sdk-pub" || tr.ParticipantSID == "" || tr.TrackSID == "" {
			t.Errorf("track metadata %+v", tr)
		}
		arrived := DistinctTimestamps(tr.Packets)
		if n < arrived*9/10 || n < sent[tr.Codec]*6/10 {
			t.Errorf("%s: decoded %d; %d frames arrived, %d sent", tr.Codec, n, arrived, sent[tr.Codec])
		}
	}
	if sids := sub.ParticipantSIDs("sdk-pub"); len(sids) != 1 {
		t.Errorf("ParticipantSIDs = %v", sids)
	}
}
