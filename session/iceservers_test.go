package session

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseICEServers(t *testing.T) {
	servers, warnings := ParseICEServers("stun://10.0.0.1", []string{
		"turn://user:pw1@10.0.0.2",
		"turns://user:pw2@turn.example:5349",
		"turn://user:pw3@10.0.0.3:3478?transport=sctp", // pion knows udp and tcp only
		"turn:user:pw4@10.0.0.4",                       // not the reference's form
		"turn://nopass@10.0.0.5",
	})
	want := []ICEServer{
		{URLs: []string{"stun:10.0.0.1:3478"}},
		{URLs: []string{"turn:10.0.0.2:3478?transport=udp"}, Username: "user", Credential: "pw1"},
		{URLs: []string{"turns:turn.example:5349?transport=tcp"}, Username: "user", Credential: "pw2"},
	}
	if !reflect.DeepEqual(servers, want) {
		t.Errorf("servers %+v, want %+v", servers, want)
	}
	if len(warnings) != 3 {
		t.Fatalf("warnings %q, want 3", warnings)
	}
	for i, w := range warnings {
		if strings.Contains(w, "pw") || !strings.HasPrefix(w, "turn-servers: ") || !strings.Contains(w, "@10.0.0.") {
			t.Errorf("warning %d %q should name turn-servers and the server, never the password", i, w)
		}
	}
}
