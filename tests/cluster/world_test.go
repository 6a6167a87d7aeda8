// Package cluster runs real gst-launch pipelines (H264 + Opus into
// golivekitsink) against a LiveKit cluster of the pinned server versions:
// redis-server, livekit-server nodes and an HAProxy balancer in a network
// namespace (harness.StartCluster). The element is given only the
// balancer's URL. The tests break the cluster the way operations do
// (rolling deploys, crashes, balancer and Redis restarts) and assert that
// the pipeline never posts an ERROR and how soon a subscriber sees video.
package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

const identity = "pub"

// world is one publisher pipeline in the publisher namespace, a cluster in
// the server namespace and a subscriber in the test process.
type world struct {
	t    *testing.T
	tp   *harness.Topology
	c    *harness.Cluster
	sub  *harness.Subscriber
	pipe *harness.Pipeline
	room string

	allowError bool // the test expects the pipeline to end with an ERROR
}

type worldOptions struct {
	tls bool
	// envCA: the pipeline trusts the cluster's test CA through SSL_CERT_FILE.
	envCA bool
	// env for gst-launch ("K=V"), e.g. SSL_CERT_FILE.
	env []string
	// subscriberNode: the subscriber joins this node directly instead of
	// the balancer, so faults of the balancer do not touch it.
	subscriberNode int
	// noWait: do not wait for media or start the other nodes.
	noWait bool
}

// launchLine is the publisher: live H264 (a keyframe every 10 s unless the
// element asks for one) and Opus into golivekitsink.
func launchLine(wsURL, key, secret, room string) string {
	return fmt.Sprintf("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "+
		"x264enc tune=zerolatency speed-preset=ultrafast key-int-max=300 bitrate=400 ! "+
		"golivekitsink name=lk signaller::ws-url=%s signaller::api-key=%s signaller::secret-key=%s "+
		"signaller::room-name=%s signaller::identity=%s "+
		"audiotestsrc is-live=true wave=ticks ! opusenc ! lk.", wsURL, key, secret, room, identity)
}

// newWorld starts a two-node cluster with only node 0 running, a subscriber
// and the publisher, waits until video and audio flow, then starts node 1:
// the room is on node 0 (checked through Redis) and node 1 is where it
// moves when node 0 goes.
func newWorld(t *testing.T, version string, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, room: "cluster-" + strings.NewReplacer("/", "-", ".", "-").Replace(t.Name())}
	w.tp = harness.NewTopology(t)
	w.c = harness.StartCluster(t, w.tp, harness.ClusterOptions{Version: version, Nodes: 2, Started: 1, TLS: o.tls})
	subURL := w.c.NodeURL(o.subscriberNode)
	w.sub = harness.Subscribe(t, subURL, w.c.APIKey(), w.c.Secret(), w.room, "")
	env := o.env
	if o.envCA {
		env = append(env, "SSL_CERT_FILE="+w.c.CA.CAFile)
	}
	w.pipe = harness.RunPipelineNetns(t, w.tp.PubNS, launchLine(w.c.URL(), w.c.APIKey(), w.c.Secret(), w.room), env...)
	if o.noWait {
		t.Cleanup(w.finish)
		return w
	}
	w.waitPublishing(w.sub)
	w.c.StartNode(1)
	t.Cleanup(w.finish) // after node 1's: runs before the cluster goes down
	if n := w.c.RoomNode(w.room); n != 0 {
		t.Fatalf("the room is on node %d, want node 0", n)
	}
	time.Sleep(500 * time.Millisecond) // the balancer's health check sees node 1
	return w
}

// waitPublishing waits until sub receives video and audio.
func (w *world) waitPublishing(sub *harness.Subscriber) {
	w.t.Helper()
	for _, kind := range []string{"video", "audio"} {
		if err := sub.WaitForPackets(kind, 50, 20*time.Second); err != nil {
			w.t.Fatalf("publishing never started: %v\n%s", err, w.pipe.Output())
		}
	}
}

// subscribeAgain is the viewer after its node died: once the element
// reports "connected" again (a message after the first n), a new subscriber
// joins through node i directly, retrying while the cluster still routes the
// room to a dead node. It returns the subscriber once it receives video, and
// when the element was connected again. The old subscriber is closed
// afterwards (closing it can block on its dead node for seconds).
func (w *world) subscribeAgain(old *harness.Subscriber, node, n int, timeout time.Duration) (*harness.Subscriber, time.Time) {
	w.t.Helper()
	defer old.Close()
	deadline := time.Now().Add(timeout)
	w.connectedAfter(n, timeout)
	reconnected := time.Now()
	var lastErr error
	for time.Now().Before(deadline) {
		sub, err := harness.TrySubscribe(w.t, w.c.NodeURL(node), w.c.APIKey(), w.c.Secret(), w.room, "",
			lksdk.WithConnectTimeout(3*time.Second))
		if err != nil {
			lastErr = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err := sub.WaitForPackets("video", 1, time.Until(deadline)); err != nil {
			w.t.Fatalf("the new subscriber got no video: %v\nconnection messages:\n%s", err, w.connectionLog())
		}
		return sub, reconnected
	}
	w.t.Fatalf("no subscriber could join node %d within %s: %v\nconnection messages:\n%s", node, timeout, lastErr, w.connectionLog())
	return nil, time.Time{}
}

// connectedAfter waits for a "connected" element message newer than the
// first n ones and returns its fields.
func (w *world) connectedAfter(n int, timeout time.Duration) map[string]string {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msgs := w.pipe.ElementMessages("golivekitsink-connection")
		for i := n; i < len(msgs); i++ {
			if f := harness.ParseStructure(msgs[i]); f["state"] == "connected" {
				return f
			}
		}
		if w.pipe.Exited() {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("no connected message within %s; messages:\n%s", timeout, w.connectionLog())
	return nil
}

func (w *world) messageCount() int { return len(w.pipe.ElementMessages("golivekitsink-connection")) }

func (w *world) connectionLog() string {
	return strings.Join(w.pipe.ElementMessages("golivekitsink-connection"), "\n")
}

// participantSID is the publisher's SID as the element reported it last.
func (w *world) participantSID() string {
	msgs := w.pipe.ElementMessages("golivekitsink-connection")
	for i := len(msgs) - 1; i >= 0; i-- {
		if f := harness.ParseStructure(msgs[i]); f["state"] == "connected" {
			return f["participant-sid"]
		}
	}
	return ""
}

// finish checks the pipeline and ends it before the cluster's teardown
// could make it post anything.
func (w *world) finish() {
	w.assertNoError()
	w.pipe.Kill()
}

func (w *world) assertNoError() {
	if w.allowError {
		return
	}
	if errs := w.pipe.Errors(); len(errs) > 0 {
		w.t.Errorf("the pipeline posted an ERROR:\n%s", strings.Join(errs, "\n"))
	}
	if w.pipe.Exited() && w.pipe.ExitCode() != 0 {
		w.t.Errorf("gst-launch exited with %d", w.pipe.ExitCode())
	}
}

// firstVideoAfter is the arrival of sub's first video packet at or after
// at, zero if none within timeout.
func firstVideoAfter(sub *harness.Subscriber, at time.Time, timeout time.Duration) time.Time {
	deadline := time.Now().Add(timeout)
	for {
		for _, tr := range sub.TracksOf("video") {
			for _, p := range tr.Packets {
				if !p.At.Before(at) {
					return p.At
				}
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// report logs one measurement line (the bench target collects GAP lines).
func report(t *testing.T, fault string, took time.Duration, extra string) {
	t.Logf("GAP fault=%q server=%s first-video-after=%s %s", fault, versionOf(t), took.Round(time.Millisecond), extra)
}

func versionOf(t *testing.T) string {
	parts := strings.Split(t.Name(), "/")
	for _, p := range parts {
		if strings.HasPrefix(p, "v1.") {
			return p
		}
	}
	return parts[len(parts)-1]
}

func forEachVersion(t *testing.T, f func(t *testing.T, version string)) {
	for _, v := range harness.Versions() {
		t.Run(v, func(t *testing.T) { f(t, v) })
	}
}
