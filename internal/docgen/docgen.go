// Package docgen keeps tables in docs/ that are generated from code in step
// with it: tests render a table from the code and Check compares it with
// the part of the doc between <!-- name:begin --> and <!-- name:end -->.
package docgen

import (
	"os"
	"strings"
	"testing"
)

// Check fails t when the part of the file doc between the markers of name
// is not want; with update it rewrites that part instead. The failure says
// how to update: go test <pkg> -run <test> -update.
func Check(t testing.TB, doc, name, want string, update bool) {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->\n", "<!-- "+name+":end -->"
	before, rest, okBegin := strings.Cut(string(b), begin)
	got, after, okEnd := strings.Cut(rest, end)
	if !okBegin || !okEnd {
		t.Fatalf("%s lacks the %q … %q markers", doc, begin, end)
	}
	if got == want {
		return
	}
	if update {
		if err := os.WriteFile(doc, []byte(before+begin+want+end+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s (%s) is out of date; run go test -run %s -update\n--- doc\n%s--- code\n%s", doc, name, t.Name(), got, want)
}
