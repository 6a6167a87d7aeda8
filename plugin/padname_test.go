package plugin

import "testing"

// A requested name is kept and moves the counter past it; a name that is
// not the template's prefix and a number is refused.
func TestPadName(t *testing.T) {
	next := uint(0)
	for _, c := range []struct {
		requested, want string
		fails           bool
	}{
		{"", "video_0", false},
		{"video_5", "video_5", false},
		{"", "video_6", false},
		{"video_2", "video_2", false},
		{"", "video_7", false},
		{"audio_1", "", true},
		{"video_x", "", true},
	} {
		got, err := padName("video_", c.requested, &next)
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("padName(%q) = %q, %v; want %q (fails %v)", c.requested, got, err, c.want, c.fails)
		}
	}
}
