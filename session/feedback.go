package session

import (
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// readRTCP turns the SFU's keyframe requests (PLI, FIR) for one layer into
// upstream requests and keeps the layer's and its track's feedback
// counters. pion hands each encoding (RID) its own RTCP.
func readRTCP(sender *webrtc.RTPSender, l *Layer) {
	read := sender.ReadRTCP
	if l.rid != "" {
		read = func() ([]rtcp.Packet, interceptor.Attributes, error) { return sender.ReadSimulcastRTCP(l.rid) }
	}
	var ssrc uint32
	for _, enc := range sender.GetParameters().Encodings {
		if enc.RID == l.rid {
			ssrc = uint32(enc.SSRC)
		}
	}
	t := l.t
	for {
		pkts, _, err := read()
		if err != nil {
			return
		}
		t.stats.rtcpIn.Add(uint64(len(pkts)))
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication:
				l.stats.plis.Add(1)
				t.stats.plis.Add(1)
				l.requestKeyframe(false)
			case *rtcp.FullIntraRequest:
				l.stats.firs.Add(1)
				t.stats.firs.Add(1)
				l.requestKeyframe(false)
			case *rtcp.TransportLayerNack:
				l.stats.nacks.Add(1)
				t.stats.nacks.Add(1)
			case *rtcp.ReceiverReport:
				if reportsOn(p, ssrc) && l.ssrc.Load() == ssrc {
					// The SFU knows this SSRC now: MID/RID extensions can go.
					l.acked.Store(true)
				}
				// The track's RTT and loss come from its lowest layer, the
				// one dynacast keeps while anyone watches.
				if l == t.layers[0] {
					t.stats.onReceiverReport(p, ssrc, time.Now())
				}
			}
		}
	}
}

func reportsOn(rr *rtcp.ReceiverReport, ssrc uint32) bool {
	for _, r := range rr.Reports {
		if r.SSRC == ssrc {
			return true
		}
	}
	return false
}
