// Command sdkpub is the server-sdk-go reference publisher of the benchmarks:
// it joins a room and sends a pre-encoded H264 Annex-B file (one sample per
// access unit, paced at -fps) and an Opus .ogg (one sample per packet, paced
// by the packet durations) in real time, then leaves and exits 0. It is what
// golivekitsink is compared with for CPU and for the media gap under faults,
// so it does nothing beyond what the SDK needs to publish.
//
//	sdkpub -url ws://127.0.0.1:7880 -room r -h264 v.h264 -ogg a.ogg
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/livekit/server-sdk-go/v2/pkg/oggreader"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/h264reader"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:7880", "LiveKit signalling URL")
	key := flag.String("key", "devkey", "API key")
	secret := flag.String("secret", "", "API secret")
	room := flag.String("room", "bench", "room name")
	identity := flag.String("identity", "pub", "participant identity")
	h264 := flag.String("h264", "", "H264 Annex-B file")
	ogg := flag.String("ogg", "", "Opus .ogg file")
	fps := flag.Float64("fps", 30, "video frame rate")
	width := flag.Int("width", 0, "video width announced")
	height := flag.Int("height", 0, "video height announced")
	maxDur := flag.Duration("max", 10*time.Minute, "stop after this long at most")
	verbose := flag.Bool("v", false, "show the SDK's log")
	flag.Parse()
	if !*verbose {
		lksdk.SetLogger(protoLogger.GetDiscardLogger())
	}
	if *h264 == "" && *ogg == "" {
		fail(errors.New("nothing to publish: give -h264 and/or -ogg"))
	}
	r, err := lksdk.ConnectToRoom(*url, lksdk.ConnectInfo{APIKey: *key, APISecret: *secret,
		RoomName: *room, ParticipantIdentity: *identity}, lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		fail(fmt.Errorf("join: %w", err))
	}
	defer r.Disconnect()

	stop := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }) }
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sig; halt() }()
	time.AfterFunc(*maxDur, halt)

	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := time.Now()
	if *h264 != "" {
		tr := publish(r, webrtc.MimeTypeH264, 90000, &lksdk.TrackPublicationOptions{Name: "video",
			Source: livekit.TrackSource_CAMERA, VideoWidth: *width, VideoHeight: *height})
		frames, err := openH264(*h264)
		if err != nil {
			fail(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pace(tr, frames, time.Duration(float64(time.Second) / *fps), start, stop)
		}()
	}
	if *ogg != "" {
		tr := publish(r, webrtc.MimeTypeOpus, 48000, &lksdk.TrackPublicationOptions{Name: "audio",
			Source: livekit.TrackSource_MICROPHONE})
		packets, err := openOgg(*ogg)
		if err != nil {
			fail(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); errs <- pace(tr, packets, 0, start, stop) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			fail(err)
		}
	}
}

func publish(r *lksdk.Room, mime string, rate uint32, o *lksdk.TrackPublicationOptions) *lksdk.LocalTrack {
	tr, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: rate})
	if err != nil {
		fail(err)
	}
	if _, err := r.LocalParticipant.PublishTrack(tr, o); err != nil {
		fail(fmt.Errorf("publish %s: %w", mime, err))
	}
	return tr
}

// next returns one sample (Duration 0: use the fixed frame duration) or io.EOF.
type next func() (media.Sample, error)

// pace writes samples on an absolute schedule from start, so the stream keeps
// real time even when a write is slow; samples written while the track is not
// bound (during a reconnect) are dropped by the SDK, as with a live source.
func pace(tr *lksdk.LocalTrack, nx next, frame time.Duration, start time.Time, stop <-chan struct{}) error {
	at := time.Duration(0)
	for {
		s, err := nx()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if s.Duration == 0 {
			s.Duration = frame
		}
		if d := time.Until(start.Add(at)); d > 0 {
			select {
			case <-stop:
				return nil
			case <-time.After(d):
			}
		}
		select {
		case <-stop:
			return nil
		default:
		}
		_ = tr.WriteSample(s, nil)
		at += s.Duration
	}
}

// openH264 returns access units of an Annex-B file, one per picture
// (parameter sets and SEI travel with the picture that follows them).
func openH264(path string) (next, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd, err := h264reader.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var pending *h264reader.NAL
	return func() (media.Sample, error) {
		var au []byte
		vcl := false
		for {
			nal := pending
			pending = nil
			if nal == nil {
				if nal, err = rd.NextNAL(); err != nil {
					if err == io.EOF && len(au) > 0 {
						return media.Sample{Data: au}, nil
					}
					return media.Sample{}, err
				}
			}
			isVCL := nal.UnitType >= 1 && nal.UnitType <= 5
			// A new access unit starts at a non-VCL NAL or at a slice with
			// first_mb_in_slice == 0 (its first bit is 1) after a picture.
			newAU := !isVCL || (len(nal.Data) > 1 && nal.Data[1]&0x80 != 0)
			if vcl && newAU {
				pending = nal
				return media.Sample{Data: au}, nil
			}
			au = append(au, 0, 0, 0, 1)
			au = append(au, nal.Data...)
			vcl = vcl || isVCL
		}
	}, nil
}

func openOgg(path string) (next, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd, _, err := oggreader.NewOggReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func() (media.Sample, error) {
		p, err := rd.ReadPacket()
		if err != nil {
			return media.Sample{}, err
		}
		d, err := oggreader.ParsePacketDuration(p)
		if err != nil || d == 0 {
			d = 20 * time.Millisecond
		}
		return media.Sample{Data: p, Duration: d}, nil
	}, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "sdkpub:", err)
	os.Exit(1)
}
