package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/livekit/protocol/auth"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// whipLaunch is the webrtcbin publisher's pipeline: the same source part as
// gstFileLaunch, then GStreamer's own payloaders into a webrtcbin named wb
// (whippub.py negotiates it). H264 payload type and clock rate are the
// payloaders' defaults made explicit, so webrtcbin's offer carries them.
func whipLaunch(m mediaPair) string {
	return fmt.Sprintf("webrtcbin name=wb bundle-policy=max-bundle "+
		"filesrc location=%s ! h264parse ! identity sync=true ! rtph264pay config-interval=-1 aggregate-mode=zero-latency ! "+
		"application/x-rtp,media=video,encoding-name=H264,payload=96,clock-rate=90000 ! wb. "+
		"filesrc location=%s ! oggdemux ! opusparse ! identity sync=true ! rtpopuspay ! "+
		"application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! wb.",
		m.H264, m.Ogg)
}

// whipArgs runs whippub.py (Debian's python3, where python3-gi lives) against
// livekit-server's own WHIP endpoint, /whip/v1 (pkg/service/whipservice.go
// of the server, v1.9 and later), with a join token for room.
func whipArgs(t *benchTB, m mediaPair, srv *harness.Server, room, identity string) []string {
	tok, err := auth.NewAccessToken(srv.APIKey(), srv.Secret()).
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: room}).
		SetIdentity(identity).SetValidFor(time.Hour).ToJWT()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	script := filepath.Join(repoRoot, "tests", "cmd", "benchtables", "whippub.py")
	return []string{"/usr/bin/python3", script, srv.HTTPURL() + "/whip/v1", tok, whipLaunch(m)}
}
