package viewer

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chromiumFlags keep the browser on loopback: no sync, updates, field trials
// or proxies. mDNS host-name hiding is off so ICE can pair loopback addresses.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--no-proxy-server",
	"--disable-features=WebRtcHideLocalIpsWithMdns,MediaRouter,OptimizationHints",
	"--autoplay-policy=no-user-gesture-required", "--mute-audio",
	"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
}

// browser is a headless chromium with one page, driven over the DevTools
// protocol (just Runtime.evaluate: enough to read what the page exposes).
type browser struct {
	cmd  *exec.Cmd
	ws   *websocket.Conn
	mu   sync.Mutex
	next int
	logs strings.Builder
}

var devtoolsRE = regexp.MustCompile(`DevTools listening on (ws://127\.0\.0\.1:(\d+)/\S+)`)

// startBrowser opens pageURL in chromium and connects to the page's DevTools
// socket. The browser is killed on t.Cleanup.
func startBrowser(t *testing.T, bin, pageURL string) *browser {
	t.Helper()
	args := append(append([]string{}, chromiumFlags...), "--user-data-dir="+t.TempDir(), pageURL)
	b := &browser{cmd: exec.Command(bin, args...)}
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := b.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		if b.ws != nil {
			b.ws.Close()
		}
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) // chromium forks helpers
		_ = b.cmd.Wait()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", b.logs.String())
		}
	})

	port := make(chan string, 1)
	go func() { // stderr carries the DevTools address; keep the rest for failures
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			b.mu.Lock()
			b.logs.WriteString(line + "\n")
			b.mu.Unlock()
			if m := devtoolsRE.FindStringSubmatch(line); m != nil {
				select {
				case port <- m[2]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(20 * time.Second):
		t.Fatalf("chromium printed no DevTools address in 20s")
	}
	wsURL := pageSocket(t, p, 10*time.Second)
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("devtools dial %s: %v", wsURL, err)
	}
	b.ws = ws
	return b
}

// pageSocket finds the page target's DevTools socket (it appears a moment
// after the browser socket).
func pageSocket(t *testing.T, port string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var targets []struct{ Type, URL, WebSocketDebuggerURL string }
		resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.HasPrefix(tg.URL, "http://127.0.0.1:") {
				return tg.WebSocketDebuggerURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target on DevTools port %s after %v (last error %v, targets %+v)", port, timeout, err, targets)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// eval runs expr in the page and decodes its JSON-serialisable value into out.
func (b *browser) eval(ctx context.Context, expr string, out any) error {
	b.mu.Lock()
	b.next++
	id := b.next
	b.mu.Unlock()
	req := map[string]any{"id": id, "method": "Runtime.evaluate",
		"params": map[string]any{"expression": expr, "returnByValue": true}}
	if dl, ok := ctx.Deadline(); ok {
		_ = b.ws.SetReadDeadline(dl)
		defer b.ws.SetReadDeadline(time.Time{})
	}
	if err := b.ws.WriteJSON(req); err != nil {
		return err
	}
	for { // skip events and other replies until ours arrives
		var resp struct {
			ID     int `json:"id"`
			Result struct {
				Result struct {
					Value json.RawMessage `json:"value"`
				} `json:"result"`
				ExceptionDetails *struct {
					Text string `json:"text"`
				} `json:"exceptionDetails"`
			} `json:"result"`
			Error *struct{ Message string } `json:"error"`
		}
		if err := b.ws.ReadJSON(&resp); err != nil {
			return err
		}
		if resp.ID != id {
			continue
		}
		if resp.Error != nil {
			return fmt.Errorf("devtools: %s", resp.Error.Message)
		}
		if e := resp.Result.ExceptionDetails; e != nil {
			return fmt.Errorf("page exception: %s", e.Text)
		}
		return json.Unmarshal(resp.Result.Result.Value, out)
	}
}
