package lifecycle

import (
	"context"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// What happens to a pad while the element recovers reaches LiveKit once it
// is back, as the subscriber sees it:
//   - EOS on a pad: its track stays muted;
//   - a track muted by the server (RoomService) while media still flows
//     stays muted when it is published again;
//   - a released pad: no published track is left;
//   - a new video size (caps renegotiated mid-stream): the track's info has
//     it, as it does when the size changes while connected.
func TestTrackChangesDuringRecovery(t *testing.T) {
	forEachRecovery(t, func(t *testing.T, r recovery, v string) {
		w := newWorld(t, v, audioBranch(0)+audioBranch(1)+audioBranch(2))
		d := w.drv
		eosPad := d.do("padof aenc0", "PADOF aenc0 ", 5*time.Second)
		releasedPad := d.do("padof aenc1", "PADOF aenc1 ", 5*time.Second)
		serverMutedPad := d.do("padof aenc2", "PADOF aenc2 ", 5*time.Second)
		first := w.publish("video_0", eosPad, releasedPad, serverMutedPad)
		sid := first["participant-sid"]
		w.waitView(sid, "all four tracks", func(p map[string]*lksdk.RemoteTrackPublication) bool { return len(p) == 4 })

		// While connected: a new size reaches the track info.
		d.do("caps vcaps video/x-raw,width=480,height=360", "CAPS ", 5*time.Second)
		if !w.waitView(sid, "video_0 at 480x360 while connected", videoSize(480, 360)) {
			t.Errorf("a size change while connected did not reach the subscriber's track info")
		}
		// The server mutes one track; its media keeps flowing.
		rs := lksdk.NewRoomServiceClient(w.srv.HTTPURL(), w.srv.APIKey(), w.srv.Secret())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		mutedSID := w.publications(sid)[serverMutedPad].SID()
		_, err := rs.MutePublishedTrack(ctx, &livekit.MuteRoomTrackRequest{Room: w.room, Identity: identity,
			TrackSid: mutedSID, Muted: true})
		cancel()
		if err != nil {
			t.Fatalf("MutePublishedTrack: %v", err)
		}
		w.waitView(sid, serverMutedPad+" muted by the server", muted(serverMutedPad))
		// The element has it once it confirms (MuteTrackRequest): only then
		// break the signalling, or the server's Mute may die on the way.
		if ok, _ := eventually(5*time.Second, func() (bool, string) { return w.sentMute(mutedSID), "" }); !ok {
			t.Fatalf("the element never confirmed the server's mute of %s", serverMutedPad)
		}

		w.hold(r)
		d.do("eos asrc0", "EOS asrc0 True", 5*time.Second)
		if got := d.do("release asrc1,aenc1", "RELEASED ", 10*time.Second); got != releasedPad {
			t.Fatalf("released %s, want %s", got, releasedPad)
		}
		d.do("caps vcaps video/x-raw,width=640,height=480", "CAPS ", 5*time.Second)
		time.Sleep(time.Second) // EOS and the new caps travel to the element's pads
		n := d.count()
		r.end(w)
		back := d.waitState("connected", n, 30*time.Second, "video_0")
		newSID := back["participant-sid"]
		switch {
		case r.name == "resume" && newSID != sid:
			t.Fatalf("the resume became a full reconnect (%s -> %s): the hold did not keep the resume", sid, newSID)
		case r.name == "full" && newSID == sid:
			t.Fatalf("participant %s kept: no full reconnect", sid)
		}

		t.Run("eos-keeps-mute", func(t *testing.T) {
			if r.name == "resume" {
				if !w.waitView(newSID, eosPad+" muted", muted(eosPad)) {
					t.Errorf("%s saw EOS during the resume but the subscriber sees it unmuted", eosPad)
				}
				return
			}
			// Published again: muted from the start (AddTrackRequest.muted).
			if req := w.lastAddTrack(eosPad); req == nil || !req.GetMuted() {
				t.Errorf("the full reconnect published %s with %v, want muted", eosPad, req)
			}
			if !w.waitView(newSID, eosPad+" muted", muted(eosPad)) {
				t.Errorf("%s saw EOS during the full reconnect but the subscriber does not see it muted", eosPad)
			}
		})
		t.Run("server-mute-kept", func(t *testing.T) {
			if !w.waitView(newSID, serverMutedPad+" muted", muted(serverMutedPad)) {
				t.Errorf("%s, muted by the server, is unmuted after the %s", serverMutedPad, r.name)
			}
		})
		t.Run("released-pad-unpublished", func(t *testing.T) {
			gone := func(p map[string]*lksdk.RemoteTrackPublication) bool {
				return p["video_0"] != nil && p[releasedPad] == nil
			}
			if !w.waitView(newSID, releasedPad+" gone", gone) {
				t.Errorf("%s was released during the %s but is still published", releasedPad, r.name)
			}
		})
		t.Run("video-size", func(t *testing.T) {
			if !w.waitView(newSID, "video_0 at 640x480", videoSize(640, 480)) {
				t.Errorf("the size set during the %s did not reach the subscriber's track info", r.name)
			}
		})
	})
}

// waitView waits up to 10 s for the subscriber's view of participant sid to
// satisfy cond, logging the view it settles on.
func (w *world) waitView(sid, what string, cond func(map[string]*lksdk.RemoteTrackPublication) bool) bool {
	w.t.Helper()
	ok, desc := eventually(10*time.Second, func() (bool, string) {
		p := w.publications(sid)
		return cond(p), describe(p)
	})
	w.t.Logf("waiting for %s: %v; subscriber sees %s: %s", what, ok, sid, desc)
	return ok
}

func muted(name string) func(map[string]*lksdk.RemoteTrackPublication) bool {
	return func(p map[string]*lksdk.RemoteTrackPublication) bool { return p[name] != nil && p[name].IsMuted() }
}

func videoSize(width, height uint32) func(map[string]*lksdk.RemoteTrackPublication) bool {
	return func(p map[string]*lksdk.RemoteTrackPublication) bool {
		if p["video_0"] == nil {
			return false
		}
		ti := p["video_0"].TrackInfo()
		return ti.GetWidth() == width && ti.GetHeight() == height
	}
}

// sentMute reports whether the element sent MuteTrackRequest{muted} for sid.
func (w *world) sentMute(sid string) bool {
	for _, f := range w.proxy.Frames() {
		if m := f.Request.GetMute(); m != nil && m.GetSid() == sid && m.GetMuted() {
			return true
		}
	}
	return false
}

// lastAddTrack is the last AddTrackRequest for the track name that went
// through the proxy.
func (w *world) lastAddTrack(name string) *livekit.AddTrackRequest {
	var last *livekit.AddTrackRequest
	for _, f := range w.proxy.Frames() {
		if at := f.Request.GetAddTrack(); at != nil && at.GetName() == name {
			last = at
		}
	}
	return last
}
