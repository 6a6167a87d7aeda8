package harness

// One proxied signalling connection. Three goroutines, all owned by
// proxyConn.run (which itself runs in the HTTP handler, counted in the
// proxy's WaitGroup):
//
//	s2c    reads upstream, logs, queues frames for the client writer
//	c2s    reads the client, logs, writes to upstream (the only upstream writer)
//	writer the only writer of client data frames; it holds delayed pongs and
//	       performs forwarded or injected closes in order after earlier frames
//
// teardown (once) closes both sockets, which unblocks both readers; done
// stops the writer. Close frames go through WriteControl, which gorilla
// allows concurrently with the single data writer.

import (
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

type outFrame struct {
	mt   int
	data []byte // nil: no data frame, only the close below
	due  time.Time

	closeCode     int // non-zero: after data, send a close frame with this code and tear down
	closeText     string
	closeUpstream bool // also send a normal close upstream (injected leave)
	reason        string
}

type proxyConn struct {
	p                *SigProxy
	info             *ConnInfo
	client, upstream *websocket.Conn
	out              chan outFrame
	done             chan struct{}
	once             sync.Once
	textMode         atomic.Bool // the server has spoken protojson: inject text too
}

func newProxyConn(p *SigProxy, ci *ConnInfo, client, upstream *websocket.Conn) *proxyConn {
	pc := &proxyConn{p: p, info: ci, client: client, upstream: upstream,
		out: make(chan outFrame, 64), done: make(chan struct{})}
	// Forward WebSocket-level pings and pongs so the proxy is transparent to
	// them too (gorilla would otherwise answer pings itself), except while
	// blackholing.
	fwd := func(to *websocket.Conn, mt int) func(string) error {
		return func(s string) error {
			if drop, _ := p.faults(); !drop {
				_ = to.WriteControl(mt, []byte(s), time.Now().Add(writeTimeout))
			}
			return nil
		}
	}
	client.SetPingHandler(fwd(upstream, websocket.PingMessage))
	client.SetPongHandler(fwd(upstream, websocket.PongMessage))
	upstream.SetPingHandler(fwd(client, websocket.PingMessage))
	upstream.SetPongHandler(fwd(client, websocket.PongMessage))
	return pc
}

// run blocks until the connection is fully torn down and its goroutines exited.
func (pc *proxyConn) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pc.clientToServer() }()
	go func() { defer wg.Done(); pc.writer() }()
	pc.serverToClient()
	wg.Wait()
}

func (pc *proxyConn) serverToClient() {
	for {
		mt, data, err := pc.upstream.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if asCloseError(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				// The server closed properly: forward its code after any
				// frames already queued for the client.
				pc.enqueue(outFrame{closeCode: ce.Code, closeText: ce.Text, reason: "upstream-close"})
				return
			}
			pc.teardown("upstream-error", 0, "", true)
			return
		}
		if mt == websocket.TextMessage {
			pc.textMode.Store(true)
		}
		f := pc.decode(ServerToClient, mt, data)
		pc.p.firstServerFrame(pc.info, f.Kind)
		if pc.p.takeResetOn(f.Kind) {
			f.Dropped = true
			pc.p.logFrame(f)
			pc.teardown("reset", 0, "", true)
			return
		}
		drop, delay := pc.p.faults()
		of := outFrame{mt: mt, data: data}
		switch {
		case drop:
			f.Dropped = true
		case delay > 0 && (f.Kind == "pong_resp" || f.Kind == "pong"):
			f.Delay = delay
			of.due = time.Now().Add(delay)
		}
		pc.p.logFrame(f)
		if !drop && !pc.enqueue(of) {
			return
		}
	}
}

func (pc *proxyConn) clientToServer() {
	for {
		mt, data, err := pc.client.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if asCloseError(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				_ = pc.upstream.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(ce.Code, ce.Text), time.Now().Add(writeTimeout))
				pc.teardown("client-close", ce.Code, ce.Text, false)
				return
			}
			pc.teardown("client-error", 0, "", true)
			return
		}
		f := pc.decode(ClientToServer, mt, data)
		drop, _ := pc.p.faults()
		f.Dropped = drop
		pc.p.logFrame(f)
		if drop {
			continue
		}
		_ = pc.upstream.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := pc.upstream.WriteMessage(mt, data); err != nil {
			pc.teardown("upstream-error", 0, "", true)
			return
		}
	}
}

// writer delivers queued frames to the client in order, holding delayed ones
// until due. Delayed frames still pending at teardown are discarded.
func (pc *proxyConn) writer() {
	var pending []outFrame // sorted by due
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var timerC <-chan time.Time
		if len(pending) > 0 {
			timer.Reset(time.Until(pending[0].due))
			timerC = timer.C
		}
		select {
		case <-pc.done:
			return
		case f := <-pc.out:
			if !f.due.IsZero() && time.Until(f.due) > 0 {
				i := sort.Search(len(pending), func(i int) bool { return pending[i].due.After(f.due) })
				pending = append(pending[:i], append([]outFrame{f}, pending[i:]...)...)
				timer.Stop()
				continue
			}
			if !pc.write(f) {
				return
			}
		case <-timerC:
			for len(pending) > 0 && !time.Now().Before(pending[0].due) {
				f := pending[0]
				pending = pending[1:]
				if !pc.write(f) {
					return
				}
			}
		}
	}
}

// write sends one frame to the client; false means the connection is over.
func (pc *proxyConn) write(f outFrame) bool {
	if f.data != nil {
		_ = pc.client.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := pc.client.WriteMessage(f.mt, f.data); err != nil {
			pc.teardown("client-error", 0, "", true)
			return false
		}
	}
	if f.closeCode == 0 {
		return true
	}
	deadline := time.Now().Add(writeTimeout)
	_ = pc.client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(f.closeCode, f.closeText), deadline)
	if f.closeUpstream {
		_ = pc.upstream.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), deadline)
	}
	pc.teardown(f.reason, f.closeCode, f.closeText, false)
	return false
}

// enqueue hands a frame to the writer; false once the connection is gone.
func (pc *proxyConn) enqueue(f outFrame) bool {
	select {
	case pc.out <- f:
		return true
	case <-pc.done:
		return false
	}
}

// inject queues a proxy-made response followed by a close with closeCode.
func (pc *proxyConn) inject(resp *livekit.SignalResponse, closeCode int) {
	mt := websocket.BinaryMessage
	var data []byte
	var err error
	if pc.textMode.Load() {
		mt = websocket.TextMessage
		data, err = protojson.Marshal(resp)
	} else {
		data, err = proto.Marshal(resp)
	}
	if err != nil {
		pc.p.t.Errorf("sigproxy: encode injected frame: %v", err)
		return
	}
	f := pc.decode(ServerToClient, mt, data)
	f.Injected = true
	pc.p.logFrame(f)
	pc.enqueue(outFrame{mt: mt, data: data, closeCode: closeCode, closeUpstream: true, reason: "leave"})
}

// teardown ends the connection once. abrupt sends a TCP RST (SO_LINGER 0) on
// both sockets and no close frames: what a dying NAT or load balancer does.
func (pc *proxyConn) teardown(reason string, code int, text string, abrupt bool) {
	pc.once.Do(func() {
		close(pc.done)
		pc.p.endConn(pc.info, reason, code, 0)
		for _, c := range []*websocket.Conn{pc.client, pc.upstream} {
			if tc, ok := c.NetConn().(*net.TCPConn); ok && abrupt {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	})
}

func (pc *proxyConn) decode(dir Direction, mt int, data []byte) FrameInfo {
	f := FrameInfo{Conn: pc.info.ID, Time: time.Now(), Dir: dir, Text: mt == websocket.TextMessage}
	var m proto.Message
	if dir == ClientToServer {
		f.Request = &livekit.SignalRequest{}
		m = f.Request
	} else {
		f.Response = &livekit.SignalResponse{}
		m = f.Response
	}
	var err error
	if f.Text {
		// DiscardUnknown: a newer peer may send fields protocol v1.54.0 lacks.
		err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, m)
	} else {
		err = proto.Unmarshal(data, m)
	}
	if err != nil {
		f.Request, f.Response, f.DecodeErr = nil, nil, err.Error()
		return f
	}
	f.Kind = oneofKind(m)
	return f
}

// oneofKind names the set field of the "message" oneof ("unknown" for a
// case this protocol version does not know).
func oneofKind(m proto.Message) string {
	r := m.ProtoReflect()
	od := r.Descriptor().Oneofs().ByName("message")
	if od == nil {
		return "unknown"
	}
	if fd := r.WhichOneof(od); fd != nil {
		return string(fd.Name())
	}
	return "unknown"
}

func asCloseError(err error, ce **websocket.CloseError) bool {
	c, ok := err.(*websocket.CloseError)
	if ok {
		*ce = c
	}
	return ok
}
