// Package setupcheck keeps scripts/setup.sh honest: every GStreamer element a
// pipeline of the README, examples/, tests/ or plugin/ names, and every
// program the tests run, must come from a Debian package that setup.sh
// installs (or one those packages depend on). CI runs on a machine that may
// have more installed than a fresh one; without this test a missing package
// shows up only on the next fresh machine.
package setupcheck

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var root = filepath.Join("..", "..")

// setupPackages reads the PACKAGES=( … ) list of scripts/setup.sh.
func setupPackages(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "scripts", "setup.sh"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "PACKAGES=(")
	if i < 0 {
		t.Fatal("scripts/setup.sh has no PACKAGES=( … ) list")
	}
	s = s[i+len("PACKAGES=("):]
	j := strings.Index(s, "\n)")
	if j < 0 {
		t.Fatal("scripts/setup.sh: PACKAGES list is not closed")
	}
	var pkgs []string
	for _, line := range strings.Split(s[:j], "\n") {
		if k := strings.Index(line, "#"); k >= 0 {
			line = line[:k]
		}
		pkgs = append(pkgs, strings.Fields(line)...)
	}
	// setup.sh installs npm only when there is none; tests do not use it.
	return pkgs
}

// allowedPackages is what setup.sh's list brings onto a fresh machine: the
// packages, what they depend on (apt-get install --no-install-recommends),
// and the Essential and required packages every Debian system has.
func allowedPackages(t *testing.T, listed []string) map[string]bool {
	t.Helper()
	args := append([]string{"depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
		"--no-breaks", "--no-replaces", "--no-enhances", "--installed"}, listed...)
	out, err := exec.Command("apt-cache", args...).Output()
	if err != nil {
		t.Fatalf("apt-cache depends: %v", err)
	}
	allowed := map[string]bool{}
	for _, p := range listed {
		allowed[p] = true
	}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if k := strings.Index(line, ":"); k >= 0 && strings.Contains(line[:k], "Depends") {
			line = strings.TrimSpace(line[k+1:])
		}
		line = strings.Trim(line, "<>|")
		if f := strings.Fields(line); len(f) > 0 {
			allowed[strings.SplitN(f[0], ":", 2)[0]] = true
		}
	}
	ess, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Essential} ${Priority}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	for _, line := range strings.Split(string(ess), "\n") {
		// Essential and required packages are on every Debian system (apt, dpkg, bash, …).
		if f := strings.Fields(line); len(f) == 3 && (f[1] == "yes" || f[2] == "required") {
			allowed[f[0]] = true
		}
	}
	return allowed
}

// packageOf maps an installed file to its Debian package ("" if none owns it).
// Debian 12 is usrmerged: dpkg may know the file under /bin or /lib instead.
func packageOf(path string) string {
	cands := []string{path}
	if real, err := filepath.EvalSymlinks(path); err == nil && real != path {
		cands = append(cands, real)
	}
	for _, p := range append([]string(nil), cands...) {
		if strings.HasPrefix(p, "/usr/") {
			cands = append(cands, strings.TrimPrefix(p, "/usr"))
		} else {
			cands = append(cands, "/usr"+p)
		}
	}
	for _, p := range cands {
		out, err := exec.Command("dpkg", "-S", p).Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(out), "\n") {
			k := strings.Index(line, ": ")
			if k <= 0 || strings.HasPrefix(line, "diversion by") {
				continue
			}
			return strings.SplitN(strings.Split(line[:k], ", ")[0], ":", 2)[0]
		}
	}
	return ""
}

// sourceFiles lists the files whose pipelines and commands count.
func sourceFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root, "README.md")}
	for _, dir := range []string{"examples", "tests", "plugin", "scripts"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || d.Name() == "out") {
				return filepath.SkipDir
			}
			switch filepath.Ext(p) {
			case ".go", ".sh", ".py", ".c", ".md":
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

var (
	quotedWord = regexp.MustCompile(`"([a-z][a-z0-9_-]+)"`)
	wordToken  = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	// Program candidates: a string literal of Go code, or any word of a shell
	// or Python script. Only words that name an installed program in a system
	// bin directory are checked, so prose and flags fall away by themselves.
	programWord = regexp.MustCompile(`[a-z][a-z0-9._+-]*[a-z0-9]`)
	pyImport    = regexp.MustCompile(`^(import|from) [\w.]+`)
	goImport    = regexp.MustCompile(`^\s*(import\s+)?(\w+\s+)?"[^"]+"\s*$`)
)

// notPrograms are words the scan finds that the code does not run as programs.
var notPrograms = map[string]string{
	"route": "an argument of `ip route`",
}

// fromTheMachine are programs setup.sh deliberately takes from the machine
// when it has them.
var fromTheMachine = map[string]string{
	"nodejs": "setup.sh installs Debian's npm only when there is no npm (a NodeSource nodejs bundles its own and conflicts)",
}

// pipelineElements returns the element-like words of a line of a
// gst-launch description: the first word after every '!', and the last word
// before the first one (the source after "gst-launch-1.0 -q" or a quote).
func pipelineElements(line string) []string {
	if !strings.Contains(line, "!") {
		return nil
	}
	var out []string
	segs := strings.Split(line, "!")
	for i, seg := range segs {
		seg = strings.NewReplacer(`"`, " ", "`", " ", "'", " ", "(", " ", ")", " ", "+", " ").Replace(seg)
		words := strings.Fields(seg)
		if len(words) == 0 {
			continue
		}
		if i == 0 {
			for k := len(words) - 1; k >= 0; k-- {
				if !strings.Contains(words[k], "=") {
					out = append(out, words[k])
					break
				}
			}
			continue
		}
		out = append(out, words[0])
	}
	return out
}

// uses collects element names and program names with the first file naming each.
func uses(t *testing.T) (elements, programs map[string]string) {
	t.Helper()
	elements, programs = map[string]string{}, map[string]string{}
	for _, f := range sourceFiles(t) {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			where := strings.TrimPrefix(f, root+"/") + ":" + strconv.Itoa(n)
			for _, w := range pipelineElements(line) {
				if wordToken.MatchString(w) {
					if _, ok := elements[w]; !ok {
						elements[w] = where
					}
				}
			}
			for _, m := range quotedWord.FindAllStringSubmatch(line, -1) {
				if _, ok := elements[m[1]]; !ok {
					elements[m[1]] = where
				}
			}
			switch filepath.Ext(f) {
			case ".go":
				if goImport.MatchString(line) {
					continue
				}
				for _, m := range quotedWord.FindAllStringSubmatch(line, -1) {
					addProgram(programs, m[1], where)
				}
			case ".sh", ".py":
				trimmed := strings.TrimSpace(line)
				if !strings.HasPrefix(trimmed, "#") && !pyImport.MatchString(trimmed) {
					for _, loc := range programWord.FindAllStringIndex(line, -1) {
						// A value after '=' (format=time in a pipeline,
						// VAR=value) is not something that runs.
						if loc[0] > 0 && line[loc[0]-1] == '=' {
							continue
						}
						addProgram(programs, line[loc[0]:loc[1]], where)
					}
				}
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return elements, programs
}

func addProgram(programs map[string]string, name, where string) {
	if _, ok := programs[name]; !ok {
		programs[name] = where
	}
}

// factories maps every element factory GStreamer knows on this machine to
// the file of its plugin.
func factories(t *testing.T) map[string]string {
	t.Helper()
	if _, err := exec.LookPath("gst-inspect-1.0"); err != nil {
		t.Fatal("gst-inspect-1.0 not found: scripts/setup.sh installs gstreamer1.0-tools")
	}
	cmd := exec.Command("gst-inspect-1.0")
	cmd.Env = append(os.Environ(), "GST_PLUGIN_PATH=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gst-inspect-1.0: %v", err)
	}
	plugins := map[string]string{} // factory -> plugin name
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.SplitN(line, ": ", 3)
		if len(f) == 3 {
			plugins[strings.TrimSpace(f[1])] = strings.TrimSpace(f[0])
		}
	}
	files := map[string]string{}  // plugin name -> file
	result := map[string]string{} // factory -> file
	for fac, plugin := range plugins {
		file, ok := files[plugin]
		if !ok {
			cmd := exec.Command("gst-inspect-1.0", "--plugin", plugin)
			cmd.Env = append(os.Environ(), "GST_PLUGIN_PATH=")
			pout, err := cmd.Output()
			if err == nil {
				for _, l := range strings.Split(string(pout), "\n") {
					l = strings.TrimSpace(l)
					if strings.HasPrefix(l, "Filename") {
						file = strings.TrimSpace(strings.TrimPrefix(l, "Filename"))
						break
					}
				}
			}
			files[plugin] = file
		}
		result[fac] = file
	}
	return result
}

func TestEveryElementComesFromASetupPackage(t *testing.T) {
	listed := setupPackages(t)
	allowed := allowedPackages(t, listed)
	elements, _ := uses(t)
	known := factories(t)
	var bad, checked []string
	for el, where := range elements {
		file, ok := known[el]
		if !ok || file == "" {
			continue // not an element (caps, a property value, a word in a comment) or ours
		}
		pkg := packageOf(file)
		checked = append(checked, el+"="+pkg)
		if pkg == "" {
			bad = append(bad, el+" ("+where+"): its plugin "+file+" belongs to no Debian package")
			continue
		}
		if !allowed[pkg] {
			bad = append(bad, el+" ("+where+") comes from "+pkg+", which scripts/setup.sh does not install")
		}
	}
	sort.Strings(checked)
	t.Logf("%d elements checked: %s", len(checked), strings.Join(checked, " "))
	if len(checked) < 20 {
		t.Fatalf("only %d elements found in pipelines; the scan is broken", len(checked))
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// Programs the tests run: a fresh machine must have them from setup.sh too.
// Go itself is not a Debian package here (/usr/local/go).
func TestEveryProgramComesFromASetupPackage(t *testing.T) {
	listed := setupPackages(t)
	allowed := allowedPackages(t, listed)
	_, programs := uses(t)
	var bad, checked []string
	for prog, where := range programs {
		path, err := exec.LookPath(prog)
		if err != nil {
			continue // not a program (or one no test here can have run)
		}
		if dir := filepath.Dir(path); dir != "/usr/bin" && dir != "/usr/sbin" && dir != "/bin" && dir != "/sbin" {
			continue // not from a package (Go is /usr/local/go)
		}
		if _, ok := notPrograms[prog]; ok {
			continue
		}
		pkg := packageOf(path)
		checked = append(checked, prog+"="+pkg)
		switch {
		case fromTheMachine[pkg] != "":
		case pkg == "":
			bad = append(bad, prog+" ("+where+") at "+path+" belongs to no Debian package")
		case !allowed[pkg]:
			bad = append(bad, prog+" ("+where+") comes from "+pkg+", which scripts/setup.sh does not install")
		}
	}
	sort.Strings(checked)
	t.Logf("%d programs checked: %s", len(checked), strings.Join(checked, " "))
	if len(checked) < 10 {
		t.Fatalf("only %d programs found; the scan is broken", len(checked))
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
}

// The line scanner finds the elements of a typical pipeline line.
func TestPipelineElements(t *testing.T) {
	got := pipelineElements(`	"gst-launch-1.0 -q videotestsrc is-live=true ! video/x-raw,width=320 ! x264enc tune=zerolatency ! " +`)
	want := []string{"videotestsrc", "video/x-raw,width=320", "x264enc"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
}
