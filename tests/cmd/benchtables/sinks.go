package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// benchSinks: how many golivekitsink elements one gst-launch process carries
// on this machine (2 cores, shared with livekit-server and the subscribers).
// Each sink publishes the 360p30 1 Mbit/s H264 + Opus pair, paced in real
// time, into a room of its own; subscribers sample the first and the last
// room. Over a window after every sink publishes, it measures the CPU of
// the publisher process and of the server (from /proc/<pid>/stat) and the
// video packet rate and largest gap at the sampled subscribers.
func benchSinks() error {
	if err := gapMedia.ensure(); err != nil {
		return err
	}
	vs := harness.Versions()
	version := vs[len(vs)-1]
	var counts []int
	for _, c := range envList("BENCH_SINKS", []string{"1", "4", "8", "16"}) {
		if n, err := strconv.Atoi(c); err == nil && n > 0 {
			counts = append(counts, n)
		}
	}
	var rows [][]string
	var errs []string
	err := run("sinks/server", func(t *benchTB) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: version})
		for _, n := range counts {
			err := run(fmt.Sprintf("sinks/%d", n), func(t *benchTB) {
				rows = append(rows, measureSinks(t, srv, n))
			})
			if err != nil {
				errs = append(errs, err.Error())
				rows = append(rows, []string{strconv.Itoa(n), "failed", "", "", "", "", ""})
			}
		}
	})
	if err != nil {
		return err
	}
	table("sinks", "golivekitsink elements in one gst-launch process",
		[]string{"sinks", "publisher CPU (cores)", "per sink (% of a core)", "server CPU (cores)",
			"video pkt/s, first room", "video pkt/s, last room", "largest video gap (sampled rooms)"},
		rows,
		fmt.Sprintf("each sink: %dx%d@30 H264 ~%d kbit/s + Opus 20 ms from files (filesrc ! h264parse ! identity sync=true ! golivekitsink), its own room; "+
			"livekit-server %s, the publisher and two subscribers share this machine's 2 cores.", gapMedia.Width, gapMedia.Height, gapMedia.Kbps, version),
		fmt.Sprintf("window: %s, starting %s after both sampled subscribers receive video; CPU from utime+stime in /proc/<pid>/stat over the window.",
			sinksWindow, sinksSettle),
		"The plugin's Go runtime uses one P (GOMAXPROCS=1 unless set): all sinks share it.")
	if len(errs) > 0 {
		return fmt.Errorf("%d runs failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return nil
}

const (
	sinksSettle = 3 * time.Second
	sinksWindow = 15 * time.Second
)

func measureSinks(t *benchTB, srv *harness.Server, n int) []string {
	key, secret := srv.APIKey(), srv.Secret()
	room := func(i int) string { return fmt.Sprintf("sinks-%d-%d", n, i) }
	var launch []string
	for i := 0; i < n; i++ {
		// gstFileLaunch names its element lk and ends with the "lk." of its audio branch.
		l := gstFileLaunch(gapMedia, srv.URL(), room(i), "pub", key, secret)
		l = strings.Replace(strings.TrimSuffix(l, "lk."), "name=lk ", fmt.Sprintf("name=lk%d ", i), 1)
		launch = append(launch, l+fmt.Sprintf("lk%d.", i))
	}
	sampled := []int{0}
	if n > 1 {
		sampled = append(sampled, n-1)
	}
	subs := map[int]*harness.Subscriber{}
	for _, i := range sampled {
		subs[i] = harness.Subscribe(t, srv.URL(), key, secret, room(i), "")
	}
	p := startGst(t, "", strings.Join(launch, " "))
	defer p.stop(10 * time.Second)
	for _, i := range sampled {
		if err := subs[i].WaitForPackets("video", 30, 30*time.Second); err != nil {
			t.Fatalf("%d sinks, room %d: %v", n, i, err)
		}
	}
	time.Sleep(sinksSettle)
	from := time.Now()
	pubCPU0, srvCPU0 := procCPU(p.cmd.Process.Pid), procCPU(srv.PID())
	counts0 := map[int]int{}
	for _, i := range sampled {
		counts0[i] = subs[i].PacketCount("video")
	}
	time.Sleep(sinksWindow)
	to := time.Now()
	pubCPU, srvCPU := procCPU(p.cmd.Process.Pid)-pubCPU0, procCPU(srv.PID())-srvCPU0
	if p.exited() {
		t.Fatalf("%d sinks: gst-launch ended during the window:\n%s", n, p.tail(20))
	}
	win := to.Sub(from)
	rate := func(i int) string {
		return fmt.Sprintf("%.0f", float64(subs[i].PacketCount("video")-counts0[i])/win.Seconds())
	}
	var gap time.Duration
	for _, i := range sampled {
		gap = max(gap, subs[i].MaxGap("video", from, to))
	}
	cores := pubCPU.Seconds() / win.Seconds()
	last := rate(sampled[len(sampled)-1])
	return []string{strconv.Itoa(n), fmt.Sprintf("%.2f", cores), fmt.Sprintf("%.1f", 100*cores/float64(n)),
		fmt.Sprintf("%.2f", srvCPU.Seconds()/win.Seconds()), rate(0), last, ms(gap)}
}

// procCPU is the user+system CPU time a running process has used so far
// (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
