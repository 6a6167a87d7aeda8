package plugin

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/signaller/signallertest"
)

// What the fake saw of the element's tracks.

// addTracks maps each AddTrackRequest's cid to its name (the pad), over
// every socket.
func addTracks(srv *signallertest.Server) map[string]string {
	names := map[string]string{}
	for _, c := range srv.Connects() {
		if c.Conn == nil {
			continue
		}
		for _, r := range c.Conn.Requests() {
			if at := r.GetAddTrack(); at != nil {
				names[at.GetCid()] = at.GetName()
			}
		}
	}
	return names
}

// lastOffer is the SDP of the newest offer the element sent on any socket,
// and how many offers it sent in all.
func lastOffer(srv *signallertest.Server) (string, int) {
	var sdp string
	n := 0
	for _, c := range srv.Connects() {
		if c.Conn == nil {
			continue
		}
		for _, r := range c.Conn.Requests() {
			if o := r.GetOffer(); o != nil {
				sdp = o.GetSdp()
				n++
			}
		}
	}
	return sdp, n
}

// offeredPads lists the pads whose track the SDP sends: an m-section with a
// msid naming the track's cid that is sendonly or sendrecv.
func offeredPads(srv *signallertest.Server, sdp string) []string {
	names := addTracks(srv)
	var pads []string
	for _, section := range strings.Split(sdp, "\nm=")[1:] {
		if !strings.Contains(section, "a=sendonly") && !strings.Contains(section, "a=sendrecv") {
			continue
		}
		for _, l := range strings.Split(section, "\n") {
			msid, ok := strings.CutPrefix(strings.TrimSpace(l), "a=msid:")
			if !ok {
				continue
			}
			if f := strings.Fields(msid); len(f) == 2 && names[f[1]] != "" {
				pads = append(pads, names[f[1]])
			}
		}
	}
	sort.Strings(pads)
	return pads
}

// waitOffered waits until the newest offer sends exactly the tracks of pads.
func waitOffered(t *testing.T, srv *signallertest.Server, timeout time.Duration, pads ...string) {
	t.Helper()
	sort.Strings(pads)
	want := strings.Join(pads, ",")
	var got string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		sdp, _ := lastOffer(srv)
		if got = strings.Join(offeredPads(srv, sdp), ","); got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the newest offer sends the tracks of [%s], want [%s]", got, want)
}

// liveConn is the newest socket the fake answered with a join or resume.
func liveConn(srv *signallertest.Server) *signallertest.Conn {
	cs := srv.Connects()
	for i := len(cs) - 1; i >= 0; i-- {
		if cs[i].Conn != nil {
			return cs[i].Conn
		}
	}
	return nil
}
