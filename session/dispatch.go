package session

import (
	"sync"
	"sync/atomic"

	"github.com/petermattis/goid"
)

// dispatcher calls the Handler in order on its own goroutine, so that the
// state machine never waits for GStreamer (posting a bus message, pushing an
// event upstream) and the handler never runs under a session lock.
type dispatcher struct {
	mu      sync.Mutex
	queue   []func()
	wake    chan struct{}
	closed  bool
	done    chan struct{}
	onPanic func(any)
	// gid is the dispatcher goroutine's id: a handler callback may end the
	// session (a bus sync handler setting the pipeline to NULL), and close
	// must then not wait for the goroutine it runs on.
	gid atomic.Int64
}

func newDispatcher() *dispatcher {
	d := &dispatcher{wake: make(chan struct{}, 1), done: make(chan struct{})}
	d.gid.Store(-1)
	go d.run()
	return d
}

func (d *dispatcher) post(f func()) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, f)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// onDispatcher reports whether the caller runs on the dispatcher goroutine,
// i.e. inside a Handler callback (cgo callbacks keep the calling goroutine).
func (d *dispatcher) onDispatcher() bool { return d.gid.Load() == goid.Get() }

// close runs what is queued, then stops the goroutine and waits for it.
// Called from a Handler callback it cannot wait: the goroutine then ends
// as soon as that callback returns (done tells when).
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	if d.onDispatcher() {
		return
	}
	<-d.done
}

func (d *dispatcher) run() {
	defer close(d.done)
	d.gid.Store(goid.Get())
	for range d.wake {
		for {
			d.mu.Lock()
			q := d.queue
			d.queue = nil
			closed := d.closed
			d.mu.Unlock()
			for _, f := range q {
				d.call(f)
			}
			if len(q) == 0 {
				if closed {
					return
				}
				break
			}
		}
	}
}

// call runs one handler callback; a panic in the application's handler must
// not take the dispatcher (and every later message) down with it.
func (d *dispatcher) call(f func()) {
	defer func() {
		if r := recover(); r != nil && d.onPanic != nil {
			d.onPanic(r)
		}
	}()
	f()
}
