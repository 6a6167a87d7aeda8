package main

import (
	"os"
	"runtime"
)

// The plugin's Go runtime runs on one P unless the user sets GOMAXPROCS.
// Its work is packet I/O, one frame at a time from the sample ring
// (plugin/samplequeue.c): more Ps only mean more threads for the runtime to
// wake and park. Measured on 2 cores with a 1080p30 4 Mbit/s H264 + Opus
// stream, when each streaming thread still called into Go: 3 runs each,
// 2.9–3.1 CPU-s per media-minute with one P against 4.5–5.0 with two
// (tests/bench/README.md). One P still carries many sinks: 32 sinks of
// 360p30 1 Mbit/s H264 + Opus in one gst-launch kept every room at its full
// rate (make bench, part sinks).
func init() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
