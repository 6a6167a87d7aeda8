package main

import (
	"os"
	"runtime"
)

// The plugin's Go runtime runs on one P unless the user sets GOMAXPROCS.
// Its work is packet I/O, one frame at a time from the sample ring
// (plugin/samplequeue.c): more Ps only mean more threads for the runtime to
// wake and park. Measured on 2 cores with a 1080p30 4 Mbit/s H264 + Opus
// stream, side by side, 4 rounds: 1.30 CPU-s per media-minute (median) with
// one P against 1.41 with two, 2–12 % more per round (tests/bench/README.md,
// "Ninth session"). One P still carries many sinks: 32 sinks of 360p30
// 1 Mbit/s H264 + Opus in one gst-launch kept every room at its full rate
// (make bench, part sinks). Threads entering Go from C must not keep this
// one P to themselves: see yieldP (plugin/recover.go).
func init() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
