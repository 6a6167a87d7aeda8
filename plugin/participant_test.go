package plugin

import (
	"maps"
	"testing"
)

// A structure's fields become attributes; changing the structure sends the
// changed and new fields, and removed fields with an empty value.
func TestParticipantAttributesFromStructures(t *testing.T) {
	initGStreamer(t)
	s := func(v string) *string { return &v }
	old := structureFields(s(`attrs, kind=encoder, floor=2, note=(string)"a b"`))
	if want := map[string]string{"kind": "encoder", "floor": "2", "note": "a b"}; !maps.Equal(old, want) {
		t.Fatalf("fields %v, want %v", old, want)
	}
	now := structureFields(s("x, kind=(string)camera, note=(string)\"a b\", room=(string)hall"))
	got := attributeChanges(old, now)
	if want := map[string]string{"kind": "camera", "floor": "", "room": "hall"}; !maps.Equal(got, want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	if got := structureFields(nil); got != nil {
		t.Fatalf("NULL structure: %v", got)
	}
	if got := attributeChanges(now, nil); len(got) != 3 || got["kind"] != "" {
		t.Fatalf("all removed: %v", got)
	}
}
