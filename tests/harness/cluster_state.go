package harness

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Healthy reports whether Redis answers and every running node has
// registered itself there.
func (c *Cluster) Healthy() bool {
	out, err := c.redisCLI("HKEYS", "nodes")
	if err != nil {
		return false
	}
	registered := strings.Fields(out)
	for i := range c.nodeOpts {
		n := c.Node(i)
		if n == nil || !n.Running() {
			continue
		}
		if id := n.NodeID(); id == "" || !slices.Contains(registered, id) {
			return false
		}
	}
	return true
}

// WaitHealthy waits until Healthy and returns when it became so.
func (c *Cluster) WaitHealthy(timeout time.Duration) time.Time {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for !c.Healthy() {
		if time.Now().After(deadline) {
			c.t.Fatalf("harness: cluster not healthy within %s", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Now()
}

// RoomNode returns the index of the node that holds room according to
// Redis (the room -> node map every node reads), or -1 when no running
// node of this cluster holds it.
func (c *Cluster) RoomNode(room string) int {
	c.t.Helper()
	out, err := c.redisCLI("HGET", "room_node_map", room)
	if err != nil {
		c.t.Fatalf("harness: %v", err)
	}
	id := strings.TrimSpace(out)
	for i := range c.nodeOpts {
		if n := c.Node(i); n != nil && id != "" && n.NodeID() == id {
			return i
		}
	}
	return -1
}

// redisCLI runs one redis-cli command against the cluster's Redis.
func (c *Cluster) redisCLI(args ...string) (string, error) {
	argv := append([]string{"ip", "netns", "exec", c.Topo.SrvNS, "redis-cli", "-h", c.Topo.ServerAddr, "-p", fmt.Sprint(c.redisPort)}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return "", fmt.Errorf("redis-cli %s: %w", strings.Join(args, " "), err)
	}
	// redis-cli exits 0 on server errors too, printing "ERR …" / "(error) …".
	if s := string(out); strings.HasPrefix(s, "ERR") || strings.HasPrefix(s, "(error)") || strings.Contains(s, "Could not connect") {
		return "", fmt.Errorf("redis-cli %s: %s", strings.Join(args, " "), strings.TrimSpace(s))
	}
	return string(out), nil
}

func dialOnce(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return conn.Close()
}
