package signaller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

const (
	defaultDialTimeout = 10 * time.Second
	writeTimeout       = 5 * time.Second
	closeFrameTimeout  = time.Second
	// leaveTimeout bounds how long Leave waits for the server to close its
	// side; livekit-server does so a few ms after it read the Leave.
	leaveTimeout = 500 * time.Millisecond
	// messageBuffer lets the reader run ahead of a slow consumer a little;
	// beyond that it blocks (backpressure) until Close.
	messageBuffer = 64
	maxErrorBody  = 4096
	// MaxMessageSize bounds one signalling frame, so a broken or hostile
	// server cannot make the reader allocate without end. The largest legit
	// frame is the JoinResponse, which lists every other participant with
	// its tracks (livekit-server does not page it): room metadata, up to
	// 512 KiB at the server's default limit, plus about 450 bytes per
	// publisher with a simulcast camera and a microphone (95 per viewer)
	// comes to about 1 MiB for 1000 publishers. 4 MiB leaves room for 5000
	// publishers, or for participant metadata of a few KiB each.
	MaxMessageSize = 4 << 20
)

// DialOptions configure one signalling connection attempt.
type DialOptions struct {
	URL     string        // output of BuildURL
	Token   string        // sent as "Authorization: Bearer <token>"
	Timeout time.Duration // bounds the upgrade plus the first frame; 0 -> 10s
	Logger  Logger        // may be nil
}

// Conn is one signalling WebSocket. It owns two goroutines after Start (the
// reader and the pinger); both stop when the socket closes, and Close waits
// for them.
type Conn struct {
	ws  *websocket.Conn
	log Logger

	msgs chan *livekit.SignalResponse
	done chan struct{}

	writeMu sync.Mutex // gorilla allows one concurrent writer

	mu      sync.Mutex // guards started, reading, err
	started bool
	reading bool // the reader goroutine was started
	err     error

	closeOnce sync.Once
	wg        sync.WaitGroup

	// leaving is closed by Leave: the reader then drops what comes, and
	// the server's closing of the socket ends the connection as ours.
	leaving    chan struct{}
	leaveOnce  sync.Once
	readerDone chan struct{}

	rtt      atomic.Int64 // nanoseconds
	lastRecv atomic.Int64 // unix nanoseconds of the last frame received
}

// Dial opens the WebSocket and reads the first SignalResponse: join for a
// fresh join, reconnect for a resume; an older server may send something else
// first, which is returned as is.
func Dial(ctx context.Context, o DialOptions) (*Conn, *livekit.SignalResponse, error) {
	log := orNop(o.Logger)
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultDialTimeout
	}
	deadline := time.Now().Add(timeout)
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	header := http.Header{}
	header.Set("Authorization", "Bearer "+o.Token)

	log.Debugf("signaller: dialing %s", RedactURL(o.URL))
	// gorilla honours ctx only until the TCP connection is up; a server that
	// accepts and never answers the upgrade would hold a cancelled dial
	// (Close, a spent budget) for the whole timeout. Closing the socket on
	// cancel ends it at once.
	var watchMu sync.Mutex
	stopWatch := func() bool { return false }
	dialer := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: timeout,
		NetDialContext: func(dc context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(dc, network, addr)
			if err != nil {
				return nil, err
			}
			watchMu.Lock()
			stopWatch = context.AfterFunc(ctx, func() { _ = nc.Close() })
			watchMu.Unlock()
			return nc, nil
		},
	}
	ws, resp, err := dialer.DialContext(dctx, o.URL, header)
	watchMu.Lock()
	stopWatch() // readFirst watches ctx from here on
	watchMu.Unlock()
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
			return nil, nil, upgradeRefused(dctx, o.URL, header, resp)
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if verr := certificateVerification(err); verr != nil {
			return nil, nil, &CertificateError{URL: withoutQuery(o.URL), Err: verr}
		}
		return nil, nil, fmt.Errorf("signaller: connecting to %s: %w", withoutQuery(o.URL), err)
	}

	ws.SetReadLimit(MaxMessageSize)
	first, err := readFirst(ctx, ws, deadline)
	if err != nil {
		_ = ws.Close()
		return nil, nil, err
	}
	if l := first.GetLeave(); l != nil {
		_ = ws.Close()
		return nil, nil, &LeaveError{Leave: l}
	}
	log.Debugf("signaller: first message %T", first.GetMessage())

	c := &Conn{
		ws:         ws,
		log:        log,
		msgs:       make(chan *livekit.SignalResponse, messageBuffer),
		done:       make(chan struct{}),
		leaving:    make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	c.lastRecv.Store(time.Now().UnixNano())
	ws.SetPingHandler(func(data string) error {
		c.lastRecv.Store(time.Now().UnixNano())
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	return c, first, nil
}

// Start begins the reader and ping goroutines. Intervals come from the
// JoinResponse (seconds); zero means 5s / 15s. Calling Start twice, or after
// Close, does nothing.
func (c *Conn) Start(pingInterval, pingTimeout time.Duration) {
	if pingInterval <= 0 {
		pingInterval = 5 * time.Second
	}
	if pingTimeout <= 0 {
		pingTimeout = 15 * time.Second
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.err != nil {
		return
	}
	c.started = true
	c.reading = true
	c.lastRecv.Store(time.Now().UnixNano())
	c.wg.Add(2)
	go c.readLoop()
	go c.pingLoop(pingInterval, pingTimeout)
}

// Messages delivers every SignalResponse except pongs, in order. It is
// closed after Done.
func (c *Conn) Messages() <-chan *livekit.SignalResponse { return c.msgs }

// Done is closed when the socket is closed for any reason.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err tells why the connection closed (nil while open): ErrClosedByUs,
// ErrPingTimeout, *CloseError, or the read/write error.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// RTT is the last measured ping round trip (0 before the first pong).
func (c *Conn) RTT() time.Duration { return time.Duration(c.rtt.Load()) }

// Send writes one request as binary protobuf. Safe for concurrent use.
func (c *Conn) Send(req *livekit.SignalRequest) error {
	select {
	case <-c.done:
		return fmt.Errorf("signaller: send on closed connection: %w", c.Err())
	default:
	}
	data, err := proto.Marshal(req)
	if err != nil {
		return fmt.Errorf("signaller: encoding SignalRequest: %w", err)
	}
	c.writeMu.Lock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	err = c.ws.WriteMessage(websocket.BinaryMessage, data)
	c.writeMu.Unlock()
	if err != nil {
		// A failed or timed-out write leaves gorilla's conn unusable.
		err = fmt.Errorf("signaller: write: %w", err)
		if c.isLeaving() {
			c.shutdown(ErrClosedByUs) // a write after our close frame
		} else {
			c.shutdown(err)
		}
		return err
	}
	return nil
}

// Close sends a 1000 close frame and closes the socket. Idempotent; it waits
// for the conn's goroutines to end. Err() becomes ErrClosedByUs unless the
// connection had already failed.
func (c *Conn) Close() error {
	c.shutdown(ErrClosedByUs)
	c.wg.Wait()
	return nil
}

// Leave tells the server we are going (best effort), then closes: after
// the WebSocket closing handshake, or leaveTimeout. Closing the socket at
// once lost the Leave now and then (tests/sessione2e/leaveatjoin_test.go):
// right after a join the server is still writing to us, our close with
// its frames unread resets the connection, and livekit-server's writer,
// failing, closes the socket before its reader got to the Leave. The
// participant then stayed in the room until the server timed it out.
func (c *Conn) Leave(reason livekit.DisconnectReason) {
	err := c.Send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Leave{Leave: &livekit.LeaveRequest{
		Reason: reason,
		Action: livekit.LeaveRequest_DISCONNECT,
	}}})
	if err != nil {
		c.log.Debugf("signaller: sending leave: %v", err)
		_ = c.Close()
		return
	}
	c.leaveOnce.Do(func() { close(c.leaving) })
	c.mu.Lock()
	reading := c.reading
	c.mu.Unlock()
	if reading {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeFrameTimeout))
		t := time.NewTimer(leaveTimeout)
		select {
		case <-c.readerDone: // the server closed its side
		case <-t.C:
		}
		t.Stop()
	}
	_ = c.Close()
}

func (c *Conn) isLeaving() bool {
	select {
	case <-c.leaving:
		return true
	default:
		return false
	}
}

// shutdown closes the socket once, recording why. The error is stored before
// Done is closed so Err() is never nil after Done.
func (c *Conn) shutdown(why error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.err = why
		startedReader := c.started
		c.started = true // a later Start must not spawn goroutines
		c.mu.Unlock()

		// Leave has sent its close frame already.
		if (why == ErrClosedByUs || why == ErrPingTimeout) && !c.isLeaving() {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			_ = c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeFrameTimeout))
		}
		_ = c.ws.Close() // unblocks the reader
		close(c.done)
		if !startedReader {
			close(c.msgs) // no reader will ever close it
		}
		if why != ErrClosedByUs {
			c.log.Infof("signaller: connection closed: %v", why)
		}
	})
}

// readLoop owns c.msgs: it is the only sender and closes it on exit.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer close(c.readerDone)
	defer close(c.msgs)
	defer c.recoverPanic("reader") // runs first: msgs is still open
	for {
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			if c.isLeaving() {
				c.shutdown(ErrClosedByUs) // the server's answer to our Leave
			} else {
				c.shutdown(classifyReadErr(err))
			}
			return
		}
		now := time.Now()
		c.lastRecv.Store(now.UnixNano())
		msg, err := decode(mt, data)
		if err != nil {
			// One bad frame is not worth dropping the session over.
			c.log.Warnf("signaller: ignoring undecodable message: %v", err)
			continue
		}
		switch m := msg.GetMessage().(type) {
		case *livekit.SignalResponse_PongResp:
			c.notePong(now, m.PongResp.GetLastPingTimestamp())
			continue
		case *livekit.SignalResponse_Pong:
			c.notePong(now, m.Pong)
			continue
		}
		select {
		case c.msgs <- msg:
		case <-c.leaving: // nobody acts on it any more
		case <-c.done:
			return
		}
	}
}

// recoverPanic ends the connection when one of its goroutines panics: the
// session sees a closed connection and recovers, the process lives on.
func (c *Conn) recoverPanic(where string) {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("signaller: internal error in the %s: %v", where, r)
	c.shutdown(err)
	c.log.Errorf("%v\n%s", err, debug.Stack())
}

// recoverLogged keeps a panic in a helper goroutine from ending the process.
func recoverLogged(log Logger, where string) {
	if r := recover(); r != nil {
		orNop(log).Errorf("signaller: internal error in the %s: %v\n%s", where, r, debug.Stack())
	}
}
