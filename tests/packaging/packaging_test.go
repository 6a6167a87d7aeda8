// Package packaging builds the plugin the way a distribution would: a Debian
// package from debian/, and `meson install` into a prefix from vendored Go
// modules with the network off. Each build is a Go build of the plugin
// (~15-40 s with a warm GOCACHE, which the builds share with the user).
package packaging

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golivekitsink/golivekitsink/tests/harness"
)

const pkgName = "gstreamer1.0-golivekit"

// TestDebianPackage builds the .deb, installs it, checks that GStreamer finds
// the element with no GST_PLUGIN_PATH, and removes it again.
func TestDebianPackage(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("dpkg -i needs root")
	}
	if st := dpkgStatus(pkgName); st != "" && st != "not-installed" && st != "config-files" {
		t.Fatalf("%s is already on this system (status %q): remove it first; this test installs and removes it", pkgName, st)
	}
	src := copyTree(t)
	// -d: Go comes from /usr/local/go, not from a Debian package (debian/control).
	run(t, src, 4*time.Minute, nil, "dpkg-buildpackage", "-us", "-uc", "-b", "-d")
	debs, _ := filepath.Glob(filepath.Join(filepath.Dir(src), pkgName+"_*_amd64.deb"))
	if len(debs) != 1 {
		t.Fatalf("expected one %s_*_amd64.deb next to the source tree, found %q", pkgName, debs)
	}
	contents := run(t, "", time.Minute, nil, "dpkg-deb", "-c", debs[0])
	want := "./usr/lib/" + multiarch(t) + "/gstreamer-1.0/libgstgolivekit.so"
	if !strings.Contains(contents, want) {
		t.Fatalf("package does not ship %s:\n%s", want, contents)
	}

	t.Cleanup(func() { // also on failure: leave the system as it was
		if out, err := exec.Command("dpkg", "-r", pkgName).CombinedOutput(); err != nil {
			t.Errorf("dpkg -r %s: %v\n%s", pkgName, err, out)
		}
	})
	run(t, "", 2*time.Minute, nil, "dpkg", "-i", debs[0])

	out, err := inspect(t, "")
	if err != nil {
		t.Fatalf("gst-inspect-1.0 golivekitsink with the package installed: %v\n%s", err, out)
	}
	if got := loadedFrom(out); !sameFile(got, strings.TrimPrefix(want, ".")) {
		t.Fatalf("gst-inspect loaded the element from %q, not from the packaged %s:\n%s", got, want, out)
	}

	run(t, "", time.Minute, nil, "dpkg", "-r", pkgName)
	if out, err := inspect(t, ""); err == nil {
		t.Fatalf("golivekitsink still found after dpkg -r:\n%s", out)
	}
}

// TestMesonInstallVendored vendors the Go modules (from the local module
// cache), then builds and installs with the network and module cache out of
// reach, as an offline distro build would.
func TestMesonInstallVendored(t *testing.T) {
	src := copyTree(t)
	run(t, src, 2*time.Minute, []string{"GOFLAGS=-mod=mod", "GOPROXY=off"}, "go", "mod", "vendor")

	tmp := t.TempDir()
	prefix, build := filepath.Join(tmp, "prefix"), filepath.Join(tmp, "build")
	offline := []string{"GOFLAGS=-mod=vendor", "GOPROXY=off", "GOMODCACHE=" + filepath.Join(tmp, "no-modcache")}
	run(t, src, time.Minute, offline, "meson", "setup", "-Dgoflags=-mod=vendor", "--prefix="+prefix, build)
	run(t, src, 4*time.Minute, offline, "meson", "install", "-C", build)
	if entries, _ := os.ReadDir(filepath.Join(tmp, "no-modcache")); len(entries) > 0 {
		t.Errorf("the vendored build wrote into the module cache: %v", entries)
	}

	dir := filepath.Join(prefix, "lib", multiarch(t), "gstreamer-1.0")
	out, err := inspect(t, dir)
	if err != nil {
		t.Fatalf("gst-inspect-1.0 golivekitsink with GST_PLUGIN_PATH=%s: %v\n%s", dir, err, out)
	}
	if got := loadedFrom(out); !sameFile(got, filepath.Join(dir, harness.PluginFile)) {
		t.Fatalf("gst-inspect loaded the element from %q, not from the installed %s:\n%s", got, filepath.Join(dir, harness.PluginFile), out)
	}
}

// TestMesonSystemPluginsDir checks that -Duse_system_pluginsdir=true targets
// GStreamer's own pluginsdir (configure only: nothing is built or installed).
func TestMesonSystemPluginsDir(t *testing.T) {
	build := filepath.Join(t.TempDir(), "build")
	root := harness.RepoRoot()
	run(t, root, time.Minute, nil, "meson", "setup", "-Duse_system_pluginsdir=true", "--prefix=/opt/elsewhere", build)
	want := strings.TrimSpace(run(t, "", time.Minute, nil, "pkg-config", "--variable=pluginsdir", "gstreamer-1.0"))
	installed := run(t, "", time.Minute, nil, "meson", "introspect", "--installed", build)
	if !strings.Contains(installed, `"`+filepath.Join(want, harness.PluginFile)+`"`) {
		t.Fatalf("with use_system_pluginsdir the plugin does not go to %s:\n%s", want, installed)
	}
}

// inspect runs gst-inspect-1.0 golivekitsink with a private registry and, when
// pluginPath is empty, no GST_PLUGIN_PATH at all.
func inspect(t *testing.T, pluginPath string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gst-inspect-1.0", "golivekitsink")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GST_PLUGIN_PATH") && !strings.HasPrefix(kv, "GST_REGISTRY") {
			env = append(env, kv)
		}
	}
	reg := filepath.Join(t.TempDir(), "registry.bin")
	env = append(env, "GST_REGISTRY="+reg, "GST_REGISTRY_1_0="+reg)
	if pluginPath != "" {
		env = append(env, "GST_PLUGIN_PATH="+pluginPath)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// loadedFrom is the plugin file gst-inspect-1.0 reports ("Filename" line).
func loadedFrom(inspectOut string) string {
	for _, l := range strings.Split(inspectOut, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Filename" {
			return f[1]
		}
	}
	return ""
}

// sameFile compares paths after resolving symlinks (merged /usr: GStreamer
// may report /lib/... for a file dpkg installed as /usr/lib/...).
func sameFile(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return a != "" && err1 == nil && err2 == nil && ra == rb
}

// copyTree copies the repository's source files (tracked and untracked, not
// ignored: no build products) to <tmp>/src, so builds leave the repo alone.
func copyTree(t *testing.T) string {
	t.Helper()
	root := harness.RepoRoot()
	files := run(t, root, time.Minute, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	dst := filepath.Join(t.TempDir(), "src")
	for _, f := range strings.Split(strings.TrimRight(files, "\x00"), "\x00") {
		if f == "" {
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, f))
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a symlink/submodule
		}
		if err := copyFile(filepath.Join(root, f), filepath.Join(dst, f), fi.Mode()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func copyFile(from, to string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// run runs a command (in dir, with extra env) and returns its stdout; a
// failure or a timeout fails the test with the output tail.
func run(t *testing.T, dir string, timeout time.Duration, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+os.Getenv("PATH")+":/usr/local/go/bin")
	cmd.Env = append(cmd.Env, env...)
	var stdout, all bytes.Buffer
	cmd.Stdout = io.MultiWriter(&stdout, &all)
	cmd.Stderr = &all
	start := time.Now()
	if err := cmd.Run(); err != nil {
		out := all.String()
		if len(out) > 20000 {
			out = "…" + out[len(out)-20000:]
		}
		t.Fatalf("%s %s: %v (after %v)\n%s", name, strings.Join(args, " "), err, time.Since(start).Round(time.Second), out)
	}
	t.Logf("%s %s: %v", name, strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	return stdout.String()
}

func multiarch(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(run(t, "", time.Minute, nil, "dpkg-architecture", "-qDEB_HOST_MULTIARCH"))
}

func dpkgStatus(pkg string) string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Status}", pkg).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}
