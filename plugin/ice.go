package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/golivekitsink/golivekitsink/session"
	lksig "github.com/golivekitsink/golivekitsink/signaller"
)

// iceServers maps stun-server and turn-servers onto session.Config's
// ExtraICEServers. It returns the servers to add and one warning per entry it
// had to leave out.
//
// The default stun-server (Google's) is never passed on: LiveKit hands out
// its own ICE servers, and nothing should leave the LiveKit path (or a test
// machine) unless the user asked for it.
func iceServers(r refProps) (servers []session.ICEServer, warnings []string) {
	if r.stunSet && r.stunServer != nil && strings.TrimSpace(*r.stunServer) != "" {
		if u, err := stunURL(*r.stunServer); err != nil {
			warnings = append(warnings, fmt.Sprintf("stun-server: %v; not used", err))
		} else {
			servers = append(servers, session.ICEServer{URLs: []string{u}})
		}
	}
	for _, t := range r.turnServers {
		if is, err := turnServer(t); err != nil {
			warnings = append(warnings, fmt.Sprintf("turn-servers: %v; not used", err))
		} else {
			servers = append(servers, is)
		}
	}
	return servers, warnings
}

// turnServer turns the reference's "turn(s)://user:password@host:port"
// into pion's form: "turn:host:port?transport=udp" or
// "turns:host:port?transport=tcp" with the credentials beside the URL.
func turnServer(s string) (session.ICEServer, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "turn" && u.Scheme != "turns") || u.Host == "" {
		return session.ICEServer{}, fmt.Errorf("%q is not a turn:// or turns:// URL", lksig.RedactURL(s))
	}
	pass, _ := u.User.Password()
	if u.User.Username() == "" || pass == "" {
		return session.ICEServer{}, fmt.Errorf("%q: TURN needs user:password@", lksig.RedactURL(s))
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "turns" {
			host += ":443"
		} else {
			host += ":3478"
		}
	}
	transport := u.Query().Get("transport")
	if transport == "" {
		transport = "udp"
		if u.Scheme == "turns" {
			transport = "tcp"
		}
	}
	return session.ICEServer{
		URLs:     []string{u.Scheme + ":" + host + "?transport=" + transport},
		Username: u.User.Username(), Credential: pass,
	}, nil
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
		return "", fmt.Errorf("%q is not a stun:// URL", lksig.RedactURL(s))
	}
	if strings.Contains(rest, "@") || strings.Contains(rest, "/") {
		return "", fmt.Errorf("%q: expected stun://host:port", lksig.RedactURL(s))
	}
	if _, err := url.Parse("stun://" + rest); err != nil {
		return "", fmt.Errorf("%q: %v", lksig.RedactURL(s), err)
	}
	if !strings.Contains(strings.TrimPrefix(rest, "["), "]:") && strings.Count(rest, ":") != 1 {
		rest += ":3478"
	}
	return "stun:" + rest, nil
}
