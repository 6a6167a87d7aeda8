package plugin

import (
	"strconv"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// An application thread that calls publish-data every 2 ms keeps entering
// the plugin's Go runtime, which runs on one P (plugin/cshared/runtime.go).
// A Leave RESUME in the middle must still resume at once: the signalling,
// ICE and SCTP goroutines need the P between those calls. Before the
// element yielded at the end of each call, the resume's ICE restart took
// seconds or failed (a full reconnect 15–25 s later): the calling thread
// kept the P through its sleeps, and the goroutines woken by the network
// waited in the runtime's queue.
func TestFrequentCallsFromTheAppDoNotStallAResume(t *testing.T) {
	forEachVersion(t, func(t *testing.T, v string) {
		srv := harness.StartServer(t, harness.ServerOptions{Version: v})
		h, proxy := participantHost(t, srv, "plugin-hammer", "")
		first := h.waitConnected(0, time.Second, "audio_0")["participant-sid"]

		n := h.count()
		h.send("hammer 5 5 hammer")
		time.Sleep(time.Second)
		proxy.InjectLeave(livekit.LeaveRequest_RESUME, livekit.DisconnectReason_SIGNAL_CLOSE, nil)
		back := waitRecovered(t, h, n, 15*time.Second)
		if back["participant-sid"] != first {
			t.Fatalf("the resume became a new participant: %s -> %s", first, back["participant-sid"])
		}
		took, _ := strconv.Atoi(back["elapsed-ms"])
		t.Logf("resumed in %d ms while the app called publish-data back to back", took)
		if took > 1500 {
			t.Fatalf("the resume took %d ms (limit 1500): the element's goroutines waited for the app's thread", took)
		}
		if got, ok := h.waitLine("HAMMER ", n, 15*time.Second); ok {
			t.Logf("publish-data calls: %s", got)
		} else {
			t.Fatalf("the hammer command did not finish:\n%s", tail(h.output(), 30))
		}
		if errs := h.errors(); len(errs) > 0 {
			t.Fatalf("ERRORs: %v", errs)
		}
	})
}

// waitRecovered waits, after line after, for a resuming or reconnecting
// connection message followed by a connected one, and returns the fields
// of the connected one.
func waitRecovered(t *testing.T, h *host, after int, timeout time.Duration) map[string]string {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		recovering := false
		for _, m := range h.linesWith("MSG ", after) {
			f := harness.ParseStructure(m)
			switch st := f["state"]; {
			case st == "resuming" || st == "reconnecting":
				recovering = true
			case st == "connected" && recovering:
				return f
			}
		}
	}
	t.Fatalf("no recovery within %s:\n%s", timeout, tail(h.output(), 30))
	return nil
}
