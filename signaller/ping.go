package signaller

import (
	"time"

	"github.com/livekit/protocol/livekit"
)

// pingLoop sends ping_req every interval and closes the conn with
// ErrPingTimeout when nothing at all was received for timeout (docs/protocol.md, "Ping, pong and liveness": any
// message counts, not only pongs). It reads lastRecv instead of sharing a
// timer with the reader, so only this goroutine touches its timers.
func (c *Conn) pingLoop(interval, timeout time.Duration) {
	defer c.wg.Done()
	defer c.recoverPanic("pinger")
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	liveness := time.NewTimer(timeout)
	defer liveness.Stop()

	// Ping at once: the server uses our RTT for its ICE/TCP fallback decision
	// and its "recent signal" check wants traffic (docs/protocol.md, "Ping, pong and liveness").
	c.sendPing()
	for {
		select {
		case <-c.done:
			return
		case <-ticker.C:
			c.sendPing()
		case <-liveness.C:
			idle := time.Since(time.Unix(0, c.lastRecv.Load()))
			if idle >= timeout {
				c.log.Warnf("signaller: nothing received for %v", idle.Round(time.Millisecond))
				c.shutdown(ErrPingTimeout)
				return
			}
			liveness.Reset(timeout - idle)
		}
	}
}

func (c *Conn) sendPing() {
	if c.isLeaving() {
		return // our close frame is out
	}
	err := c.Send(&livekit.SignalRequest{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{
		Timestamp: time.Now().UnixMilli(),
		Rtt:       c.RTT().Milliseconds(),
	}}})
	if err != nil {
		c.log.Debugf("signaller: ping: %v", err)
	}
}

// notePong records the round trip of the ping whose timestamp is echoed.
func (c *Conn) notePong(now time.Time, pingMillis int64) {
	if pingMillis <= 0 {
		return
	}
	rtt := now.Sub(time.UnixMilli(pingMillis))
	if rtt < 0 {
		rtt = 0
	}
	c.rtt.Store(int64(rtt))
}
