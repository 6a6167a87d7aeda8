package plugin

import (
	"os"
	"sync/atomic"
)

// Test hook, off unless GOLIVEKIT_TEST_PANIC names a callback when the
// plugin is loaded: that callback then panics once, on purpose, so that
// tests/plugin can check that a panic inside a GStreamer callback becomes a
// bus ERROR naming it (recover.go) instead of killing the host process. No
// input makes the element panic, hence the hook. Callbacks: "caps event",
// "new-sample", "set-property" (of the signaller property),
// "change-state", "request-new-pad".
var (
	testPanicAt    = os.Getenv("GOLIVEKIT_TEST_PANIC")
	testPanicFired atomic.Bool
)

// testPanic panics if the test hook names where and has not fired yet.
func testPanic(where string) {
	if testPanicAt == where && testPanicFired.CompareAndSwap(false, true) {
		panic("test hook GOLIVEKIT_TEST_PANIC=" + where)
	}
}
