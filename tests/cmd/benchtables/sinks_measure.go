package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// roomRates is what one room's subscriber received within the window.
type roomRates struct {
	videoPPS, videoFPS, audioPPS float64
	videoGap, audioGap           time.Duration
}

func (r roomRates) fullRate() bool {
	return r.videoFPS >= fullRateShare*30 && r.audioPPS >= fullRateShare*50
}

// sinksResult is one row of the sinks table.
type sinksResult struct {
	n                       int
	others                  float64 // cores used by processes other than publisher, server and bench
	pubCores, srvCores, sub float64
	rooms                   []roomRates
}

func measureSinks(t *benchTB, srv *harness.Server, netns string, n int) sinksResult {
	key, secret := srv.APIKey(), srv.Secret()
	room := func(i int) string { return fmt.Sprintf("sinks-%d-%d", n, i) }
	var launch []string
	for i := 0; i < n; i++ {
		// gstFileLaunch names its element lk and ends with the "lk." of its audio branch.
		l := gstFileLaunch(gapMedia, srv.URL(), room(i), "pub", key, secret)
		l = strings.Replace(strings.TrimSuffix(l, "lk."), "name=lk ", fmt.Sprintf("name=lk%d ", i), 1)
		launch = append(launch, l+fmt.Sprintf("lk%d.", i))
	}
	subs := subscribeAll(t, srv, n, room)
	res := sinksResult{n: n}
	p := startGst(t, netns, strings.Join(launch, " "))
	defer p.stop(10 * time.Second)
	deadline := time.Now().Add(20*time.Second + time.Duration(n)*500*time.Millisecond)
	for i, s := range subs {
		if err := s.WaitForPackets("video", 30, time.Until(deadline)); err != nil {
			t.Fatalf("%d sinks, room %d: %v", n, i, err)
		}
	}
	time.Sleep(sinksSettle)
	from := time.Now()
	pub0, srv0, sub0, all0 := procCPU(p.cmd.Process.Pid), procCPU(srv.PID()), procCPU(os.Getpid()), sampleMachine()
	time.Sleep(sinksWindow)
	to := time.Now()
	pubCPU, srvCPU, subCPU := procCPU(p.cmd.Process.Pid)-pub0, procCPU(srv.PID())-srv0, procCPU(os.Getpid())-sub0
	others := busySince(all0) - pubCPU - srvCPU - subCPU
	if p.exited() {
		t.Fatalf("%d sinks: gst-launch ended during the window:\n%s", n, p.tail(20))
	}
	if to.After(p.started.Add(gapMedia.Length)) {
		t.Fatalf("%d sinks: the files (%s) may have ended within the window: the rooms took too long to receive video", n, gapMedia.Length)
	}
	win := to.Sub(from)
	res.pubCores, res.srvCores, res.sub = pubCPU.Seconds()/win.Seconds(), srvCPU.Seconds()/win.Seconds(), subCPU.Seconds()/win.Seconds()
	res.others = others.Seconds() / win.Seconds()
	for _, s := range subs {
		res.rooms = append(res.rooms, rates(s, from, to))
	}
	return res
}

// subscribeAll joins one subscriber per room, a few at a time.
func subscribeAll(t *benchTB, srv *harness.Server, n int, room func(int) string) []*harness.Subscriber {
	subs := make([]*harness.Subscriber, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, subscribeWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				subs[i], errs[i] = harness.TrySubscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room(i), "")
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("room %d: %v", i, err)
		}
	}
	return subs
}

func rates(s *harness.Subscriber, from, to time.Time) roomRates {
	secs := to.Sub(from).Seconds()
	inWindow := func(kind string) []harness.PacketInfo {
		var out []harness.PacketInfo
		for _, tr := range s.TracksOf(kind) {
			for _, p := range tr.Packets {
				if !p.At.Before(from) && !p.At.After(to) {
					out = append(out, p)
				}
			}
		}
		return out
	}
	video, audio := inWindow("video"), inWindow("audio")
	return roomRates{
		videoPPS: float64(len(video)) / secs,
		videoFPS: float64(harness.DistinctTimestamps(video)) / secs,
		audioPPS: float64(len(audio)) / secs,
		videoGap: s.MaxGap("video", from, to),
		audioGap: s.MaxGap("audio", from, to),
	}
}

func (r sinksResult) row() []string {
	var pps []float64
	minFPS, minAudio := r.rooms[0].videoFPS, r.rooms[0].audioPPS
	var vGap, aGap time.Duration
	vGapRoom, full := 0, 0
	for i, room := range r.rooms {
		pps = append(pps, room.videoPPS)
		minFPS, minAudio = min(minFPS, room.videoFPS), min(minAudio, room.audioPPS)
		if room.videoGap > vGap {
			vGap, vGapRoom = room.videoGap, i
		}
		aGap = max(aGap, room.audioGap)
		if room.fullRate() {
			full++
		}
	}
	fullCell := fmt.Sprintf("%d of %d", full, r.n)
	if r.n == sinksTargetCount {
		verdict := "yes"
		if full < r.n || vGap > sinksTargetGap {
			verdict = "NO"
		}
		fullCell += " (target met: " + verdict + ")"
	}
	return []string{strconv.Itoa(r.n), fmt.Sprintf("%.2f", r.others), fmt.Sprintf("%.2f", r.pubCores), fmt.Sprintf("%.1f", 100*r.pubCores/float64(r.n)),
		fmt.Sprintf("%.2f", r.srvCores), fmt.Sprintf("%.2f", r.sub),
		fmt.Sprintf("%.0f / %.0f / %.0f", slices.Min(pps), medianF(pps), slices.Max(pps)),
		fmt.Sprintf("%.1f", minFPS), fmt.Sprintf("%.1f", minAudio), fullCell,
		fmt.Sprintf("%s (%d)", ms(vGap), vGapRoom), ms(aGap)}
}

// perRoomNote lists every room's video packet rate, in room order.
func (r sinksResult) perRoomNote() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d sinks, video pkt/s of rooms 0..%d:", r.n, r.n-1)
	for _, room := range r.rooms {
		fmt.Fprintf(&b, " %.0f", room.videoPPS)
	}
	return b.String()
}
