package signaller

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	tests := []struct {
		in, want string
		secrets  []string
	}{
		{"wss://h.example:7880", "wss://h.example:7880", nil},
		{"wss://h.example/?access_token=SECRET1", "wss://h.example/?access_token=xxxxx", []string{"SECRET1"}},
		{"wss://h.example/rtc?protocol=16&token=S2&sdk=gstreamer", "wss://h.example/rtc?protocol=16&token=xxxxx&sdk=gstreamer", []string{"S2"}},
		{"wss://h.example/?API_KEY=S3&Signature=S4&x-amz-credential=S5", "wss://h.example/?API_KEY=xxxxx&Signature=xxxxx&x-amz-credential=xxxxx", []string{"S3", "S4", "S5"}},
		{"wss://h.example/?t=" + jwt, "wss://h.example/?t=xxxxx", []string{jwt}},
		{"wss://user:pa55@h.example/", "wss://user:xxxxx@h.example/", []string{"pa55"}},
		{"wss://" + jwt + "@h.example/", "wss://xxxxx@h.example/", []string{jwt}},
		{"https://h.example/#access_token=S6", "https://h.example/#xxxxx", []string{"S6"}},
		{"turns://alice:pw0rd@turn.example:443?transport=tcp", "turns://alice:xxxxx@turn.example:443?transport=tcp", []string{"pw0rd"}},
		{"turn:alice:pw0rd@turn.example", "turn:xxxxx@turn.example", []string{"pw0rd"}},
		{"turn:/alice:pw0rd@turn.example:3478", "turn:/xxxxx@turn.example:3478", []string{"pw0rd"}},
		{"turns:///alice:pw0rd@turn.example", "turns:///xxxxx@turn.example", []string{"pw0rd"}},
		{"turns:/alice:pw%zzrd@turn.example", "turns:/xxxxx@turn.example", []string{"pw%zzrd"}},
		// url.Parse rejects these; the secrets still go.
		{"wss://u:p%zz@h.example/x?access_token=S7", "wss://xxxxx@h.example/x?xxxxx", []string{"p%zz", "S7"}},
		{"wss://h .example/?token=S8", "wss://h .example/?xxxxx", []string{"S8"}},
		{"u:S9@h.example:7880", "u:xxxxx@h.example:7880", []string{"S9"}},
	}
	for _, tc := range tests {
		got := RedactURL(tc.in)
		if got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		for _, s := range tc.secrets {
			if strings.Contains(got, s) {
				t.Errorf("RedactURL(%q) = %q still holds %q", tc.in, got, s)
			}
		}
	}
}
