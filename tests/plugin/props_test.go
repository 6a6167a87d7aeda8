package plugin

import (
	"strings"
	"testing"
	"time"
)

// prop is one PROP line of host.py: a property of the element or of its
// signaller ("signaller::…"), as g_object_class_list_properties lists them.
type prop struct {
	name, flags, verdict string
	set, got             string // GStreamer's string form
}

func (p prop) writable() bool { return strings.Contains(p.flags, "w") }

// props runs "props <mode>" and returns its lines.
func (h *host) props(mode string) []prop {
	h.t.Helper()
	n := h.send("props " + mode)
	if _, ok := h.waitLine("PROPS done", n, 20*time.Second); !ok {
		h.t.Fatalf("props %s did not finish: %v\n%s", mode, h.linesWith("FAILED ", n), tail(h.output(), 20))
	}
	var out []prop
	for _, l := range h.linesWith("PROP ", n) {
		f := strings.SplitN(l, " ", 4)
		if len(f) < 4 {
			h.t.Fatalf("bad PROP line %q", l)
		}
		p := prop{name: f[0], flags: f[1], verdict: f[2]}
		rest, got, _ := strings.Cut(f[3], "got=")
		p.got = got
		p.set = strings.TrimSuffix(strings.TrimPrefix(rest, "set="), " ")
		out = append(out, p)
	}
	if len(out) == 0 {
		h.t.Fatalf("props %s listed no property", mode)
	}
	return out
}

// readBack is what a property reads back as after set was written: the
// documented masks (docs/properties.md, "Secrets read back masked").
func readBack(name, set string) string {
	switch name {
	case "signaller::secret-key", "signaller::auth-token":
		return "xxxxx"
	case "signaller::ws-url", "turn-servers":
		return strings.Replace(set, "user:pw", "user:xxxxx", 1)
	}
	return set
}

// Every property the element, its signaller and its request pads install
// (listed by GObject, not by hand) reads back what was written, masked
// where documented; the read-only ones refuse a write. The signaller's and
// the pads' are written once on their object and once through the
// element's child proxy (signaller::<name>, video_0::<name>, as gst-launch
// and applications do).
func TestPropertyRoundTrips(t *testing.T) {
	h := startHost(t, "golivekitsink name=lk")
	h.do("request video_%u", "PAD video_0", 10*time.Second)
	h.do("request audio_%u", "PAD audio_0", 10*time.Second)
	check := func(mode string) {
		t.Helper()
		ps := h.props(mode)
		padProps := map[string]int{}
		for _, p := range ps {
			if pad, _, ok := strings.Cut(p.name, "::"); ok && pad != "signaller" {
				padProps[pad]++
			}
		}
		if padProps["video_0"] == 0 || padProps["audio_0"] == 0 {
			t.Errorf("%s: pad properties listed %v, want the video and the audio pad's", mode, padProps)
		}
		for _, p := range ps {
			switch {
			case p.verdict == "write-only": // cannot be read back; written without a complaint
			case !p.writable() && p.verdict != "refused":
				t.Errorf("%s: read-only property %s a write", mode, p.verdict)
			case p.writable() && p.got != readBack(p.name, p.set):
				t.Errorf("%s %s: wrote %s, reads back %s, want %s", mode, p.name, p.set, p.got, readBack(p.name, p.set))
			// A secret written in "set" reads back masked before and after "child".
			case p.writable() && p.verdict != "changed" && !(mode == "child" && p.got == "xxxxx"):
				t.Errorf("%s %s: reads back %s before and after writing %s", mode, p.name, p.got, p.set)
			}
		}
		t.Logf("%s: %d properties", mode, len(ps))
	}
	check("set")
	check("child")
}

// In PLAYING, connected to the fake, a write to a property flagged
// changeable only in NULL/READY is refused with a warning in the debug log,
// and the element keeps publishing.
func TestReadyOnlyPropertiesInPlaying(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, ""))
	h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "audio_0")
	ps := h.props("state")
	log := h.debugLog()
	for _, p := range ps {
		if !strings.Contains(p.flags, "ready") {
			t.Errorf("props state listed %s (%s), not flagged ready-only", p.name, p.flags)
			continue
		}
		refused := p.verdict == "unchanged" || p.verdict == "write-only" // the WARN line below tells
		switch {
		case !refused:
			t.Errorf("%s (changeable only in NULL/READY) took %s in PLAYING", p.name, p.got)
		case !warnedAbout(log, p.name):
			t.Errorf("%s was refused in PLAYING without a WARNING in the debug log", p.name)
		}
	}
	t.Logf("%d ready-only properties, all refused in PLAYING", len(ps))
	assertSending(t, h, "audio_0")
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}

// warnedAbout reports whether the debug log has a WARN line naming prop.
func warnedAbout(log, prop string) bool {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, " WARN ") && strings.Contains(l, prop) {
			return true
		}
	}
	return false
}

// A property changeable only in NULL/READY and written in READY is what the
// session starts with: the connect reads them at READY->PAUSED, after the
// application's last chance to write them. stun-server shows it: the
// connect reports a value it cannot use.
func TestReadyOnlyPropertySetInReadyReachesTheConnect(t *testing.T) {
	srv := fakeServer(t)
	h := startHost(t, elementLaunch(srv, ""))
	h.do("branch a audio "+opusBranch, "BRANCH a audio_0", 10*time.Second)
	h.setState("READY")
	if got := h.do("eprop stun-server set-in-ready.invalid:3478", "EPROP stun-server ", 5*time.Second); !strings.Contains(got, "set-in-ready") {
		t.Fatalf("stun-server written in READY reads back %q", got)
	}
	h.setState("PLAYING")
	h.waitConnected(0, 20*time.Second, "audio_0")
	warned := false
	for _, w := range h.linesWith("WARNING ", 0) {
		warned = warned || strings.Contains(w, "stun-server") && strings.Contains(w, "set-in-ready.invalid")
	}
	if !warned {
		t.Errorf("the stun-server written in READY never reached the connect (no WARNING about it): %v", h.linesWith("WARNING ", 0))
	}
	if errs := h.errors(); len(errs) > 0 {
		t.Errorf("ERRORs on the bus: %v", errs)
	}
}
