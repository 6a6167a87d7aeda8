package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

var benchLine = regexp.MustCompile(`^Benchmark(\S+?)(-\d+)?\s+(\d+)\s+(.*)$`)

// benchRTP runs the packetizer benchmarks of the root module and tabulates them.
func benchRTP() error {
	cmd := exec.Command("go", "test", "-run=^$", "-bench=.", "-benchmem", "./rtp/...")
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench ./rtp/...: %v\n%s", err, out)
	}
	var rows [][]string
	cpu := ""
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "cpu: "); ok {
			cpu = v
		}
		m := benchLine.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		vals := map[string]string{}
		f := strings.Fields(m[4])
		for i := 0; i+1 < len(f); i += 2 {
			vals[f[i+1]] = f[i]
		}
		rows = append(rows, []string{m[1], m[3], vals["ns/op"], vals["MB/s"], vals["B/op"], vals["allocs/op"]})
	}
	if len(rows) == 0 {
		return fmt.Errorf("no benchmark lines in:\n%s", out)
	}
	table("rtp", "RTP packetizers (go test -bench ./rtp/)",
		[]string{"benchmark", "iterations", "ns/op", "MB/s", "B/op", "allocs/op"}, rows, "cpu: "+cpu)
	return nil
}
