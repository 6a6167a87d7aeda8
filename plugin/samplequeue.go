package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The appsinks' samples reach Go through one goroutine that reads them from
// a ring in C memory (samplequeue.c says why). It lives as long as the
// process: the plugin is never unloaded, and it holds nothing while the
// ring is empty. GOLIVEKIT_SYNC_SAMPLES=1 makes each streaming thread call
// into Go itself instead (for comparisons).
var sampleQueueOnce sync.Once

func startSampleQueue() {
	sampleQueueOnce.Do(func() {
		if os.Getenv("GOLIVEKIT_SYNC_SAMPLES") != "" {
			return
		}
		fd := C.lk_sample_queue_start()
		if fd < 0 {
			return // the streaming threads call into Go themselves
		}
		// Non-blocking, so its reads wait in the netpoller.
		rc, err := os.NewFile(uintptr(fd), "golivekitsink-samples").SyscallConn()
		if err != nil {
			return
		}
		go drainSamples(rc)
	})
}

// drainSamples is the ring's consumer. It makes no call into C and no
// syscall the Go scheduler sees (RawSyscall on non-blocking eventfds, which
// return at once): either would wake the runtime's monitor thread for every
// frame, which is what the ring is for.
func drainSamples(wake syscall.RawConn) {
	r := &C.lk_ring
	head := (*uint32)(unsafe.Pointer(&r.head))
	tail := (*uint32)(unsafe.Pointer(&r.tail))
	sleeping := (*uint32)(unsafe.Pointer(&r.sleeping))
	waiters := (*uint32)(unsafe.Pointer(&r.waiters))
	doneFD := uintptr(r.done_fd)
	next := atomic.LoadUint32(tail)
	var buf [8]byte
	for {
		for h := atomic.LoadUint32(head); next != h; next++ {
			s := &r.slots[next%C.LK_RING_SLOTS]
			takeSample(s.handle, unsafe.Pointer(s._map.data), s._map.size, s.pts, C.int(s.header), C.int(s.key))
			atomic.StoreUint32(tail, next+1)
			if atomic.LoadUint32(waiters) != 0 {
				*(*uint64)(unsafe.Pointer(&buf[0])) = 1
				syscall.RawSyscall(syscall.SYS_WRITE, doneFD, uintptr(unsafe.Pointer(&buf[0])), 8)
			}
		}
		// Going to sleep: a producer that publishes a slot after this
		// store sees it and writes wake_fd.
		atomic.StoreUint32(sleeping, 1)
		if atomic.LoadUint32(head) != next {
			atomic.StoreUint32(sleeping, 0)
			continue
		}
		err := wake.Read(func(fd uintptr) bool {
			_, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&buf[0])), 8)
			return e != syscall.EAGAIN
		})
		if err != nil {
			return
		}
	}
}
