package session

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// readRTCP turns the SFU's keyframe requests (PLI, FIR) into upstream
// requests and keeps the track's feedback counters.
func readRTCP(sender *webrtc.RTPSender, t *Track) {
	var ssrc uint32
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		ssrc = uint32(enc[0].SSRC)
	}
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				t.stats.plis.Add(1)
				t.requestKeyframe(false)
			case *rtcp.FullIntraRequest:
				t.stats.firs.Add(1)
				t.requestKeyframe(false)
			case *rtcp.TransportLayerNack:
				t.stats.nacks.Add(1)
			case *rtcp.ReceiverReport:
				t.stats.onReceiverReport(p, ssrc, time.Now())
			}
		}
	}
}
