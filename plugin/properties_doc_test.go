package plugin

import (
	"flag"
	"testing"

	"github.com/go-gst/go-gst/gst"

	"github.com/golivekitsink/golivekitsink/internal/docgen"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated property tables in docs/properties.md")

// TestPropertiesDoc wants the property tables of docs/properties.md to be
// what the code's property tables render.
func TestPropertiesDoc(t *testing.T) {
	gst.Init(nil)
	if err := Register(); err != nil { // the signaller's GType names the signaller property's type
		t.Fatal(err)
	}
	docgen.Check(t, "../docs/properties.md", "element-properties", propertiesDoc(elementProperties), *updateDocs)
	docgen.Check(t, "../docs/properties.md", "signaller-properties", propertiesDoc(signallerProperties), *updateDocs)
}
