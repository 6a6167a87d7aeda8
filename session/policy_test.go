package session

import (
	"testing"
	"time"
)

func TestBackoffStartsAtOnceAndIsBounded(t *testing.T) {
	if d := backoff(1, true); d != 0 {
		t.Fatalf("first attempt waits %s, want 0", d)
	}
	if d := backoff(2, true); d != 300*time.Millisecond {
		t.Fatalf("second attempt waits %s, want 300ms (no jitter yet)", d)
	}
	prev := time.Duration(0)
	for n := 1; n <= 50; n++ {
		d := backoff(n, false)
		if d < prev {
			t.Fatalf("attempt %d waits %s, less than attempt %d (%s)", n, d, n-1, prev)
		}
		prev = d
		if j := backoff(n, true); j < d || j > d+d/4 {
			t.Fatalf("attempt %d with jitter waits %s, want in [%s, %s]", n, j, d, d+d/4)
		}
	}
	if prev != 5*time.Second {
		t.Fatalf("cap is %s, want 5s", prev)
	}
}

func TestScenarioNames(t *testing.T) {
	for _, name := range []string{"node-failure", "migration", "server-leave", "speaker-update",
		"switch-candidate-tcp", "switch-candidate-tls", "switch-candidate-udp", "leave-full-reconnect",
		"full-reconnect", "disconnect-signal-on-resume", "disconnect-signal-on-resume-no-messages", "resume"} {
		if _, err := scenario(name); err != nil {
			t.Errorf("scenario(%q): %v", name, err)
		}
	}
	if _, err := scenario("reboot"); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestIsLoopbackURL(t *testing.T) {
	for u, want := range map[string]bool{
		"ws://127.0.0.1:7880": true, "ws://localhost": true, "wss://[::1]:1": true,
		"wss://x.livekit.cloud": false, "ws://10.201.1.1:7880": false,
	} {
		if got := isLoopbackURL(u); got != want {
			t.Errorf("isLoopbackURL(%q) = %v, want %v", u, got, want)
		}
	}
}
