package signaller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
)

const (
	regionsTimeout = 3 * time.Second
	maxRegionsBody = 1 << 20
)

// IsCloudHost reports a LiveKit Cloud host, the only kind that serves
// /settings/regions (same test as the JS and Rust SDKs).
func IsCloudHost(wsURL string) bool {
	u, err := toScheme(wsURL, "ws", "wss")
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return strings.HasSuffix(h, ".livekit.cloud") || strings.HasSuffix(h, ".livekit.run")
}

// FetchRegions GETs /settings/regions on the host of wsURL (docs/protocol.md, "Regions").
func FetchRegions(ctx context.Context, wsURL, token string) (*livekit.RegionSettings, error) {
	u, err := toScheme(wsURL, "http", "https")
	if err != nil {
		return nil, err
	}
	u.Path, u.RawPath = "/settings/regions", ""
	ctx, cancel := context.WithTimeout(ctx, regionsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("signaller: fetching regions from %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxRegionsBody))
	if err != nil {
		return nil, fmt.Errorf("signaller: reading regions from %s: %w", u.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{StatusCode: resp.StatusCode, Message: strings.TrimSpace(string(body))}
	}
	rs := &livekit.RegionSettings{}
	// protojson accepts int64 distance as a JSON string or number.
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, rs); err != nil {
		return nil, fmt.Errorf("signaller: parsing regions from %s: %w", u.Host, err)
	}
	return rs, nil
}

// httpClient carries the token to /settings/regions and /rtc/validate.
// Go's client forwards the Authorization header on a redirect to the same
// host even from https to http; such a redirect is refused.
var httpClient = &http.Client{CheckRedirect: refuseDowngrade}

func refuseDowngrade(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if IsDowngrade(via[0].URL.String(), req.URL.String()) {
		return fmt.Errorf("refusing a redirect from %s to %s: it drops TLS", via[0].URL.Host, RedactURL(req.URL.String()))
	}
	return nil
}

// NormalizeURL is the form Plan dedups and compares by: ws/wss scheme,
// lowercase host, no trailing slash, no query. It returns "" for a URL
// BuildURL would reject.
func NormalizeURL(raw string) string {
	u, err := toScheme(raw, "ws", "wss")
	if err != nil {
		return ""
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String()
}

// IsDowngrade reports a region URL without TLS (ws, http) offered for a
// server the user reached with TLS (wss, https): the token must never go
// there, whoever put it in the region list.
func IsDowngrade(original, region string) bool {
	return isSecure(original) && !isSecure(region)
}

func isSecure(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	s := strings.ToLower(u.Scheme)
	return s == "wss" || s == "https"
}

// Plan orders the URLs to try for a full reconnect (docs/protocol.md, "Regions"): regions from the
// last leave, then the fetched list, then the original URL; deduplicated
// by normalized URL, skipping URLs that already failed in this episode
// (keys of failed are normalized too) and regions that would drop TLS
// (IsDowngrade), which it returns apart so that they can be reported.
// Returned URLs are normalized.
func Plan(original string, leaveRegions, fetched []*livekit.RegionInfo, failed map[string]bool) (urls []string, downgrades []*livekit.RegionInfo) {
	skip := make(map[string]bool, len(failed))
	for k, v := range failed {
		if v {
			skip[NormalizeURL(k)] = true
		}
	}
	var out []string
	seen := map[string]bool{}
	add := func(raw string) {
		n := NormalizeURL(raw)
		if n == "" || seen[n] || skip[n] {
			return
		}
		seen[n] = true
		out = append(out, n)
	}
	addRegion := func(r *livekit.RegionInfo) {
		if IsDowngrade(original, r.GetUrl()) {
			downgrades = append(downgrades, r)
			return
		}
		add(r.GetUrl())
	}
	for _, r := range leaveRegions {
		addRegion(r)
	}
	for _, r := range fetched {
		addRegion(r)
	}
	add(original)
	return out, downgrades
}
