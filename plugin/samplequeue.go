package plugin

/*
#include "lk.h"
*/
import "C"

import (
	"os"
	"sync"
	"unsafe"
)

// The appsinks' samples reach Go through one goroutine instead of a call
// from each streaming thread (samplequeue.c says why). It lives as long as
// the process: the plugin is never unloaded, and it holds nothing while
// the queue is empty.
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
		// Non-blocking, so os.File waits for it in the netpoller.
		wake := os.NewFile(uintptr(fd), "golivekitsink-samples")
		go drainSamples(wake)
	})
}

func drainSamples(wake *os.File) {
	var buf [8]byte
	for {
		if _, err := wake.Read(buf[:]); err != nil {
			return
		}
		for {
			var (
				h           C.uintptr_t
				data        unsafe.Pointer
				size        C.size_t
				pts         C.int64_t
				header, key C.int
			)
			token := C.lk_sample_queue_pop(&h, &data, &size, &pts, &header, &key)
			if token == nil {
				break
			}
			goLkSample(h, data, size, pts, header, key)
			C.lk_sample_queue_release(token)
		}
	}
}
