package session

import (
	"errors"
	"io"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// readRTCP turns the SFU's keyframe requests (PLI, FIR) for one layer into
// upstream requests and keeps the layer's and its track's feedback
// counters. pion hands each encoding (RID) its own RTCP.
//
// Not sender.ReadRTCP: it allocates a buffer per read and parses the
// compound packet a second time, after the interceptors (congestion
// control, NACK responder) parsed it into the attributes; here one buffer
// serves every read and their parse is used. A packet that does not parse
// is skipped, where ReadRTCP's error would have ended the loop.
func readRTCP(sender *webrtc.RTPSender, l *Layer) {
	buf := make([]byte, rtcpReadSize)
	read := func() (int, interceptor.Attributes, error) { return sender.Read(buf) }
	if l.rid != "" {
		read = func() (int, interceptor.Attributes, error) { return sender.ReadSimulcast(buf, l.rid) }
	}
	var ssrc uint32
	for _, enc := range sender.GetParameters().Encodings {
		if enc.RID == l.rid {
			ssrc = uint32(enc.SSRC)
		}
	}
	t := l.t
	for {
		n, attrs, err := read()
		if errors.Is(err, io.ErrShortBuffer) {
			continue // dropped by pion's buffer; the next one may fit
		}
		if err != nil {
			return
		}
		if attrs == nil {
			attrs = interceptor.Attributes{}
		}
		pkts, err := attrs.GetRTCPPackets(buf[:n])
		if err != nil {
			continue
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

// rtcpReadSize holds any RTCP compound packet the SFU sends (they stay
// within its MTU) with room to spare.
const rtcpReadSize = 8192

func reportsOn(rr *rtcp.ReceiverReport, ssrc uint32) bool {
	for _, r := range rr.Reports {
		if r.SSRC == ssrc {
			return true
		}
	}
	return false
}
