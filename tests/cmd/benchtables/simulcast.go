package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// benchSimulcast compares the publisher's CPU for raw 720p30 VP8 encoded as
// one layer, as three simulcast layers, and as three layers while dynacast
// pauses the top one (the only subscriber asks for LOW).
func benchSimulcast() error {
	vs := harness.Versions()
	version := vs[len(vs)-1]
	var rows [][]string
	err := run("simulcast/server", func(t *benchTB) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: version})
		for _, layers := range []int{1, 3} {
			room := fmt.Sprintf("simulcast-%d", layers)
			sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), room, t.TempDir())
			launch := fmt.Sprintf("videotestsrc is-live=1 pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "+
				"golivekitsink name=lk video-caps=video/x-vp8 video_0::simulcast-layers=%d "+
				"signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s signaller::room-name=%s signaller::identity=pub",
				layers, srv.URL(), srv.APIKey(), srv.Secret(), room)
			p := startProc(t, "", append([]string{"gst-launch-1.0", "-e"}, mustSplit(t, launch)...),
				append(gstEnv(), "GST_DEBUG=golivekitsink:4", "GST_DEBUG_NO_COLOR=1"))
			if err := sub.WaitForPackets("video", 60, 20*time.Second); err != nil {
				t.Fatalf("%d layers: %v", layers, err)
			}
			if layers == 1 {
				rows = append(rows, []string{"1 layer (1280x720)", cpuWindow(p)})
				p.stop(5 * time.Second)
				continue
			}
			benchSetQuality(t, sub, livekit.VideoQuality_HIGH)
			rows = append(rows, []string{"3 layers (1280x720, 640x360, 320x180), HIGH subscribed", cpuWindow(p)})
			benchSetQuality(t, sub, livekit.VideoQuality_LOW)
			paused := false
			for deadline := time.Now().Add(15 * time.Second); !paused && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				paused = strings.Contains(p.tail(100000), "layer f encoding paused")
			}
			if !paused {
				t.Fatalf("the f layer was not paused within 15 s of the subscriber asking for LOW")
			}
			rows = append(rows, []string{"3 layers, LOW subscribed: dynacast pauses f", cpuWindow(p)})
			p.stop(5 * time.Second)
		}
	})
	if err != nil {
		return err
	}
	table("simulcast", "Publisher CPU with simulcast from raw input", []string{"input", "publisher CPU (% of a core)"}, rows,
		fmt.Sprintf("videotestsrc pattern=ball 1280x720@30 encoded by the element's vp8enc (cpu-used=-16, CBR); one subscriber; livekit-server %s; "+
			"CPU from /proc/<pid>/stat of gst-launch over %s, starting %s after the subscriber receives video (or the pause is logged).",
			version, simulcastWindow, sinksSettle),
		"The source and videoconvert are part of every row; the paused f layer stops at its valve, before the encoder.")
	return nil
}

const simulcastWindow = 15 * time.Second

func cpuWindow(p *proc) string {
	time.Sleep(sinksSettle)
	pid := p.cmd.Process.Pid
	a, start := procCPU(pid), time.Now()
	time.Sleep(simulcastWindow)
	used := procCPU(pid) - a
	return fmt.Sprintf("%.1f", used.Seconds()/time.Since(start).Seconds()*100)
}

func mustSplit(t *benchTB, launch string) []string {
	args, err := harness.SplitArgs(launch)
	if err != nil {
		t.Fatalf("launch line: %v", err)
	}
	return args
}

// benchSetQuality asks the SFU for quality q of pub's video on behalf of sub.
func benchSetQuality(t *benchTB, sub *harness.Subscriber, q livekit.VideoQuality) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		rp := sub.Room().GetParticipantByIdentity("pub")
		if rp == nil {
			continue
		}
		for _, pub := range rp.TrackPublications() {
			if rpub, ok := pub.(*lksdk.RemoteTrackPublication); ok && pub.Kind() == lksdk.TrackKindVideo && rpub.TrackRemote() != nil {
				if err := rpub.SetVideoQuality(q); err != nil {
					t.Fatalf("SetVideoQuality: %v", err)
				}
				return
			}
		}
	}
	t.Fatalf("no subscribed video track of pub")
}
