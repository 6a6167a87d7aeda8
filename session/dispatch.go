package session

import "sync"

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
}

func newDispatcher() *dispatcher {
	d := &dispatcher{wake: make(chan struct{}, 1), done: make(chan struct{})}
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

// close runs what is queued, then stops the goroutine and waits for it.
func (d *dispatcher) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	<-d.done
}

func (d *dispatcher) run() {
	defer close(d.done)
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
