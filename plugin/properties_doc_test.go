package plugin

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/go-gst/go-gst/gst"

	"github.com/golivekitsink/golivekitsink/internal/docgen"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated property tables in docs/properties.md")

// TestPropertiesDoc wants the property tables of docs/properties.md to be
// what the code's property tables render.
func TestPropertiesDoc(t *testing.T) {
	// No plugin is loaded: an installed libgstgolivekit.so would make
	// Register fail, and the tables need only GStreamer's core types.
	empty := t.TempDir()
	t.Setenv("GST_PLUGIN_SYSTEM_PATH_1_0", empty)
	t.Setenv("GST_PLUGIN_PATH_1_0", empty)
	t.Setenv("GST_REGISTRY_1_0", filepath.Join(empty, "registry.bin"))
	gst.Init(nil)
	if err := Register(); err != nil { // the signaller's GType names the signaller property's type
		t.Fatal(err)
	}
	docgen.Check(t, "../docs/properties.md", "element-properties", propertiesDoc(elementProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "signaller-properties", propertiesDoc(signallerProperties), *updateDocs)
}
