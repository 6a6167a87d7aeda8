package examples

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// examples/python/data_captions.py against livekit-server: a server-sdk-go
// participant gets its status data packets, its captions as final
// transcription segments of its audio track, and its uptime attribute;
// the data this participant sends is printed by the example.
func TestPythonDataAndCaptionsExample(t *testing.T) {
	root := harness.RepoRoot()
	srv := harness.StartServer(t, harness.ServerOptions{})
	const room, identity = "ex-data", "example-data"

	var mu sync.Mutex
	var status, captions []string
	var attrs []lksdk.TextStreamInfo
	cb := lksdk.NewRoomCallback()
	cb.OnDataPacket = func(d lksdk.DataPacket, p lksdk.DataReceiveParams) {
		if u, ok := d.(*lksdk.UserDataPacket); ok && u.Topic == "status" && p.SenderIdentity == identity {
			mu.Lock()
			status = append(status, string(u.Payload))
			mu.Unlock()
		}
	}
	peer, err := lksdk.ConnectToRoom(srv.URL(), lksdk.ConnectInfo{APIKey: srv.APIKey(), APISecret: srv.Secret(),
		RoomName: room, ParticipantIdentity: "peer"}, cb, lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Disconnect()
	if err := peer.RegisterTextStreamHandler("lk.transcription", func(r *lksdk.TextStreamReader, from string) {
		text := r.ReadAll()
		mu.Lock()
		captions, attrs = append(captions, text), append(attrs, r.Info)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	// Data for the example once it is in the room.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
				_ = peer.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("hello example")),
					lksdk.WithDataPublishTopic("chat"), lksdk.WithDataPublishReliable(true),
					lksdk.WithDataPublishDestination([]string{identity}))
			}
		}
	}()

	cmd := exec.Command("/usr/bin/python3", filepath.Join(root, "examples", "python", "data_captions.py"), fmt.Sprint(runSeconds))
	cmd.Env = append(os.Environ(),
		"LIVEKIT_URL="+srv.URL(), "LIVEKIT_API_KEY="+srv.APIKey(), "LIVEKIT_API_SECRET="+srv.Secret(),
		"ROOM="+room, "IDENTITY="+identity,
		"GST_PLUGIN_PATH="+harness.PluginDir(t), "GST_REGISTRY="+filepath.Join(t.TempDir(), "registry.bin"))
	var uptime, track string
	go func() { // the attribute and the audio track while the example runs
		for i := 0; i < runSeconds*10; i++ {
			if rp := peer.GetParticipantByIdentity(identity); rp != nil && rp.Attributes()["uptime"] != "" {
				mu.Lock()
				uptime = rp.Attributes()["uptime"] + " role=" + rp.Attributes()["role"]
				for _, pub := range rp.TrackPublications() {
					track = pub.SID()
				}
				mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	out, code := runBounded(t, cmd, (runSeconds+40)*time.Second)
	if code != 0 {
		t.Fatalf("data_captions.py exited %d:\n%s", code, tail(out, 40))
	}
	time.Sleep(500 * time.Millisecond)
	if !strings.Contains(out, "data from peer on chat: hello example") {
		t.Errorf("the example printed no data from the peer:\n%s", tail(out, 30))
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("status packets %v, captions %v, uptime attribute %q", status, captions, uptime)
	if len(status) < runSeconds-3 || status[0] != `{"tick": 1}` {
		t.Errorf("status packets %v, want one a second from {\"tick\": 1}", status)
	}
	if len(captions) < runSeconds-3 {
		t.Fatalf("captions %v, want one a second", captions)
	}
	for i, c := range captions {
		a := attrs[i].Attributes
		if c != fmt.Sprintf("caption %d", i+1) || a["lk.transcription_final"] != "true" || a["lk.segment_id"] == "" ||
			a["lk.transcribed_track_id"] != track || track == "" {
			t.Errorf("caption %d: %q %v, want \"caption %d\", final, of the audio track %s", i, c, a, i+1, track)
		}
	}
	if !strings.HasSuffix(uptime, "role=captioner") || uptime == " role=captioner" {
		t.Errorf("uptime attribute %q, want the example's count and role=captioner", uptime)
	}
}
