// Package harness starts the test world: livekit-server processes, network
// namespaces with nftables faults, a signalling proxy, real GStreamer
// pipelines and a real LiveKit subscriber that records what arrives.
//
// # The cluster world
//
// StartCluster (cluster.go) runs a LiveKit deployment in a Topology's server
// namespace: redis-server, two or more livekit-server nodes of one pinned
// version with `redis.address` set, and HAProxy in front (HTTP mode with hour
// long client/server/tunnel timeouts, TCP health checks every 250 ms that
// take a node out after one failure, `balance first`). The balancer's URL,
// ws:// or wss:// with a test CA (NewTestCA, trusted through SSL_CERT_FILE),
// is the one URL a publisher gets; Cluster.NodeURL reaches a node directly.
// Every process binds the namespace's ServerAddr on ports of its own, runs
// as a child of the test, and is stopped by PID on t.Cleanup.
//
// A room is placed on a random available node, so tests start one node,
// join, then StartNode the others; Cluster.RoomNode reads the room -> node
// map from Redis. Faults: Drain (1st SIGTERM), ForceStop (2nd SIGTERM:
// Leave{DISCONNECT, SERVER_SHUTDOWN} to everyone), Kill (SIGKILL; the others
// treat the node as gone once its stats in Redis are 5 s old), StartNode
// again, RestartBalancer (SIGKILL and start: every signalling socket cut),
// RestartRedis (SIGTERM, which saves its data, an outage, start; WaitHealthy
// then waits until every running node is registered again).
package harness
