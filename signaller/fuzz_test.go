package signaller

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/livekit/protocol/livekit"
)

// FuzzBuildURL checks BuildURL and NormalizeURL on arbitrary URLs and
// parameters: no panic, and what their doc comments promise. BuildURL: a
// ws/wss URL (http/https mapped) on the user's host, the user's path plus
// /rtc, exactly our parameters (the user's query, fragment and user:password@
// dropped: they may carry a token), the resume ones only when resuming.
// NormalizeURL: "" exactly when BuildURL refuses the URL, else ws/wss,
// lowercase host, no trailing slash, no query, and idempotent.
//
//	go test -run=^$ -fuzz=^FuzzBuildURL$ -fuzztime=10s ./signaller/
func FuzzBuildURL(f *testing.F) {
	for _, in := range []string{
		"wss://x.livekit.cloud", "ws://localhost:7880", "http://127.0.0.1:7880/", "HTTPS://H.Example/lk/",
		"wss://user:secret@h.example/?access_token=SECRET#frag", "ws://[::1]:7880", "ftp://h.example", "wss:///nohost",
		" wss://h.example/a%2Fb/ ", "wss://h.example/p?q",
	} {
		f.Add(in, false, "", int32(0))
		f.Add(in, true, "PA_abc", int32(livekit.ReconnectReason_RR_PUBLISHER_FAILED))
	}
	f.Add("wss://h.example", true, "PA_&x=1 ü", int32(-1))
	f.Fuzz(func(t *testing.T, in string, reconnect bool, sid string, reason int32) {
		p := URLParams{Reconnect: reconnect, SID: sid, Reason: livekit.ReconnectReason(reason)}
		built, err := BuildURL(in, p)
		norm := NormalizeURL(in)
		if (err != nil) != (norm == "") {
			t.Fatalf("BuildURL(%q) error %v but NormalizeURL gives %q", in, err, norm)
		}
		if err != nil {
			return
		}
		src, err := url.Parse(strings.TrimSpace(in))
		if err != nil {
			t.Fatalf("BuildURL accepted %q, which does not parse: %v", in, err)
		}
		secure := strings.EqualFold(src.Scheme, "wss") || strings.EqualFold(src.Scheme, "https")

		u, err := url.Parse(built)
		if err != nil {
			t.Fatalf("BuildURL(%q) = %q does not parse: %v", in, built, err)
		}
		if want := map[bool]string{false: "ws", true: "wss"}[secure]; u.Scheme != want {
			t.Fatalf("BuildURL(%q) = %q: scheme %q, want %q", in, built, u.Scheme, want)
		}
		if u.Host != src.Host || u.User != nil || u.Fragment != "" {
			t.Fatalf("BuildURL(%q) = %q: host %q (want %q), user %v, fragment %q", in, built, u.Host, src.Host, u.User, u.Fragment)
		}
		if want := strings.TrimSuffix(src.Path, "/") + "/rtc"; u.Path != want {
			t.Fatalf("BuildURL(%q) = %q: path %q, want %q", in, built, u.Path, want)
		}
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("BuildURL(%q) = %q: query: %v", in, built, err)
		}
		want := url.Values{
			"auto_subscribe": {"0"}, "adaptive_stream": {"0"}, "protocol": {strconv.Itoa(ProtocolVersion)},
			"sdk": {SDKName}, "version": {Version}, "os": {"linux"},
		}
		if v := osRelease(); v != "" {
			want.Set("os_version", v)
		}
		if reconnect {
			want.Set("reconnect", "1")
			want.Set("reconnect_reason", strconv.Itoa(int(reason)))
			if sid != "" {
				want.Set("sid", sid)
			}
		}
		if q.Encode() != want.Encode() {
			t.Fatalf("BuildURL(%q, %+v) = %q: parameters %v, want %v", in, p, built, q, want)
		}

		n, err := url.Parse(norm)
		if err != nil {
			t.Fatalf("NormalizeURL(%q) = %q does not parse: %v", in, norm, err)
		}
		// Lowercase as Unicode lowers it ("İ" -> "i̇"), as IDNA maps a host name.
		if n.Scheme != u.Scheme || n.Host != strings.ToLower(src.Host) ||
			strings.HasSuffix(n.Path, "/") || n.RawQuery != "" || n.ForceQuery || n.Fragment != "" || n.User != nil {
			t.Fatalf("NormalizeURL(%q) = %q is not ws/wss with a lowercase host, no trailing slash, no query", in, norm)
		}
		if again := NormalizeURL(norm); again != norm {
			t.Fatalf("NormalizeURL(%q) = %q, but NormalizeURL of that is %q", in, norm, again)
		}
	})
}

// FuzzPlan checks Plan on arbitrary region lists and failed sets (one URL
// per line): no panic, and what its doc comment promises. Every URL is
// normalized (hence a valid ws/wss URL), none twice, none that failed, none
// without TLS for an original with TLS; the plan keeps the order leave
// regions, fetched regions, original URL, and leaves out nothing else.
//
//	go test -run=^$ -fuzz=^FuzzPlan$ -fuzztime=10s ./signaller/
func FuzzPlan(f *testing.F) {
	f.Add("wss://proj.livekit.cloud", "", "", "")
	f.Add("wss://proj.livekit.cloud", "https://eu.example\nwss://us.example/", "wss://US.example\nwss://ap.example", "wss://eu.example")
	f.Add("ws://127.0.0.1:7880", "ws://127.0.0.2:7880\nnot a url\nftp://x", "ws://127.0.0.1:7880/", "ws://127.0.0.2:7880/?x=1")
	f.Add("https://h.example/lk/", "ws://downgrade.example", "wss://h.example/lk", "WSS://H.EXAMPLE/lk")
	f.Fuzz(func(t *testing.T, original, leave, fetched, failed string) {
		regions := func(s string) []*livekit.RegionInfo {
			var out []*livekit.RegionInfo
			for _, u := range strings.Split(s, "\n") {
				out = append(out, &livekit.RegionInfo{Region: "r", Url: u})
			}
			return out
		}
		failedSet := map[string]bool{}
		for _, u := range strings.Split(failed, "\n") {
			failedSet[u] = true
		}
		leaveRegions, fetchedRegions := regions(leave), regions(fetched)
		plan, downgrades := Plan(original, leaveRegions, fetchedRegions, failedSet)

		isFailed := map[string]bool{}
		for u := range failedSet {
			isFailed[NormalizeURL(u)] = true
		}
		var candidates []string // every input URL in the promised order
		for _, r := range append(append(leaveRegions, fetchedRegions...), &livekit.RegionInfo{Url: original}) {
			candidates = append(candidates, r.GetUrl())
		}
		seen := map[string]bool{}
		next := 0 // plan entries must come from candidates in order
		for _, p := range plan {
			if p == "" || NormalizeURL(p) != p {
				t.Fatalf("plan entry %q is not a normalized ws/wss URL (plan %q)", p, plan)
			}
			if seen[p] {
				t.Fatalf("plan %q has %q twice", plan, p)
			}
			seen[p] = true
			if isFailed[p] {
				t.Fatalf("plan %q has %q, which failed", plan, p)
			}
			if IsDowngrade(original, p) {
				t.Fatalf("plan %q has %q, which drops the TLS of %q", plan, p, original)
			}
			for next < len(candidates) && NormalizeURL(candidates[next]) != p {
				next++
			}
			if next == len(candidates) {
				t.Fatalf("plan %q: %q is out of order or from no input", plan, p)
			}
		}
		for _, c := range candidates {
			// A region without TLS for a server reached with TLS is left
			// out: the token must not go there.
			if n := NormalizeURL(c); n != "" && !isFailed[n] && !seen[n] && !IsDowngrade(original, c) {
				t.Fatalf("plan %q leaves out %q", plan, c)
			}
		}
		wantDowngrades := 0
		for _, r := range append(leaveRegions, fetchedRegions...) {
			if IsDowngrade(original, r.GetUrl()) {
				wantDowngrades++
			}
		}
		for _, r := range downgrades {
			if !IsDowngrade(original, r.GetUrl()) {
				t.Fatalf("Plan reports %q as dropping the TLS of %q", r.GetUrl(), original)
			}
		}
		if len(downgrades) != wantDowngrades {
			t.Fatalf("Plan reports %d regions dropping TLS, want %d", len(downgrades), wantDowngrades)
		}
		if n := NormalizeURL(original); n != "" && !isFailed[n] && !seen[n] {
			t.Fatalf("plan %q leaves out the original URL %q", plan, original)
		}
	})
}
