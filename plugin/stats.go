package plugin

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/go-gst/go-glib/glib"
	"github.com/golivekitsink/golivekitsink/session"
)

// The stats property: an application/x-webrtcsink-stats structure as on
// the reference element, with what golivekitsink knows instead of
// webrtcbin's stats: the connection, the uplink estimate, recovery counts,
// and one nested track-stats structure per published pad.

// connStats is the handler's record of the connection for stats readers
// (any thread); OnStateChange is its only writer.
type connStats struct {
	last           atomic.Pointer[session.StateChange]
	resumes        atomic.Uint64
	fullReconnects atomic.Uint64
}

func (c *connStats) record(sc session.StateChange) {
	prev := c.last.Swap(&sc)
	switch {
	case sc.State == session.StateResuming && (prev == nil || prev.State != session.StateResuming):
		c.resumes.Add(1)
	case sc.State == session.StateReconnecting && (prev == nil || prev.State != session.StateReconnecting):
		c.fullReconnects.Add(1)
	}
}

// statsValue builds the stats property's value. It takes element.mu itself.
func (e *element) statsValue() *glib.Value {
	s := e.statsString()
	return structureValue(&s)
}

func (e *element) statsString() string {
	e.mu.Lock()
	h, sess := e.handler, e.sess
	var pads []*sinkPad
	for _, p := range e.pads {
		if !p.released {
			pads = append(pads, p)
		}
	}
	e.mu.Unlock()
	sort.Slice(pads, func(i, j int) bool { return pads[i].name < pads[j].name })

	// goroutines: the plugin's whole Go runtime (every element in the
	// process), for leak checks across state changes and long runs.
	f := []string{"application/x-webrtcsink-stats", fmt.Sprintf("goroutines=(int)%d", runtime.NumGoroutine())}
	if h != nil {
		if sc := h.conn.last.Load(); sc != nil {
			f = append(f, "state="+gstString(sc.State.String()), "participant-sid="+gstString(sc.ParticipantSID),
				"region="+gstString(sc.Region), "transport="+gstString(sc.Transport))
		}
		f = append(f, fmt.Sprintf("resumes=(guint64)%d", h.conn.resumes.Load()),
			fmt.Sprintf("full-reconnects=(guint64)%d", h.conn.fullReconnects.Load()))
	}
	if sess != nil {
		f = append(f, fmt.Sprintf("target-bitrate=(uint)%d", sess.TargetBitrate()))
	}
	for _, p := range pads {
		t := p.track.Load()
		if t == nil {
			continue
		}
		st := t.Stats()
		inner := fmt.Sprintf("track-stats, track-sid=%s, codec=%s, frames-sent=(guint64)%d, frames-dropped=(guint64)%d, "+
			"packets-sent=(guint64)%d, bytes-sent=(guint64)%d, nack-count=(guint64)%d, pli-count=(guint64)%d, "+
			"fir-count=(guint64)%d, round-trip-time=(double)%g, fraction-lost=(double)%g;",
			gstString(t.SID()), gstString(t.Spec().Codec.MimeType()), st.FramesSent, st.FramesDropped,
			st.PacketsSent, st.BytesSent, st.NACKs, st.PLIs, st.FIRs, st.RTT.Seconds(), st.FractionLost)
		inner = strings.TrimSuffix(inner, ";") + p.layerStatsFields(t) + ";"
		f = append(f, p.name+"=(structure)"+gstQuote(inner))
	}
	return strings.Join(f, ", ") + ";"
}

// gstString is a (string) field value in GstStructure text form.
func gstString(s string) string { return "(string)" + gstQuote(s) }

// gstQuote quotes s for GstStructure text, escaping what would end it.
func gstQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
