package harness

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// PluginFile is the file name of the built element.
const PluginFile = "libgstgolivekit.so"

// RepoRoot is the repository root: the first directory, walking up from the
// working directory (a test's package directory), that holds tests/go.mod.
func RepoRoot() string {
	if dir, err := os.Getwd(); err == nil {
		for d := dir; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "tests", "go.mod")); err == nil {
				return d
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Dir(filepath.Dir(filepath.Dir(file)))
	}
	return ".."
}

// PluginDir returns the directory holding libgstgolivekit.so: $GOLIVEKIT_PLUGIN_DIR
// if set, else <repo>/build. It fails the test when the plugin is not there.
func PluginDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("GOLIVEKIT_PLUGIN_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(), "build")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		dir = abs
	}
	if _, err := os.Stat(filepath.Join(dir, PluginFile)); err != nil {
		t.Fatalf("harness: %s not found in %s (GOLIVEKIT_PLUGIN_DIR=%q): run `make plugin` in the repository root first",
			PluginFile, dir, os.Getenv("GOLIVEKIT_PLUGIN_DIR"))
	}
	return dir
}
