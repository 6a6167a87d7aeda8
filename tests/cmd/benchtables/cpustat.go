package main

import (
	"fmt"
	"os"
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

// machineCPU is the CPU time all processes of the machine have used so far:
// the non-idle fields (user, nice, system, irq, softirq, steal) of the
// "cpu" line of /proc/stat. Over a window, it minus the processes measured
// is the load the rest of the machine (other engineers' runs) put on it.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return time.Duration(busy) * clockTick
}
