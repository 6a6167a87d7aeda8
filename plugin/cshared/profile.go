package main

/*
#include <stdlib.h>
extern void goLkStopCPUProfile(void);
static void lk_stop_cpu_profile_at_exit(void) { goLkStopCPUProfile(); }
static void lk_register_profile_exit(void) { atexit(lk_stop_cpu_profile_at_exit); }
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
)

// GOLIVEKIT_CPUPROFILE=path writes a Go CPU profile of the plugin's runtime
// (pprof format) from load to process exit, GOLIVEKIT_MEMPROFILE=path the
// allocations profile at exit: the plugin lives in a host such as
// gst-launch, so `go test -cpuprofile` cannot reach it
// (tests/bench/README.md). "%p" in a path becomes the process id.
var (
	profileMu   sync.Mutex
	profileFile *os.File
	memProfile  string
)

func profilePath(env string) string {
	return strings.ReplaceAll(os.Getenv(env), "%p", fmt.Sprint(os.Getpid()))
}

func init() {
	memProfile = profilePath("GOLIVEKIT_MEMPROFILE")
	path := profilePath("GOLIVEKIT_CPUPROFILE")
	if path == "" && memProfile == "" {
		return
	}
	C.lk_register_profile_exit()
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "golivekitsink: GOLIVEKIT_CPUPROFILE: %v\n", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "golivekitsink: GOLIVEKIT_CPUPROFILE: %v\n", err)
		_ = f.Close()
		return
	}
	profileFile = f
}

//export goLkStopCPUProfile
func goLkStopCPUProfile() {
	profileMu.Lock()
	defer profileMu.Unlock()
	if memProfile != "" {
		if f, err := os.Create(memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
		memProfile = ""
	}
	if profileFile != nil {
		pprof.StopCPUProfile()
		_ = profileFile.Close()
		profileFile = nil
	}
}
