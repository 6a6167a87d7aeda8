package signaller

import (
	"strings"
	"testing"

	"github.com/livekit/protocol/livekit"
)

func pinOSRelease(t *testing.T, v string) {
	t.Helper()
	old := osRelease
	osRelease = func() string { return v }
	t.Cleanup(func() { osRelease = old })
}

func TestBuildURL(t *testing.T) {
	pinOSRelease(t, "6.1.0-13-amd64")
	const q = "?auto_subscribe=0&adaptive_stream=0&protocol=16&sdk=gstreamer&version=0.1.0&os=linux&os_version=6.1.0-13-amd64"
	resume := URLParams{Reconnect: true, SID: "PA_abc", Reason: livekit.ReconnectReason_RR_PUBLISHER_FAILED}
	tests := []struct {
		name, in string
		p        URLParams
		want     string
		wantErr  string
	}{
		{"wss kept", "wss://x.livekit.cloud", URLParams{}, "wss://x.livekit.cloud/rtc" + q, ""},
		{"ws kept", "ws://localhost:7880", URLParams{}, "ws://localhost:7880/rtc" + q, ""},
		{"http to ws", "http://localhost:7880", URLParams{}, "ws://localhost:7880/rtc" + q, ""},
		{"https to wss", "https://h.example", URLParams{}, "wss://h.example/rtc" + q, ""},
		{"uppercase scheme", "HTTPS://h.example", URLParams{}, "wss://h.example/rtc" + q, ""},
		{"trailing slash", "wss://h.example/", URLParams{}, "wss://h.example/rtc" + q, ""},
		{"path kept", "wss://h.example/lk", URLParams{}, "wss://h.example/lk/rtc" + q, ""},
		{"path with slash", "wss://h.example/lk/", URLParams{}, "wss://h.example/lk/rtc" + q, ""},
		{"query dropped", "wss://h.example/?access_token=SECRET", URLParams{}, "wss://h.example/rtc" + q, ""},
		{"resume", "wss://h.example", resume, "wss://h.example/rtc" + q + "&reconnect=1&sid=PA_abc&reconnect_reason=2", ""},
		{"resume unknown reason still sent", "wss://h.example", URLParams{Reconnect: true, SID: "PA_x"},
			"wss://h.example/rtc" + q + "&reconnect=1&sid=PA_x&reconnect_reason=0", ""},
		{"reason ignored without reconnect", "wss://h.example", URLParams{SID: "PA_x", Reason: 1}, "wss://h.example/rtc" + q, ""},
		{"bad scheme", "ftp://h.example", URLParams{}, "", "signaller::ws-url"},
		{"no scheme", "h.example:7880", URLParams{}, "", "signaller::ws-url"},
		{"empty", "", URLParams{}, "", "signaller::ws-url"},
		{"no host", "wss:///rtc", URLParams{}, "", "signaller::ws-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildURL(tt.in, tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("BuildURL(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("BuildURL(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Fatalf("BuildURL(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestBuildURLOmitsEmptyOSVersion(t *testing.T) {
	pinOSRelease(t, "")
	got, err := BuildURL("wss://h.example", URLParams{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "os_version") || !strings.HasSuffix(got, "&os=linux") {
		t.Fatalf("got %s", got)
	}
}
