package harness

// Network namespaces for fault tests.
//
// Topology (n is picked per topology, see allocSubnet):
//
//	host (test process, subscriber side)
//	  glk<id>h 10.201.2n.1/24 ──veth── glk<id>s 10.201.2n.2/24      [ns glk<id>-srv]
//	                                   glk<id>r 10.201.2n+1.1/24 ──veth── glk<id>p 10.201.2n+1.2/24 [ns glk<id>-pub]
//	host route: 10.201.2n+1.0/24 via 10.201.2n.2
//	pub route:  default via 10.201.2n+1.1
//
// The server binds ServerAddr (10.201.2n+1.1), which is local to the srv ns, so
// the publisher reaches it on its own link and the host reaches it through one
// hop that ends in the srv ns: no IP forwarding is needed anywhere. Nothing in
// these namespaces has a route out of the machine: the srv ns has only
// connected routes and forwarding is off, so the publisher's default route ends
// there.
//
// Faults are netdev-family nftables tables on the publisher's veth (ingress and
// egress hooks). Dropping there, below the IP stack, is a real blackhole: the
// sender's sendto() still succeeds, as it would on a broken network. Dropping
// in an inet OUTPUT chain would instead hand the application EPERM, which
// libnice and pion treat differently from silence.
//
// Names embed the creating process id (glk<pid36>x<seq36>), so CleanupStale
// can remove leftovers of a crashed run without touching topologies of another
// test binary that is running right now (go test ./... runs packages in
// parallel).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// NamePrefix starts every namespace, link and nftables table the harness
// creates. scripts/netns-cleanup.sh relies on it.
const NamePrefix = "glk"

const (
	faultUDPTable = "glkudp"
	faultAllTable = "glkall"
	cmdTimeout    = 10 * time.Second
)

// Topology is one server namespace plus one publisher namespace, wired to the
// host namespace as described at the top of this file.
type Topology struct {
	ID    string // glk<pid36>x<seq36>
	SrvNS string // glk<id>-srv
	PubNS string // glk<id>-pub

	HostAddr    string // host end of the host<->srv link
	SrvHostAddr string // srv end of the host<->srv link
	ServerAddr  string // srv end of the srv<->pub link: bind the server here
	PubAddr     string // the publisher's address

	HostIf, SrvHostIf, SrvPubIf, PubIf string

	mu      sync.Mutex
	blocked map[string]bool // fault table name -> installed
}

var topoSeq struct {
	sync.Mutex
	n int
}

// NewTopology builds a fresh topology and registers its removal with
// t.Cleanup. It skips the test when not root or when ip/nft are missing, and
// fails instead when CI=true, so CI can never silently skip the fault tests.
func NewTopology(t testing.TB) *Topology {
	t.Helper()
	requireNetAdmin(t)
	CleanupStale()

	topoSeq.Lock()
	topoSeq.n++
	seq := topoSeq.n
	topoSeq.Unlock()
	id := fmt.Sprintf("%s%sx%s", NamePrefix, strconv.FormatInt(int64(os.Getpid()), 36), strconv.FormatInt(int64(seq), 36))
	tp := &Topology{
		ID: id, SrvNS: id + "-srv", PubNS: id + "-pub",
		HostIf: id + "h", SrvHostIf: id + "s", SrvPubIf: id + "r", PubIf: id + "p",
		blocked: map[string]bool{},
	}
	if len(tp.HostIf) > 15 { // IFNAMSIZ-1; cannot happen with pid_max <= 2^22 and < 36^2 topologies
		t.Fatalf("netns: interface name %q too long", tp.HostIf)
	}

	// The subnet choice and the host route that claims it must be atomic
	// against other test processes, hence the file lock around both.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "glk-netns.lock"))
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	n, err := allocSubnet()
	if err != nil {
		unlock()
		t.Fatalf("netns: %v", err)
	}
	hostNet, pubNet := fmt.Sprintf("10.201.%d", 2*n), fmt.Sprintf("10.201.%d", 2*n+1)
	tp.HostAddr, tp.SrvHostAddr = hostNet+".1", hostNet+".2"
	tp.ServerAddr, tp.PubAddr = pubNet+".1", pubNet+".2"

	t.Cleanup(tp.destroy) // registered first so a half-built topology is removed too
	if _, err := run("ip", "netns", "add", tp.SrvNS); err != nil {
		unlock()
		skipOrFail(t, "cannot create network namespaces: %v", err)
	}
	steps := [][]string{
		{"ip", "netns", "add", tp.PubNS},
		{"ip", "-n", tp.SrvNS, "link", "set", "lo", "up"},
		{"ip", "-n", tp.PubNS, "link", "set", "lo", "up"},
		{"ip", "link", "add", tp.HostIf, "type", "veth", "peer", "name", tp.SrvHostIf, "netns", tp.SrvNS},
		{"ip", "-n", tp.SrvNS, "link", "add", tp.SrvPubIf, "type", "veth", "peer", "name", tp.PubIf, "netns", tp.PubNS},
		{"ip", "addr", "add", tp.HostAddr + "/24", "dev", tp.HostIf},
		{"ip", "link", "set", tp.HostIf, "up"},
		{"ip", "-n", tp.SrvNS, "addr", "add", tp.SrvHostAddr + "/24", "dev", tp.SrvHostIf},
		{"ip", "-n", tp.SrvNS, "link", "set", tp.SrvHostIf, "up"},
		{"ip", "-n", tp.SrvNS, "addr", "add", tp.ServerAddr + "/24", "dev", tp.SrvPubIf},
		{"ip", "-n", tp.SrvNS, "link", "set", tp.SrvPubIf, "up"},
		{"ip", "-n", tp.PubNS, "addr", "add", tp.PubAddr + "/24", "dev", tp.PubIf},
		{"ip", "-n", tp.PubNS, "link", "set", tp.PubIf, "up"},
		{"ip", "-n", tp.PubNS, "route", "add", "default", "via", tp.ServerAddr},
		{"ip", "route", "add", pubNet + ".0/24", "via", tp.SrvHostAddr, "dev", tp.HostIf},
	}
	for _, s := range steps {
		if _, err := run(s...); err != nil {
			unlock()
			t.Fatalf("netns: %v", err)
		}
	}
	unlock()
	// IPv6 off on every link we made: no link-local ICE candidates, DAD or
	// router solicitations to reason about. Best effort, since a kernel
	// without IPv6 has no such sysctls and needs none of this.
	_, _ = run("ip", "netns", "exec", tp.SrvNS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	_, _ = run("ip", "netns", "exec", tp.PubNS, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1")
	_, _ = run("sysctl", "-qw", "net.ipv6.conf."+tp.HostIf+".disable_ipv6=1")
	return tp
}

// PubExec is the command prefix that runs a program in the publisher namespace.
func (tp *Topology) PubExec() []string { return []string{"ip", "netns", "exec", tp.PubNS} }

// SrvExec is the command prefix that runs a program in the server namespace.
func (tp *Topology) SrvExec() []string { return []string{"ip", "netns", "exec", tp.SrvNS} }

// BlockUDP silently drops every UDP packet on the publisher's link, both
// ways. TCP (signalling and ICE/TCP) keeps flowing. Idempotent.
func (tp *Topology) BlockUDP(t testing.TB) {
	t.Helper()
	tp.setFault(t, faultUDPTable, "meta l4proto udp", true)
}

// LossyUDP drops pct percent of the publisher's UDP packets at random, both
// ways: a bad link, not a dead one. UnblockUDP removes it.
func (tp *Topology) LossyUDP(t testing.TB, pct int) {
	t.Helper()
	tp.setFault(t, faultUDPTable, fmt.Sprintf("meta l4proto udp numgen random mod 100 < %d", pct), true)
}

// LimitUDP polices the publisher's UDP to kbit kilobits per second each way,
// with a burst of a quarter second: what exceeds it is dropped, as on a thin
// uplink. UnblockUDP removes it.
func (tp *Topology) LimitUDP(t testing.TB, kbit int) {
	t.Helper()
	rate := max(kbit/8, 1) // kbytes/second
	tp.setFault(t, faultUDPTable, fmt.Sprintf("meta l4proto udp limit rate over %d kbytes/second burst %d kbytes", rate, max(rate/4, 1)), true)
}

// UnblockUDP removes the UDP blackhole. Idempotent.
func (tp *Topology) UnblockUDP(t testing.TB) { t.Helper(); tp.setFault(t, faultUDPTable, "", false) }

// BlockAll drops every packet (ARP included) on the publisher's link: a full
// partition between publisher and server. Idempotent.
func (tp *Topology) BlockAll(t testing.TB) { t.Helper(); tp.setFault(t, faultAllTable, "", true) }

// UnblockAll removes the partition. Idempotent.
func (tp *Topology) UnblockAll(t testing.TB) { t.Helper(); tp.setFault(t, faultAllTable, "", false) }

// AllowPubToHost turns on IPv4 forwarding inside the srv namespace only, so
// the publisher can reach listeners the test process binds on HostAddr (for
// example a SigProxy between a publisher in the pub ns and the server).
// Nothing else becomes reachable: the srv ns has only its two connected
// routes, and the host itself does not forward.
func (tp *Topology) AllowPubToHost(t testing.TB) {
	t.Helper()
	if _, err := run("ip", "netns", "exec", tp.SrvNS, "sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		t.Fatalf("netns: %v", err)
	}
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// DroppedPackets sums the packet counters of the installed fault rules, so a
// test can prove its blackhole was actually hit.
func (tp *Topology) DroppedPackets(t testing.TB) uint64 {
	t.Helper()
	out, err := run("ip", "netns", "exec", tp.PubNS, "nft", "list", "ruleset")
	if err != nil {
		t.Fatalf("netns: %v", err)
	}
	var sum uint64
	for _, m := range counterRE.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseUint(m[1], 10, 64)
		sum += v
	}
	return sum
}

// setFault installs (match "" = everything) or removes one netdev table. The
// leading "add table; delete table" makes both directions idempotent within
// one atomic nft transaction.
func (tp *Topology) setFault(t testing.TB, table, match string, on bool) {
	t.Helper()
	tp.mu.Lock()
	defer tp.mu.Unlock()
	script := fmt.Sprintf("add table netdev %s\ndelete table netdev %s\n", table, table)
	if on {
		for _, c := range []struct{ name, hook string }{{"in", "ingress"}, {"out", "egress"}} {
			script += fmt.Sprintf("add table netdev %s\nadd chain netdev %s %s { type filter hook %s device %q priority 0; policy accept; }\nadd rule netdev %s %s %s counter drop\n",
				table, table, c.name, c.hook, tp.PubIf, table, c.name, match)
		}
	}
	if _, err := runStdin(script, "ip", "netns", "exec", tp.PubNS, "nft", "-f", "-"); err != nil {
		t.Fatalf("netns: fault %s on=%v: %v", table, on, err)
	}
	tp.blocked[table] = on
}

// destroy removes everything the topology created. Processes still running
// inside its namespaces were started by this test (the server, a publisher):
// they are killed by pid, since a netns outlives its name for as long as a
// process holds it, and such an orphan would keep ports and memory forever.
func (tp *Topology) destroy() {
	for _, ns := range []string{tp.PubNS, tp.SrvNS} {
		killNetnsPids(ns)
	}
	// Deleting the host end removes the veth pair (and the host route) at
	// once; namespace teardown alone would do it asynchronously.
	_, _ = run("ip", "link", "del", tp.HostIf)
	for _, ns := range []string{tp.PubNS, tp.SrvNS} {
		_, _ = run("ip", "netns", "del", ns)
	}
}

func killNetnsPids(ns string) {
	out, err := run("ip", "netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// CleanupStale removes glk* namespaces and host links whose creating process
// is gone (a crashed or killed earlier run). Names that do not carry a pid
// are removed too: the prefix is reserved for this harness. Errors are
// ignored; what cannot be removed shows up in the next NewTopology.
func CleanupStale() {
	if os.Geteuid() != 0 {
		return
	}
	if out, err := run("ip", "netns", "list"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.HasPrefix(f[0], NamePrefix) || ownerAlive(f[0]) {
				continue
			}
			killNetnsPids(f[0])
			_, _ = run("ip", "netns", "del", f[0])
		}
	}
	if out, err := run("ip", "-o", "link", "show"); err == nil {
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line) // "5: glkxh@if2: <...> ..."
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			if strings.HasPrefix(name, NamePrefix) && !ownerAlive(name) {
				_, _ = run("ip", "link", "del", name)
			}
		}
	}
}

var ownerRE = regexp.MustCompile(`^` + NamePrefix + `([0-9a-z]+)x[0-9a-z]+`)

// ownerAlive reports whether the process encoded in a harness name still
// runs. A recycled pid keeps a leftover alive until the next run; the cleanup
// script removes those unconditionally.
func ownerAlive(name string) bool {
	m := ownerRE.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	pid, err := strconv.ParseInt(m[1], 36, 32)
	if err != nil || pid <= 0 {
		return false
	}
	if int(pid) == os.Getpid() {
		return true
	}
	err = syscall.Kill(int(pid), 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

var subnetRE = regexp.MustCompile(`10\.201\.(\d+)\.`)

// allocSubnet returns the smallest n in 1..126 for which neither 10.201.2n/24
// nor 10.201.2n+1/24 appears in the host's routes or addresses. Every live
// topology owns a connected route and a via route for its two /24s, so this
// is exactly the set in use. The caller holds the cross-process lock.
func allocSubnet() (int, error) {
	used := map[int]bool{}
	for _, args := range [][]string{{"ip", "-4", "-o", "route", "show"}, {"ip", "-4", "-o", "addr", "show"}} {
		out, err := run(args...)
		if err != nil {
			return 0, err
		}
		for _, m := range subnetRE.FindAllStringSubmatch(out, -1) {
			v, _ := strconv.Atoi(m[1])
			used[v] = true
		}
	}
	for n := 1; n <= 126; n++ {
		if !used[2*n] && !used[2*n+1] {
			return n, nil
		}
	}
	return 0, errors.New("no free 10.201.x.0/24 pair; run scripts/netns-cleanup.sh")
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func requireNetAdmin(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespace tests need root (uid %d)", os.Geteuid())
	}
	for _, bin := range []string{"ip", "nft", "sysctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			skipOrFail(t, "network namespace tests need %q (iproute2/nftables/procps): %v", bin, err)
		}
	}
}

// skipOrFail skips locally but fails under CI=true: a CI run that silently
// skipped every fault test would look green while testing nothing.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true: "+format, args...)
	}
	t.Skipf(format, args...)
}

func run(args ...string) (string, error) { return runStdin("", args...) }

func runStdin(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}
