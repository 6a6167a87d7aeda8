package plugin

import "testing"

func TestCaptionOf(t *testing.T) {
	for _, c := range []struct {
		media, format, raw string
		want               caption
	}{
		{"text/x-raw", "utf8", "Hello <world> & co\x00", caption{text: "Hello <world> & co"}},
		{"text/x-raw", "pango-markup", "<i>Hello</i> <b>big</b> &amp; <span foreground=\"red\">world</span>", caption{text: "Hello big & world"}},
		{"application/x-subtitle-vtt", "", "cue-7\n00:00:01.000 --> 00:00:02.000 align:start\n<v Anna>Hi <b>there</b></v>\nsecond line\n", caption{id: "cue-7", text: "Hi there\nsecond line"}},
		{"application/x-subtitle-vtt", "", "00:01.000 --> 00:02.000\nno id", caption{text: "no id"}},
		{"application/x-subtitle-vtt", "", "just the payload", caption{text: "just the payload"}},
	} {
		if got := captionOf(c.media, c.format, c.raw); got != c.want {
			t.Errorf("captionOf(%s %s, %q) = %+v, want %+v", c.media, c.format, c.raw, got, c.want)
		}
	}
}
