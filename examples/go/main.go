// Command go-publish publishes H.264 + Opus into a LiveKit room with
// golivekitsink from a Go application (go-gst v1.4.0).
//
//	go run ./examples/go -seconds 20      (default: until Ctrl-C)
//
// Settings from the environment: LIVEKIT_URL, LIVEKIT_API_KEY,
// LIVEKIT_API_SECRET, ROOM, IDENTITY (defaults: the demo's). Every
// golivekitsink-connection bus message is printed; after -seconds (or on
// Ctrl-C) EOS is sent, and the program exits once it arrived.
//
// The element comes from the Go package plugin, registered in this process by
// plugin.Register after gst.Init, not from libgstgolivekit.so on
// GST_PLUGIN_PATH: that file carries its own Go runtime, and a second Go
// runtime in a Go process is not supported by Go (docs/architecture.md,
// "Go applications").
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-gst/go-glib/glib"
	"github.com/go-gst/go-gst/gst"

	"github.com/golivekitsink/golivekitsink/plugin"
)

const launch = "videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=30/1 " +
	"! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=60 ! golivekitsink name=lk " +
	"audiotestsrc is-live=true ! audio/x-raw,rate=48000,channels=2 ! opusenc ! lk."

func main() {
	seconds := flag.Int("seconds", 0, "send EOS after this many seconds (0: run until Ctrl-C)")
	flag.Parse()
	os.Exit(run(*seconds))
}

func run(seconds int) int {
	gst.Init(nil)
	if err := plugin.Register(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pipeline, err := gst.NewPipelineFromString(launch)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pipeline:", err)
		return 2
	}
	lk, err := pipeline.GetElementByName("lk")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	// "signaller::" properties go through GstChildProxy, as with livekitwebrtcsink.
	proxy := gst.ToChildProxy(lk)
	for name, value := range map[string]string{
		"signaller::ws-url":     env("LIVEKIT_URL", "ws://127.0.0.1:7880"),
		"signaller::api-key":    env("LIVEKIT_API_KEY", "devkey"),
		"signaller::secret-key": env("LIVEKIT_API_SECRET", "golivekitsink-demo-secret-0123456789abcdef"),
		"signaller::room-name":  env("ROOM", "demo"),
		"signaller::identity":   env("IDENTITY", "go-example"),
	} {
		v, err := glib.GValue(value)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		proxy.SetProperty(name, v)
	}

	loop := glib.NewMainLoop(glib.MainContextDefault(), false)
	var code atomic.Int32 // set from the bus watch and the EOS timer
	pipeline.GetPipelineBus().AddWatch(func(msg *gst.Message) bool {
		switch msg.Type() {
		case gst.MessageElement:
			if s := msg.GetStructure(); s != nil && s.Name() == "golivekitsink-connection" {
				fmt.Println(s.String())
			}
		case gst.MessageWarning:
			fmt.Fprintf(os.Stderr, "WARNING from %s: %v\n", msg.Source(), msg.ParseWarning())
		case gst.MessageError:
			// Only raised when the element cannot go on (bad credentials, DISCONNECT).
			fmt.Fprintf(os.Stderr, "ERROR from %s: %v\n", msg.Source(), msg.ParseError())
			code.Store(1)
			loop.Quit()
		case gst.MessageEOS:
			fmt.Println("EOS")
			loop.Quit()
		}
		return true
	})

	// EOS lets the element leave the room cleanly before the pipeline stops.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	var timer <-chan time.Time
	if seconds > 0 {
		timer = time.After(time.Duration(seconds) * time.Second)
	}
	go func() {
		select {
		case <-stop:
		case <-timer:
		}
		fmt.Println("sending EOS")
		pipeline.SendEvent(gst.NewEOSEvent())
		time.Sleep(10 * time.Second)
		fmt.Fprintln(os.Stderr, "EOS did not arrive within 10 s, stopping")
		code.Store(1)
		loop.Quit()
	}()

	if err := pipeline.SetState(gst.StatePlaying); err != nil {
		fmt.Fprintln(os.Stderr, "could not start the pipeline:", err)
		return 1
	}
	loop.Run()
	_ = pipeline.SetState(gst.StateNull)
	return int(code.Load())
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
