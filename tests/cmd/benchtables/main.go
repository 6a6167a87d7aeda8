// Command benchtables measures golivekitsink against real livekit-server
// versions and prints the results as tables, each also written as Markdown
// to tests/bench/out/<name>.md. It asserts nothing beyond "the run worked".
//
//	rtp      ns/op of the packetizers (go test -bench ./rtp/ in the root module)
//	startup  PLAYING -> first video packet at a subscriber already in the room
//	cpu      CPU per media-minute, golivekitsink vs a server-sdk-go publisher
//	gaps     media gap per fault, golivekitsink vs a server-sdk-go publisher
//	sinks    golivekitsink elements per gst-launch process on this machine
//
// Knobs: -parts (default all), BENCH_RUNS (runs per cell of cpu and gaps,
// default 3), BENCH_STARTUP_RUNS (default 5), BENCH_FAULTS (subset of
// reset,resume,reconnect,udp,kill), BENCH_PUBLISHERS (golivekitsink,sdk),
// BENCH_SINKS (sink counts, default 1,4,8,16), LIVEKIT_VERSIONS,
// GOLIVEKIT_PLUGIN_DIR.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	protoLogger "github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

var (
	repoRoot  string
	pluginDir string
	cacheDir  string // ~/.cache/golivekitsink/bench: media files, registry, sdkpub
	outDir    string
	sdkpubBin string
)

func main() {
	parts := flag.String("parts", "rtp,startup,cpu,sinks,gaps,simulcast", "comma-separated parts to run")
	out := flag.String("out", "", "directory for the Markdown tables (default <repo>/tests/bench/out)")
	flag.Parse()
	lksdk.SetLogger(protoLogger.GetDiscardLogger())

	repoRoot = harness.RepoRoot()
	outDir = *out
	if outDir == "" {
		outDir = filepath.Join(repoRoot, "tests", "bench", "out")
	}
	pluginDir = os.Getenv("GOLIVEKIT_PLUGIN_DIR")
	if pluginDir == "" {
		pluginDir = filepath.Join(repoRoot, "build")
	}
	pluginDir, _ = filepath.Abs(pluginDir)
	cacheDir = filepath.Join(harness.CacheDir(), "bench")
	must(os.MkdirAll(cacheDir, 0o755))
	must(os.MkdirAll(outDir, 0o755))
	harness.CleanupStale()

	all := map[string]func() error{"rtp": benchRTP, "startup": benchStartup, "cpu": benchCPU, "sinks": benchSinks, "gaps": benchGaps, "simulcast": benchSimulcast}
	var failed []string
	begin := time.Now()
	for _, p := range strings.Split(*parts, ",") {
		p = strings.TrimSpace(p)
		f, ok := all[p]
		if !ok {
			fmt.Fprintf(os.Stderr, "benchtables: unknown part %q\n", p)
			os.Exit(2)
		}
		if p != "rtp" {
			must(prepare())
		}
		t0 := time.Now()
		fmt.Printf("\n== %s (started %s)\n", p, t0.Format("15:04:05"))
		err := f()
		fmt.Printf("== %s took %s\n", p, time.Since(t0).Round(time.Second))
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchtables: %s: %v\n", p, err)
			failed = append(failed, p)
		}
	}
	fmt.Printf("\nbenchtables: all parts took %s; tables in %s\n", time.Since(begin).Round(time.Second), outDir)
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "benchtables: parts that did not work: %s\n", strings.Join(failed, ", "))
		os.Exit(1)
	}
}

var prepared bool

// prepare checks the plugin, warms the registry and builds sdkpub, once.
func prepare() error {
	if prepared {
		return nil
	}
	if _, err := os.Stat(filepath.Join(pluginDir, harness.PluginFile)); err != nil {
		return fmt.Errorf("%s not in %s: run `make plugin` first", harness.PluginFile, pluginDir)
	}
	// A private copy of the plugin: others may rebuild build/ while the
	// bench runs, and a changed .so would make gst rescan inside a measured process.
	env, err := snapshotPlugin(pluginDir, filepath.Join(cacheDir, "plugin"))
	if err != nil {
		return err
	}
	mainEnv = env
	sdkpubBin = filepath.Join(cacheDir, "sdkpub")
	build := exec.Command("go", "build", "-o", sdkpubBin, "./cmd/sdkpub")
	build.Dir = filepath.Join(repoRoot, "tests")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build sdkpub: %v\n%s", err, b)
	}
	prepared = true
	return nil
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envList(name string, def []string) []string {
	if v := strings.Fields(strings.ReplaceAll(os.Getenv(name), ",", " ")); len(v) > 0 {
		return v
	}
	return def
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtables:", err)
		os.Exit(1)
	}
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(dst+".part", b, 0o644); err != nil {
		return err
	}
	return os.Rename(dst+".part", dst)
}
