package main

import (
	"os"
	"runtime"
)

// The plugin's Go runtime runs on one P unless the user sets GOMAXPROCS.
// Its work is packet I/O driven by GStreamer's streaming threads, which call
// into Go and return to C many times a second; every return leaves a P in
// the syscall state that the runtime's monitor thread then has to take back,
// and with more Ps it wakes more often to do so. Measured on 2 cores with a
// 1080p30 4 Mbit/s H264 + Opus stream: 3 runs each, 2.9–3.1 CPU-s per
// media-minute with one P against 4.5–5.0 with two (docs: tests/bench).
// One P still carries many sinks: 16 sinks of 360p30 1 Mbit/s H264 + Opus
// in one gst-launch took 0.28–0.34 cores with every room's video intact
// (make bench, part sinks).
func init() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
