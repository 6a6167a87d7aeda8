package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// benchTB lets the harness (written for tests) run inside this program: one
// benchTB per measured run. Fatal unwinds the run with a panic that run()
// recovers; cleanups run last-in first-out when the run ends. Log lines are
// kept and printed only when the run failed.
type benchTB struct {
	testing.TB
	name string

	mu       sync.Mutex
	failed   bool
	log      strings.Builder
	cleanups []func()
}

type fatal struct{ msg string }

func (c *benchTB) Helper()                 {}
func (c *benchTB) Name() string            { return c.name }
func (c *benchTB) Log(a ...any)            { c.logf("%s", fmt.Sprintln(a...)) }
func (c *benchTB) Logf(f string, a ...any) { c.logf(f, a...) }
func (c *benchTB) Error(a ...any)          { c.fail(); c.Log(a...) }
func (c *benchTB) Errorf(f string, a ...any) {
	c.fail()
	c.Logf(f, a...)
}
func (c *benchTB) Fatal(a ...any) { c.Error(a...); panic(fatal{fmt.Sprint(a...)}) }
func (c *benchTB) Fatalf(f string, a ...any) {
	c.Errorf(f, a...)
	panic(fatal{fmt.Sprintf(f, a...)})
}
func (c *benchTB) Skip(a ...any)            { c.Fatal(a...) }
func (c *benchTB) Skipf(f string, a ...any) { c.Fatalf(f, a...) }
func (c *benchTB) Skipped() bool            { return false }
func (c *benchTB) Cleanup(f func())         { c.mu.Lock(); c.cleanups = append(c.cleanups, f); c.mu.Unlock() }
func (c *benchTB) Failed() bool             { c.mu.Lock(); defer c.mu.Unlock(); return c.failed }
func (c *benchTB) fail()                    { c.mu.Lock(); c.failed = true; c.mu.Unlock() }

func (c *benchTB) logf(f string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := fmt.Sprintf(f, a...)
	c.log.WriteString(strings.TrimRight(s, "\n") + "\n")
}

func (c *benchTB) TempDir() string {
	d, err := os.MkdirTemp("", "glkbench-")
	if err != nil {
		c.Fatal(err)
	}
	c.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (c *benchTB) runCleanups() {
	for {
		c.mu.Lock()
		if len(c.cleanups) == 0 {
			c.mu.Unlock()
			return
		}
		f := c.cleanups[len(c.cleanups)-1]
		c.cleanups = c.cleanups[:len(c.cleanups)-1]
		c.mu.Unlock()
		f()
	}
}

// run executes f as one run named name. It returns an error when f called
// Fatal or Error (the run's log then goes to stderr); cleanups always run.
func run(name string, f func(t *benchTB)) (err error) {
	t := &benchTB{name: name}
	defer func() {
		if r := recover(); r != nil {
			fe, ok := r.(fatal)
			if !ok {
				t.runCleanups()
				panic(r)
			}
			err = fmt.Errorf("%s: %s", name, fe.msg)
		}
		t.runCleanups()
		if err == nil && t.Failed() {
			err = fmt.Errorf("%s: failed", name)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtables: run %s failed; its log:\n%s\n", name, t.log.String())
		}
	}()
	f(t)
	return nil
}
