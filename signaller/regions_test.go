package signaller

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/livekit/protocol/livekit"
)

func TestIsCloudHost(t *testing.T) {
	for in, want := range map[string]bool{
		"wss://proj-abc.livekit.cloud":       true,
		"https://proj.livekit.run/":          true,
		"wss://PROJ.LiveKit.Cloud":           true,
		"wss://livekit.cloud.evil.example":   false,
		"ws://localhost:7880":                false,
		"wss://notlivekit.cloud":             false,
		"":                                   false,
		"wss://x.otherlivekit.cloud.example": false,
	} {
		if got := IsCloudHost(in); got != want {
			t.Errorf("IsCloudHost(%q) = %v, want %v", in, got, want)
		}
	}
}

func regionsServer(t *testing.T, body string, hits *atomic.Int32, cacheControl string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits != nil {
			hits.Add(1)
		}
		if r.URL.Path != "/settings/regions" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		if cacheControl != "" {
			w.Header().Set("Cache-Control", cacheControl)
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchRegions(t *testing.T) {
	for name, body := range map[string]string{
		"string distance": `{"regions":[{"region":"eu","url":"https://eu.example","distance":"120"},{"region":"us","url":"wss://us.example","distance":"9000"}]}`,
		"number distance": `{"regions":[{"region":"eu","url":"https://eu.example","distance":120},{"region":"us","url":"wss://us.example","distance":9000,"extra":true}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := regionsServer(t, body, nil, "")
			// A ws URL with a path: the path is replaced, the scheme mapped.
			rs, err := FetchRegions(context.Background(), "ws"+srv.URL[len("http"):]+"/some/path", "good")
			if err != nil {
				t.Fatal(err)
			}
			r := rs.GetRegions()
			if len(r) != 2 || r[0].Region != "eu" || r[0].Distance != 120 || r[1].Url != "wss://us.example" || r[1].Distance != 9000 {
				t.Fatalf("got %v", rs)
			}
		})
	}
}

func TestFetchRegionsUnauthorized(t *testing.T) {
	srv := regionsServer(t, `{}`, nil, "")
	_, err := FetchRegions(context.Background(), srv.URL, "bad")
	var he *HTTPError
	if !errors.As(err, &he) || !he.IsAuth() || he.Message != "invalid token" {
		t.Fatalf("got %v", err)
	}
}

func ri(region, url string) *livekit.RegionInfo { return &livekit.RegionInfo{Region: region, Url: url} }

func TestPlan(t *testing.T) {
	leave := []*livekit.RegionInfo{ri("eu2", "https://eu2.example"), ri("eu1", "wss://eu1.example/")}
	fetched := []*livekit.RegionInfo{ri("eu1", "https://EU1.example"), ri("us", "https://us.example"), ri("bad", "ftp://x"), ri("empty", "")}
	tests := []struct {
		name    string
		orig    string
		leave   []*livekit.RegionInfo
		fetched []*livekit.RegionInfo
		failed  map[string]bool
		want    []string
	}{
		{"order and dedup", "wss://proj.example", leave, fetched, nil,
			[]string{"wss://eu2.example", "wss://eu1.example", "wss://us.example", "wss://proj.example"}},
		{"skip failed in any spelling", "https://proj.example/", leave, fetched,
			map[string]bool{"wss://eu2.example": true, "https://us.example/": true, "wss://eu1.example": false},
			[]string{"wss://eu1.example", "wss://proj.example"}},
		{"original only", "http://localhost:7880", nil, nil, nil, []string{"ws://localhost:7880"}},
		{"original failed too", "wss://proj.example", nil, []*livekit.RegionInfo{ri("a", "wss://a.example")},
			map[string]bool{"wss://a.example": true, "wss://proj.example": true}, nil},
		{"original dedups against a region", "wss://us.example", nil, fetched, nil,
			[]string{"wss://eu1.example", "wss://us.example"}},
		{"no downgrade from wss", "wss://proj.example",
			[]*livekit.RegionInfo{ri("l1", "ws://plain-leave.example"), ri("l2", "wss://tls-leave.example")},
			[]*livekit.RegionInfo{ri("f1", "http://plain-fetched.example"), ri("f2", "HTTP://plain2.example"), ri("f3", "https://tls-fetched.example")},
			nil, []string{"wss://tls-leave.example", "wss://tls-fetched.example", "wss://proj.example"}},
		{"no downgrade from https", "https://proj.example", nil,
			[]*livekit.RegionInfo{ri("f1", "ws://plain.example"), ri("f2", "wss://tls.example")},
			nil, []string{"wss://tls.example", "wss://proj.example"}},
		{"plain original may use any region", "ws://proj.example", nil,
			[]*livekit.RegionInfo{ri("f1", "ws://plain.example"), ri("f2", "wss://tls.example")},
			nil, []string{"ws://plain.example", "wss://tls.example", "ws://proj.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := Plan(tt.orig, tt.leave, tt.fetched, tt.failed)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Plan = %q\n want %q", got, tt.want)
			}
		})
	}
}

// /settings/regions over https redirected to plain http: Go's client would
// forward the Authorization header (same host); the redirect is refused.
func TestRegionsRedirectDroppingTLSIsRefused(t *testing.T) {
	var plainAuth atomic.Value
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		plainAuth.Store(r.Header.Get("Authorization"))
		_, _ = w.Write([]byte(`{"regions":[]}`))
	}))
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Same host (127.0.0.1), other port, no TLS.
		http.Redirect(w, r, plain.URL+r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(secure.Close)
	trustTestServer(t, secure)

	_, err := FetchRegions(context.Background(), secure.URL, "good")
	if err == nil || !strings.Contains(err.Error(), "drops TLS") {
		t.Fatalf("FetchRegions = %v, want the redirect refused", err)
	}
	if got, _ := plainAuth.Load().(string); got != "" {
		t.Fatalf("the token reached the plain-http server: %q", got)
	}
	if plainAuth.Load() != nil {
		t.Fatal("the plain-http server was asked at all")
	}
}

// trustTestServer makes httpClient trust srv's certificate for this test.
func trustTestServer(t *testing.T, srv *httptest.Server) {
	t.Helper()
	old := httpClient.Transport
	httpClient.Transport = srv.Client().Transport
	t.Cleanup(func() { httpClient.Transport = old })
}
