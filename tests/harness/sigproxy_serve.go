package harness

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

func (p *SigProxy) serveRegions(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	b := p.regionsJSON
	if b != nil {
		p.regionsAuth = append(p.regionsAuth, r.Header.Get("Authorization"))
	}
	p.mu.Unlock()
	if b == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (p *SigProxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		http.Error(w, "proxy closed", http.StatusServiceUnavailable)
		return
	}
	defer p.wg.Done()
	if websocket.IsWebSocketUpgrade(r) {
		p.serveUpgrade(w, r)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/validate") {
		p.mu.Lock()
		st := p.lastRejection
		p.mu.Unlock()
		if st != 0 {
			http.Error(w, "rejected by SigProxy", st)
			return
		}
	}
	p.rproxy.ServeHTTP(w, r)
}

func (p *SigProxy) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	up := *p.upstream
	ci := &ConnInfo{
		ID: len(p.infos) + 1, Path: r.URL.Path, Query: q,
		Reconnect: q.Get("reconnect") == "1" || q.Get("reconnect") == "true",
		SID:       q.Get("sid"), ReconnectReason: q.Get("reconnect_reason"),
		Authorization: r.Header.Get("Authorization"), Upstream: up.String(), Start: time.Now(),
	}
	p.infos = append(p.infos, ci)
	reject := 0
	if p.rejectLeft > 0 {
		p.rejectLeft--
		reject = p.rejectStatus
	}
	p.lastRejection = reject
	p.mu.Unlock()

	if reject != 0 {
		p.endConn(ci, "rejected", 0, reject)
		http.Error(w, "rejected by SigProxy", reject)
		return
	}

	target := up
	target.Path = strings.TrimSuffix(up.Path, "/") + r.URL.Path
	target.RawQuery = r.URL.RawQuery
	hdr := http.Header{}
	for _, k := range []string{"Authorization", "User-Agent"} {
		if v := r.Header.Get(k); v != "" {
			hdr.Set(k, v)
		}
	}
	upConn, resp, err := p.dialer.DialContext(r.Context(), target.String(), hdr)
	if err != nil {
		// Pass the upstream's answer (401, 404, 500 ...) through unchanged, so
		// the client sees what the server said.
		status := http.StatusBadGateway
		var body []byte
		if resp != nil {
			status = resp.StatusCode
			body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		} else {
			body = []byte(err.Error())
		}
		p.endConn(ci, "upstream-rejected", 0, status)
		w.WriteHeader(status)
		_, _ = w.Write(body)
		return
	}
	clConn, err := p.upgrader.Upgrade(w, r, nil)
	if err != nil {
		upConn.Close()
		p.endConn(ci, "client-error", 0, 0)
		return
	}
	pc := newProxyConn(p, ci, clConn, upConn)
	p.mu.Lock()
	if p.closed { // Close ran between enter and here: do not outlive it
		p.mu.Unlock()
		pc.teardown("proxy-close", 0, "", true)
		return
	}
	p.conns[ci.ID] = pc
	p.mu.Unlock()
	pc.run() // blocks until both directions are done
	p.mu.Lock()
	delete(p.conns, ci.ID)
	p.mu.Unlock()
}

func (p *SigProxy) endConn(ci *ConnInfo, reason string, code, rejected int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ci.End.IsZero() {
		ci.End, ci.EndReason, ci.CloseCode = time.Now(), reason, code
	}
	if rejected != 0 {
		ci.RejectedStatus = rejected
	}
}

func (p *SigProxy) logFrame(f FrameInfo) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.frames) >= maxFrameLog {
		p.framesLost++
		return
	}
	p.frames = append(p.frames, f)
}

// firstServerFrame records the kind of the first server->client frame.
func (p *SigProxy) firstServerFrame(ci *ConnInfo, kind string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ci.FirstServerKind == "" {
		ci.FirstServerKind, ci.FirstServerAt = kind, time.Now()
	}
}
