package signaller

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/livekit/protocol/livekit"
)

// SDKName is announced as sdk=. The server maps strings it does not know to
// ClientInfo_UNKNOWN, and SupportsICETCP() is true for UNKNOWN, so its TCP
// fallback ladder offers ICE/TCP before TURN/TLS. "go" must not be sent: the
// server then skips ICE/TCP (docs/protocol.md, "The join URL"). UNKNOWN
// also turns off SCTP zero-checksum and server-side codec change, which we
// do not use.
const SDKName = "gstreamer"

// Version is announced as version=.
const Version = "0.1.0"

// ProtocolVersion is what server 1.9.11 speaks; ≥13 gives leave actions and
// regions (docs/protocol.md, "The join URL").
const ProtocolVersion = 16

// URLParams selects a fresh join or a resume.
type URLParams struct {
	Reconnect bool
	SID       string                  // participant SID, only with Reconnect
	Reason    livekit.ReconnectReason // reconnect_reason, only with Reconnect
}

// osRelease is a variable so tests can pin it.
var osRelease = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})

// BuildURL turns the user's server URL into the /rtc signalling URL. The
// token never goes into the URL (it is sent as a header, so it stays out of
// access logs). Any query or fragment on wsURL is dropped, for the same
// reason: it might carry an access_token.
func BuildURL(wsURL string, p URLParams) (string, error) {
	u, err := toScheme(wsURL, "ws", "wss")
	if err != nil {
		return "", err
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/rtc"
	u.RawPath = ""

	q := []string{
		"auto_subscribe=0",
		"adaptive_stream=0",
		"protocol=" + strconv.Itoa(ProtocolVersion),
		"sdk=" + url.QueryEscape(SDKName),
		"version=" + url.QueryEscape(Version),
		"os=linux",
	}
	if v := osRelease(); v != "" {
		q = append(q, "os_version="+url.QueryEscape(v))
	}
	if p.Reconnect {
		q = append(q, "reconnect=1")
		if p.SID != "" {
			q = append(q, "sid="+url.QueryEscape(p.SID))
		}
		q = append(q, "reconnect_reason="+strconv.Itoa(int(p.Reason)))
	}
	u.RawQuery = strings.Join(q, "&")
	return u.String(), nil
}

// toScheme parses raw, accepts ws/wss/http/https and maps it onto the given
// plain/secure scheme pair. Query and fragment are cleared.
func toScheme(raw, plain, secure string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error repeats the URL, credentials included
		}
		return nil, fmt.Errorf("signaller::ws-url %q is not a valid URL: %w", RedactURL(raw), err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = plain
	case "wss", "https":
		u.Scheme = secure
	default:
		return nil, fmt.Errorf("signaller::ws-url %q must use ws, wss, http or https", RedactURL(raw))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("signaller::ws-url %q has no host", RedactURL(raw))
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u, nil
}

// httpForm maps a ws(s) URL onto http(s), keeping path and query; used for
// /rtc/validate.
func httpForm(wsURL string) (*url.URL, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	}
	return u, nil
}
