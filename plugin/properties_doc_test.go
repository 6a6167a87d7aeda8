package plugin

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/go-gst/go-gst/gst"
)

var updateDocs = flag.Bool("update", false, "rewrite the generated property tables in docs/properties.md")

const propertiesDocPath = "../docs/properties.md"

// TestPropertiesDoc wants the tables of docs/properties.md to be what the
// property tables render; -update rewrites them.
func TestPropertiesDoc(t *testing.T) {
	gst.Init(nil)
	if err := Register(); err != nil { // the signaller's GType names the signaller property's type
		t.Fatal(err)
	}
	b, err := os.ReadFile(propertiesDocPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, section := range []struct{ marker, table string }{
		{"element-properties", propertiesDoc(elementProperties)},
		{"signaller-properties", propertiesDoc(signallerProperties)},
	} {
		before, rest, ok1 := strings.Cut(doc, "<!-- "+section.marker+":begin -->\n")
		got, after, ok2 := strings.Cut(rest, "<!-- "+section.marker+":end -->")
		if !ok1 || !ok2 {
			t.Fatalf("%s lacks the <!-- %s:begin/end --> markers", propertiesDocPath, section.marker)
		}
		if got != section.table {
			if !*updateDocs {
				t.Errorf("%s, %s, is out of date; run go test ./plugin -run TestPropertiesDoc -update\n--- doc\n%s--- code\n%s",
					propertiesDocPath, section.marker, got, section.table)
			}
			doc = before + "<!-- " + section.marker + ":begin -->\n" + section.table + "<!-- " + section.marker + ":end -->" + after
		}
	}
	if *updateDocs {
		if err := os.WriteFile(propertiesDocPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
