package examples

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-gst/go-gst/gst"

	"github.com/golivekitsink/golivekitsink/plugin"
	"github.com/golivekitsink/golivekitsink/tests/harness"
)

// registerCaseEnv selects the case TestRegisterChild runs in a child process:
// gst.Init happens once per process, so each case needs its own.
const registerCaseEnv = "GLK_REGISTER_CASE"

// TestRegister checks plugin.Register's contract for Go applications: an
// error before gst.Init that a later call can recover from, the element
// usable afterwards, and a clear error when libgstgolivekit.so is on
// GST_PLUGIN_PATH (the file is only found in the registry, never loaded, so
// no second Go runtime starts here).
func TestRegister(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pluginPath string
	}{
		{"in-process", t.TempDir()},
		{"plugin-file-on-path", harness.PluginDir(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRegisterChild$", "-test.v")
			cmd.Env = append(os.Environ(), registerCaseEnv+"="+tc.name,
				"GST_PLUGIN_PATH="+tc.pluginPath, "GST_REGISTRY="+filepath.Join(t.TempDir(), "registry.bin"))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestRegisterChild") {
				t.Fatalf("child (%v):\n%s", err, out)
			}
		})
	}
}

func TestRegisterChild(t *testing.T) {
	switch os.Getenv(registerCaseEnv) {
	case "in-process":
		if err := plugin.Register(); err == nil || !strings.Contains(err.Error(), "before gst.Init") {
			t.Fatalf("Register before gst.Init: %v, want the before-gst.Init error", err)
		}
		gst.Init(nil)
		if gst.Find("golivekitsink") != nil {
			t.Fatal("golivekitsink found before Register: GST_PLUGIN_PATH should not hold it")
		}
		for i := 0; i < 2; i++ {
			if err := plugin.Register(); err != nil {
				t.Fatalf("Register after gst.Init (call %d): %v", i+1, err)
			}
		}
		el, err := gst.NewElement("golivekitsink")
		if err != nil {
			t.Fatalf("golivekitsink after Register: %v", err)
		}
		if got := el.GetFactory().GetPluginName(); got != "golivekit" {
			t.Errorf("plugin of the element: %q, want golivekit", got)
		}
	case "plugin-file-on-path":
		gst.Init(nil)
		err := plugin.Register()
		if err == nil || !strings.Contains(err.Error(), "already registered") {
			t.Fatalf("Register with libgstgolivekit.so on GST_PLUGIN_PATH: %v, want the already-registered error", err)
		}
		t.Logf("error as expected: %v", err)
	default:
		t.Skip("runs in a child process of TestRegister")
	}
}
