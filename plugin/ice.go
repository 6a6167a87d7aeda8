package plugin

import (
	"github.com/golivekitsink/golivekitsink/session"
)

// iceServers maps stun-server and turn-servers onto session.Config's
// ExtraICEServers (parsing: session.ParseICEServers). It returns the servers
// to add and one warning per entry it had to leave out.
//
// The default stun-server (Google's) is never passed on: LiveKit hands out
// its own ICE servers, and nothing should leave the LiveKit path (or a test
// machine) unless the user asked for it.
func iceServers(r refProps) (servers []session.ICEServer, warnings []string) {
	stun := ""
	if r.stunSet && r.stunServer != nil {
		stun = *r.stunServer
	}
	return session.ParseICEServers(stun, r.turnServers)
}
