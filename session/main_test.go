package session

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
)

// TestMain records which rows of the state table the tests drove through
// real sessions (against signallertest's server). A run of every test
// (no -run) fails when a row was not driven.
func TestMain(m *testing.M) {
	var mu sync.Mutex
	taken := map[*rule]bool{}
	ruleTaken = func(r *rule) {
		mu.Lock()
		taken[r] = true
		mu.Unlock()
	}
	code := m.Run()
	if code == 0 && unfiltered() {
		mu.Lock()
		for i := range machineRules {
			if r := &machineRules[i]; !taken[r] {
				fmt.Printf("FAIL: state table row %d (%s; %s; %s) was not driven through a session\n", i+1, r.inText(), r.onText(), whenText(i))
				code = 1
			}
		}
		mu.Unlock()
	}
	os.Exit(code)
}

// unfiltered: every test ran (no -run, -skip or -fuzz).
func unfiltered() bool {
	for _, name := range []string{"test.run", "test.skip", "test.fuzz"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}
