package harness

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
)

// SDKPublisher is a reference publisher built on server-sdk-go that sends
// pre-encoded files (.h264 Annex-B, .ivf, .ogg) in real time. It exercises
// the subscriber side of the harness without the element, and is the
// baseline the element is compared with.
type SDKPublisher struct {
	Room     *lksdk.Room
	Identity string
	mu       sync.Mutex
	done     int
	doneCh   chan struct{}
	n        int
}

// PublishFiles joins room as identity and publishes one track per file.
// Video files are paced at frameDuration per frame. Disconnects on t.Cleanup.
func PublishFiles(t testing.TB, url, key, secret, room, identity string, frameDuration time.Duration, files ...string) *SDKPublisher {
	t.Helper()
	r, err := lksdk.ConnectToRoom(url, lksdk.ConnectInfo{APIKey: key, APISecret: secret, RoomName: room,
		ParticipantIdentity: identity}, lksdk.NewRoomCallback(), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatalf("harness: sdk publisher join: %v", err)
	}
	p := &SDKPublisher{Room: r, Identity: identity, doneCh: make(chan struct{}), n: len(files)}
	t.Cleanup(r.Disconnect)
	for _, f := range files {
		opts := []lksdk.ReaderSampleProviderOption{lksdk.ReaderTrackWithOnWriteComplete(p.complete)}
		if !strings.HasSuffix(f, ".ogg") {
			opts = append(opts, lksdk.ReaderTrackWithFrameDuration(frameDuration))
		}
		tr, err := lksdk.NewLocalFileTrack(f, opts...)
		if err != nil {
			t.Fatalf("harness: sdk publisher track %s: %v", f, err)
		}
		if _, err := r.LocalParticipant.PublishTrack(tr, &lksdk.TrackPublicationOptions{Name: filepath.Base(f)}); err != nil {
			t.Fatalf("harness: sdk publisher publish %s: %v", f, err)
		}
	}
	return p
}

func (p *SDKPublisher) complete() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.done == p.n {
		close(p.doneCh)
	}
}

// Wait waits until every file was sent; false on timeout.
func (p *SDKPublisher) Wait(timeout time.Duration) bool {
	select {
	case <-p.doneCh:
		return true
	case <-time.After(timeout):
		return false
	}
}
