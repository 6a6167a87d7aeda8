package plugin

import (
	"flag"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"

	"github.com/golivekitsink/golivekitsink/internal/docgen"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated property tables in docs/properties.md")

var initOnce sync.Once

// initGStreamer initialises GStreamer once per test binary and registers
// the element in-process. No plugin is loaded: an installed
// libgstgolivekit.so would make Register fail, and these tests need only
// GStreamer's core types.
func initGStreamer(t *testing.T) {
	initOnce.Do(func() {
		empty, err := os.MkdirTemp("", "golivekit-plugin-test")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(empty) // gst.Init has scanned it (nothing) and written its registry by then
		for name, value := range map[string]string{
			"GST_PLUGIN_SYSTEM_PATH_1_0": empty, "GST_PLUGIN_PATH_1_0": empty,
			"GST_REGISTRY_1_0": filepath.Join(empty, "registry.bin"),
		} {
			t.Setenv(name, value)
		}
		gst.Init(nil)
	})
	if err := Register(); err != nil {
		t.Fatal(err)
	}
}

// TestPropertiesDoc wants the property tables of docs/properties.md to be
// what the code's property tables render.
func TestPropertiesDoc(t *testing.T) {
	initGStreamer(t)
	docgen.Check(t, "../docs/properties.md", "element-properties", propertiesDoc(elementProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "signaller-properties", propertiesDoc(signallerProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "video-pad-properties", propertiesDoc(videoPadProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "audio-pad-properties", propertiesDoc(audioPadProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "text-pad-properties", propertiesDoc(textPadProperties), *updateDocs)
}

// TestNewObjectsHoldTheDefaults wants a new element and signaller to read
// back, through their getters, the defaults their param specs (and so
// gst-inspect and the doc) announce.
func TestNewObjectsHoldTheDefaults(t *testing.T) {
	initGStreamer(t)
	el, err := gst.NewElement("golivekitsink")
	if err != nil {
		t.Fatal(err)
	}
	e := glib.FromObjectUnsafePrivate(el.Unsafe()).(*element)
	checkDefaults(t, elementProperties, e, e.lock)
	checkDefaults(t, signallerProperties, e.sig, e.sig.lock)
	for tmpl, props := range map[string][]property[*sinkPad]{"video_%u": videoPadProperties, "audio_%u": audioPadProperties} {
		pad := el.GetRequestPad(tmpl)
		if pad == nil {
			t.Fatalf("no pad from %s", tmpl)
		}
		p := padOf(pad.Unsafe())
		if p == nil {
			t.Fatalf("%s: the pad is a %s, not of our pad class", pad.GetName(), pad.TypeFromInstance().Name())
		}
		checkDefaults(t, props, p, p.lockProps)
		el.ReleaseRequestPad(pad)
	}
}

func checkDefaults[S any](t *testing.T, props []property[S], s S, lock func() func()) {
	t.Helper()
	for id, p := range props {
		if p.doc.def != "" { // documented as differing from the spec's default
			continue
		}
		got := p.value.valueDoc(getProperty(props, s, lock, uint(id)))
		if want := p.value.defaultDoc(); got != want {
			t.Errorf("%s: a new object reads back %s, its spec's default is %s", p.name, got, want)
		}
	}
}
