package main

import (
	"fmt"
	"net/url"
	"strings"
)

// iceServers maps stun-server and turn-servers onto session.Config's
// ExtraICEServers (pion URLs such as "stun:host:port"). It returns the
// URLs to add and one warning per entry it had to leave out.
//
// The default stun-server (Google's) is never passed on: LiveKit hands out
// its own ICE servers, and nothing should leave the LiveKit path (or a test
// machine) unless the user asked for it.
//
// TURN entries are left out for now: session.Config carries bare URLs and
// pion refuses TURN without a username and credential.
func iceServers(r refProps) (urls, warnings []string) {
	if r.stunSet && r.stunServer != nil && strings.TrimSpace(*r.stunServer) != "" {
		if u, err := stunURL(*r.stunServer); err != nil {
			warnings = append(warnings, fmt.Sprintf("stun-server: %v; not used", err))
		} else {
			urls = append(urls, u)
		}
	}
	for _, t := range r.turnServers {
		warnings = append(warnings, fmt.Sprintf("turn-servers: %s ignored: TURN credentials cannot be handed to the session yet (LiveKit's own TURN servers still apply)", redactURL(t)))
	}
	return urls, warnings
}

// stunURL turns "stun://host:port" (the reference's form) or
// "stun:host:port" into pion's "stun:host:port" (default port 3478).
func stunURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, "stun://")
	if !ok {
		rest, ok = strings.CutPrefix(s, "stun:")
	}
	if !ok || rest == "" {
		return "", fmt.Errorf("%q is not a stun:// URL", redactURL(s))
	}
	if strings.Contains(rest, "@") || strings.Contains(rest, "/") {
		return "", fmt.Errorf("%q: expected stun://host:port", redactURL(s))
	}
	if _, err := url.Parse("stun://" + rest); err != nil {
		return "", fmt.Errorf("%q: %v", redactURL(s), err)
	}
	if !strings.Contains(strings.TrimPrefix(rest, "["), "]:") && strings.Count(rest, ":") != 1 {
		rest += ":3478"
	}
	return "stun:" + rest, nil
}

// redactURL drops user:password from a TURN/STUN URL for messages.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s[i+3:], "@"); j >= 0 {
			return s[:i+3] + "***@" + s[i+3+j+1:]
		}
	}
	return s
}
