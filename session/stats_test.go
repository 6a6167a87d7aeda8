package session

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRTTFromReceiverReport(t *testing.T) {
	now := time.Unix(1_800_000_000, 123_456_789)
	sr := now.Add(-50 * time.Millisecond) // our SR left 50 ms ago
	dlsr := uint32(30 * 65536 / 1000)     // the SFU held it 30 ms
	var c trackCounters
	c.onReceiverReport(&rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{
		{SSRC: 7, FractionLost: 64, LastSenderReport: ntpMiddle32(sr), Delay: dlsr},
		{SSRC: 8, FractionLost: 255, LastSenderReport: 1, Delay: 1},
	}}, 7, now)
	rtt := time.Duration(c.rtt.Load())
	if rtt < 19*time.Millisecond || rtt > 21*time.Millisecond {
		t.Fatalf("RTT %v, want about 20ms", rtt)
	}
	if got := c.fractionLost.Load(); got != 64 {
		t.Fatalf("fraction lost %d/256, want 64 (the other SSRC's block must be ignored)", got)
	}
	if _, ok := rttFromReport(now, 0, 0); ok {
		t.Fatal("LSR 0 (no SR received yet) must give no RTT")
	}
	if _, ok := rttFromReport(now, ntpMiddle32(now.Add(time.Second)), 0); ok {
		t.Fatal("an LSR in the future must give no RTT")
	}
}
