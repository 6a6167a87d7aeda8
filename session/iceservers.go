package session

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/golivekitsink/golivekitsink/signaller"
	"github.com/pion/stun/v4"
)

// ParseICEServers maps the reference element's stun-server and turn-servers
// properties onto ICEServers for Config.ExtraICEServers. stun is "" when the
// property was not set. It returns the servers to add and one warning per
// entry it had to leave out; warnings never carry a password.
func ParseICEServers(stun string, turn []string) (servers []ICEServer, warnings []string) {
	if strings.TrimSpace(stun) != "" {
		if u, err := stunURL(stun); err != nil {
			warnings = append(warnings, fmt.Sprintf("stun-server: %v; not used", err))
		} else {
			servers = append(servers, ICEServer{URLs: []string{u}})
		}
	}
	for _, t := range turn {
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
func turnServer(s string) (ICEServer, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "turn" && u.Scheme != "turns") || u.Host == "" {
		return ICEServer{}, fmt.Errorf("%q is not a turn:// or turns:// URL", signaller.RedactURL(s))
	}
	pass, _ := u.User.Password()
	if u.User.Username() == "" || pass == "" {
		return ICEServer{}, fmt.Errorf("%q: TURN needs user:password@", signaller.RedactURL(s))
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
	out := u.Scheme + ":" + host + "?transport=" + transport
	// pion refuses a URL its parser rejects in every peer connection: warn now instead.
	if _, err := stun.ParseURI(out); err != nil {
		return ICEServer{}, fmt.Errorf("%q: %v", signaller.RedactURL(s), err)
	}
	return ICEServer{URLs: []string{out}, Username: u.User.Username(), Credential: pass}, nil
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
		return "", fmt.Errorf("%q is not a stun:// URL", signaller.RedactURL(s))
	}
	if strings.Contains(rest, "@") || strings.Contains(rest, "/") {
		return "", fmt.Errorf("%q: expected stun://host:port", signaller.RedactURL(s))
	}
	if _, err := url.Parse("stun://" + rest); err != nil {
		return "", fmt.Errorf("%q: %v", signaller.RedactURL(s), err)
	}
	if !strings.Contains(strings.TrimPrefix(rest, "["), "]:") && strings.Count(rest, ":") != 1 {
		rest += ":3478"
	}
	if _, err := stun.ParseURI("stun:" + rest); err != nil {
		return "", fmt.Errorf("%q: %v", signaller.RedactURL(s), err)
	}
	return "stun:" + rest, nil
}
