package harness

import (
	"testing"
	"time"
)

// The cluster world itself: a join through the balancer places the room on
// the only node, Redis says so, and the room -> node map survives a Redis
// restart; the balancer comes back on its address after a restart.
func TestCluster(t *testing.T) {
	for _, v := range Versions() {
		t.Run(v, func(t *testing.T) {
			tp := NewTopology(t)
			c := StartCluster(t, tp, ClusterOptions{Version: v, Nodes: 2, Started: 1})
			const room = "cluster-harness"
			Subscribe(t, c.URL(), c.APIKey(), c.Secret(), room, "")
			c.StartNode(1)
			if c.Node(0).NodeID() == "" || c.Node(0).NodeID() == c.Node(1).NodeID() {
				t.Fatalf("node ids %q and %q", c.Node(0).NodeID(), c.Node(1).NodeID())
			}
			if got := c.RoomNode(room); got != 0 {
				t.Fatalf("RoomNode = %d, want 0", got)
			}
			c.RestartRedis(time.Second)
			took := time.Since(c.WaitHealthy(15 * time.Second))
			t.Logf("healthy again %s after Redis answered", took)
			if got := c.RoomNode(room); got != 0 {
				t.Errorf("after the Redis restart RoomNode = %d, want 0", got)
			}
			c.RestartBalancer()
			sub, err := TrySubscribe(t, c.URL(), c.APIKey(), c.Secret(), room, "")
			if err != nil {
				t.Fatalf("join through the restarted balancer: %v", err)
			}
			sub.Close()
			c.Kill(0)
			if c.Node(0).Running() {
				t.Errorf("node 0 still runs after Kill")
			}
		})
	}
}
