// Command lksub joins a LiveKit room as a recording subscriber (the test
// harness subscriber), waits until interrupted or -seconds pass, then prints
// per track what arrived and how many frames decode. It exits 1 when no video
// frame decoded (unless -video=false).
//
//	lksub -url ws://127.0.0.1:7880 -key devkey -secret … -room demo -out /tmp/demo
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:7880", "LiveKit signalling URL")
	key := flag.String("key", harness.DevKey, "API key")
	secret := flag.String("secret", harness.DevSecret, "API secret")
	room := flag.String("room", "demo", "room name")
	out := flag.String("out", "", "directory for the received media files (default: a temp dir)")
	seconds := flag.Int("seconds", 60, "stop after this many seconds at most")
	wantVideo := flag.Bool("video", true, "exit 1 unless video frames decoded")
	verbose := flag.Bool("v", false, "show the LiveKit SDK's own log")
	flag.Parse()
	if !*verbose {
		lksdk.SetLogger(protoLogger.GetDiscardLogger())
	}

	t := &cliTB{name: "lksub"}
	defer t.runCleanups()
	if *out == "" {
		*out = t.TempDir()
	}
	sub := harness.Subscribe(t, *url, *key, *secret, *room, *out)
	fmt.Printf("lksub: joined room %q at %s as %s\n", *room, *url, sub.Identity)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sig:
	case <-time.After(time.Duration(*seconds) * time.Second):
	}
	sub.Close()

	videoFrames := 0
	tracks := sub.Tracks()
	if len(tracks) == 0 {
		fmt.Println("lksub: no tracks received")
	}
	for _, tr := range tracks {
		n := 0
		if tr.File != "" && tr.Frames > 0 {
			n = harness.DecodedFrames(t, tr.File, tr.Codec)
		}
		if tr.Kind == "video" {
			videoFrames += n
		}
		dur := time.Duration(0)
		if len(tr.Packets) > 1 {
			dur = tr.Packets[len(tr.Packets)-1].At.Sub(tr.Packets[0].At)
		}
		fmt.Printf("lksub: %-5s %-10s from %s (%s) track %s: %d packets over %v, %d frames written, %d decoded, max gap %v -> %s\n",
			tr.Kind, tr.Codec, tr.Identity, tr.ParticipantSID, tr.TrackSID, len(tr.Packets), dur.Round(time.Millisecond),
			tr.Frames, n, sub.MaxGap(tr.Kind, time.Time{}, time.Time{}).Round(time.Millisecond), tr.File)
	}
	t.runCleanups()
	if *wantVideo && videoFrames == 0 {
		fmt.Println("lksub: FAIL: no video frames decoded")
		os.Exit(1)
	}
	if t.failed {
		os.Exit(1)
	}
	fmt.Printf("lksub: OK: %d video frames decoded\n", videoFrames)
}

// cliTB lets the harness (written for tests) run in a command: it implements
// the testing.TB methods the harness calls; any other method panics.
type cliTB struct {
	testing.TB
	name     string
	failed   bool
	cleanups []func()
}

func (c *cliTB) Helper()                      {}
func (c *cliTB) Name() string                 { return c.name }
func (c *cliTB) Log(args ...any)              { fmt.Fprintln(os.Stderr, args...) }
func (c *cliTB) Logf(f string, args ...any)   { fmt.Fprintf(os.Stderr, f+"\n", args...) }
func (c *cliTB) Error(args ...any)            { c.failed = true; c.Log(args...) }
func (c *cliTB) Errorf(f string, args ...any) { c.failed = true; c.Logf(f, args...) }
func (c *cliTB) Fatal(args ...any)            { c.Error(args...); c.exit() }
func (c *cliTB) Fatalf(f string, args ...any) { c.Errorf(f, args...); c.exit() }
func (c *cliTB) Skip(args ...any)             { c.Fatal(args...) }
func (c *cliTB) Skipf(f string, args ...any)  { c.Fatalf(f, args...) }
func (c *cliTB) Failed() bool                 { return c.failed }
func (c *cliTB) Cleanup(f func())             { c.cleanups = append(c.cleanups, f) }
func (c *cliTB) exit()                        { c.runCleanups(); os.Exit(1) }
func (c *cliTB) TempDir() string {
	d, err := os.MkdirTemp("", "lksub-")
	if err != nil {
		c.Fatal(err)
	}
	return d
}

func (c *cliTB) runCleanups() {
	for len(c.cleanups) > 0 {
		f := c.cleanups[len(c.cleanups)-1]
		c.cleanups = c.cleanups[:len(c.cleanups)-1]
		f()
	}
}
