package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

const smallH264 = "videotestsrc is-live=true num-buffers=300 ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency key-int-max=30 speed-preset=ultrafast"

// Settings errors need no server: the element refuses to start.
func TestMissingRoomName(t *testing.T) {
	p := harness.RunPipeline(t, smallH264+" ! golivekitsink signaller::ws-url=ws://127.0.0.1:9 signaller::api-key=k signaller::secret-key=s signaller::identity=x")
	if code := p.Wait(20 * time.Second); code == 0 {
		t.Fatal("exit 0 without a room name")
	}
	mustContain(t, "ERROR", firstError(t, p), "signaller::room-name")
}

func TestMissingCredentials(t *testing.T) {
	p := harness.RunPipeline(t, smallH264+" ! golivekitsink signaller::ws-url=ws://127.0.0.1:9 signaller::room-name=r signaller::identity=x")
	if code := p.Wait(20 * time.Second); code == 0 {
		t.Fatal("exit 0 without credentials")
	}
	mustContain(t, "ERROR", firstError(t, p), "signaller::auth-token", "signaller::api-key", "signaller::secret-key")
}

// A wrong secret: the server answers 401; the ERROR names the credentials and
// never shows the secret (neither on the bus nor in the debug log).
func TestWrongSecret(t *testing.T) {
	srv := harness.StartServer(t, harness.ServerOptions{})
	const wrong = "wrong-secret-value-0123456789-abcdefghij"
	p := harness.RunPipeline(t, fmt.Sprintf("%s ! golivekitsink signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s signaller::room-name=r signaller::identity=x",
		smallH264, srv.URL(), srv.APIKey(), wrong))
	if code := p.Wait(30 * time.Second); code == 0 {
		t.Fatal("exit 0 with a wrong secret")
	}
	e := firstError(t, p)
	mustContain(t, "ERROR", e, "401", "credentials", "signaller::secret-key")
	if strings.Contains(p.Output(), wrong) {
		t.Errorf("the secret appears in the gst-launch output")
	}
	if b, _ := os.ReadFile(p.DebugLogPath()); strings.Contains(string(b), wrong) {
		t.Errorf("the secret appears in the debug log %s", p.DebugLogPath())
	}
}

// Nothing listens: the element warns and keeps trying without crashing; SIGINT ends it.
func TestUnreachableServer(t *testing.T) {
	port := harness.ClosedPort(t, "127.0.0.1")
	p := harness.RunPipeline(t, fmt.Sprintf("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast ! golivekitsink signaller::ws-url=ws://127.0.0.1:%d signaller::api-key=%s signaller::secret-key=%s signaller::room-name=r signaller::identity=x",
		port, harness.DevKey, harness.DevSecret))
	deadline := time.Now().Add(20 * time.Second)
	for len(p.Warnings()) == 0 && !p.Exited() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if p.Exited() {
		t.Fatalf("pipeline ended (exit %d) instead of retrying; errors %q", p.ExitCode(), p.Errors())
	}
	if len(p.Warnings()) == 0 {
		t.Fatalf("no WARNING within 20 s; output:\n%s", p.Output())
	}
	time.Sleep(2 * time.Second) // still alive and retrying
	if p.Exited() {
		t.Fatalf("pipeline ended after the warning (exit %d)", p.ExitCode())
	}
	p.Interrupt()
	if code := p.Wait(20 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGINT; errors %q", code, p.Errors())
	}
	if errs := p.Errors(); len(errs) > 0 {
		t.Errorf("errors: %q", errs)
	}
}

// JPEG is not something the element takes. gst-launch either refuses the link
// while parsing ("could not link", with the caps) or, if the pad accepts the
// link, the stream stops with not-negotiated.
func TestUnsupportedCaps(t *testing.T) {
	p := harness.RunPipeline(t, fmt.Sprintf("videotestsrc num-buffers=30 ! jpegenc ! lk.video_0 golivekitsink name=lk signaller::ws-url=ws://127.0.0.1:9 signaller::api-key=%s signaller::secret-key=%s signaller::room-name=r signaller::identity=x",
		harness.DevKey, harness.DevSecret))
	if code := p.Wait(20 * time.Second); code == 0 {
		t.Fatal("exit 0 with JPEG input")
	}
	out := p.Output()
	if strings.Contains(out, "could not link jpegenc0 to lk") {
		return
	}
	mustContain(t, "ERROR", firstError(t, p), "not-negotiated")
}

// The server removes the publisher: a Leave{DISCONNECT, PARTICIPANT_REMOVED}
// must end the pipeline with an ERROR naming the reason.
func TestLeaveDisconnect(t *testing.T) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) {
			srv := harness.StartServer(t, harness.ServerOptions{Version: v})
			sub := harness.Subscribe(t, srv.URL(), srv.APIKey(), srv.Secret(), "leave", "")
			p := harness.RunPipeline(t, fmt.Sprintf("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! golivekitsink %s",
				sinkProps(srv, "leave", "gst-leave")))
			if _, err := sub.WaitForTracks(1, 15*time.Second); err != nil {
				t.Fatalf("%v; output:\n%s", err, p.Output())
			}
			rs := lksdk.NewRoomServiceClient(srv.HTTPURL(), srv.APIKey(), srv.Secret())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := rs.RemoveParticipant(ctx, &livekit.RoomParticipantIdentity{Room: "leave", Identity: "gst-leave"}); err != nil {
				t.Fatalf("RemoveParticipant: %v", err)
			}
			if code := p.Wait(20 * time.Second); code == 0 {
				t.Fatal("exit 0 after the participant was removed")
			}
			mustContain(t, "ERROR", firstError(t, p), "PARTICIPANT_REMOVED")
		})
	}
}
