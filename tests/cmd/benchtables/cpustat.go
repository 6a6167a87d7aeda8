package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Both /proc files count in clock ticks of 1/100 s (USER_HZ).
const clockTick = 10 * time.Millisecond

// procCPU is the user+system CPU time a running process has used so far
// (fields 14 and 15 of /proc/<pid>/stat, in clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// The command name (field 2) is in parentheses and may hold spaces.
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

// machineSample is the machine's idle time (idle + iowait of the "cpu" line
// of /proc/stat) at a moment. Busy time is derived from idle time: the kernel
// measures idle time exactly, while its per-state busy fields are sampled at
// ticks and fall short of the processes' own (exact) utime+stime.
type machineSample struct {
	at   time.Time
	idle time.Duration
}

func sampleMachine() machineSample {
	s := machineSample{at: time.Now()}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return s
	}
	idle, _ := strconv.ParseInt(f[4], 10, 64)
	iowait, _ := strconv.ParseInt(f[5], 10, 64)
	s.idle = time.Duration(idle+iowait) * clockTick
	return s
}

// busySince is the CPU time all processes of the machine used since s0.
// Minus the processes measured, it is the load the rest of the machine
// (other engineers' runs) put on it meanwhile.
func busySince(s0 machineSample) time.Duration {
	s1 := sampleMachine()
	return time.Duration(runtime.NumCPU())*s1.at.Sub(s0.at) - (s1.idle - s0.idle)
}
