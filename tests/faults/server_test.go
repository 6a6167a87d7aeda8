package faults

import (
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	"github.com/livekit/protocol/livekit"
)

// kill -9 of the server, back 2 s later: the element must be publishing
// again within 5 s of the server's return, without an ERROR.
func TestServerKilledAndRestarted(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		w := newWorld(t, v, worldOptions{})
		w.waitPublishing()
		n := w.messageCount()
		w.srv.Kill()
		time.Sleep(2 * time.Second)
		w.srv.Restart()
		back := time.Now()
		f := w.connectedAfter(n, 15*time.Second)
		took := time.Since(back)
		// The old subscriber died with the server; a new one must see media.
		sub := harness.Subscribe(t, w.srv.URL(), w.srv.APIKey(), w.srv.Secret(), w.room, "")
		if err := sub.WaitForPackets("video", 30, 10*time.Second); err != nil {
			t.Fatalf("no media after the restart: %v", err)
		}
		t.Logf("GAP fault=%q server=%s publishing-again-after-back=%s new-sid=%s", "server kill -9, back after 2s", v, took.Round(time.Millisecond), f["participant-sid"])
		if took > 5*time.Second {
			t.Errorf("publishing again %s after the server came back, want <= 5s", took)
		}
	})
}

// Two servers as two regions behind a "project URL" (the proxy) that serves
// /settings/regions. When the first region dies, the element moves to the
// second within 3 s.
func TestRegionFailover(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		second := harness.StartServer(t, harness.ServerOptions{Version: v})
		w := newWorld(t, v, worldOptions{proxy: true, elemProps: "region-failover=true"})
		w.proxy.ServeRegions(&livekit.RegionSettings{Regions: []*livekit.RegionInfo{
			{Region: "first", Url: w.srv.URL(), Distance: 1},
			{Region: "second", Url: second.URL(), Distance: 2},
		}})
		w.waitPublishing()
		sub2 := harness.Subscribe(t, second.URL(), second.APIKey(), second.Secret(), w.room, "")
		n := w.messageCount()
		cut := time.Now()
		w.srv.Kill()
		if err := sub2.WaitForPackets("video", 5, 10*time.Second); err != nil {
			t.Fatalf("no media on the second region: %v", err)
		}
		took := sub2.FirstPacketAt("video").Sub(cut)
		f := w.connectedAfter(n, time.Second)
		t.Logf("GAP fault=%q server=%s video=%s url=%s", "region failover", v, took.Round(time.Millisecond), f["url"])
		if took > 3*time.Second {
			t.Errorf("media on the second region %s after the first died, want <= 3s", took)
		}
		if len(w.proxy.RegionRequests()) == 0 {
			t.Errorf("the element never asked for /settings/regions")
		}
	})
}
