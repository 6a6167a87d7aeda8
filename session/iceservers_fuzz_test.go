package session

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/pion/stun/v4"
)

// FuzzParseICEServers checks stun-server/turn-servers parsing on arbitrary
// input: no panic, one server or one warning per entry (entries are
// independent), every URL one pion accepts (a URL it rejects makes every
// peer connection fail), credentials only from the entry they came with,
// and no password in a warning.
//
//	go test -run=^$ -fuzz=^FuzzParseICEServers$ -fuzztime=10s ./session/
func FuzzParseICEServers(f *testing.F) {
	for _, seed := range [][2]string{
		{"stun://127.0.0.1:3478", "turn://user:secret@127.0.0.1:3478\nturn://nopass@127.0.0.1:3479"},
		{"stun:stun.l.google.com:19302", "turns://user:secret@turn.example.com?transport=tcp"},
		{"stun://[::1]", "turn://user:secret@[::1]\nturn://u%40x:p%3Aw@host:5349?transport=tcp"},
		{"stun://user:secret@host", "turn:user:secret@host:3478"},
		{"", "turns://user:secret@host:443?transport=udp\nturn://user:secret@host?transport=sctp"},
		{" stun:host ", "turn://user:@host\nhttp://user:secret@host\n"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, stunIn, turnIn string) {
		turns := strings.Split(turnIn, "\n")
		servers, warnings := ParseICEServers(stunIn, turns)

		var wantServers []ICEServer
		var wantWarnings []string
		one := func(entry string, sv []ICEServer, w []string) {
			if len(sv)+len(w) != 1 {
				t.Fatalf("entry %q: %d servers and %d warnings, want one of either", entry, len(sv), len(w))
			}
			wantServers = append(wantServers, sv...)
			wantWarnings = append(wantWarnings, w...)
			for _, is := range sv {
				checkICEServer(t, entry, is)
			}
			for _, w := range w {
				checkWarning(t, entry, w)
			}
		}
		if strings.TrimSpace(stunIn) != "" {
			sv, w := ParseICEServers(stunIn, nil)
			one(stunIn, sv, w)
		}
		for _, turn := range turns {
			sv, w := ParseICEServers("", []string{turn})
			one(turn, sv, w)
		}
		if !reflect.DeepEqual(servers, wantServers) || !reflect.DeepEqual(warnings, wantWarnings) {
			t.Fatalf("all entries at once gave %v %q, one by one %v %q", servers, warnings, wantServers, wantWarnings)
		}
	})
}

func checkICEServer(t *testing.T, entry string, is ICEServer) {
	t.Helper()
	if len(is.URLs) != 1 {
		t.Fatalf("entry %q: %d URLs in one server, want 1", entry, len(is.URLs))
	}
	u, err := stun.ParseURI(is.URLs[0])
	if err != nil {
		t.Fatalf("entry %q: URL %q is not one pion accepts: %v", entry, is.URLs[0], err)
	}
	switch u.Scheme {
	case stun.SchemeTypeSTUN:
		if is.Username != "" || is.Credential != "" {
			t.Fatalf("entry %q: STUN server %q carries credentials", entry, is.URLs[0])
		}
	case stun.SchemeTypeTURN, stun.SchemeTypeTURNS:
		// The credentials are exactly those the entry's URL carries.
		in, err := url.Parse(strings.TrimSpace(entry))
		if err != nil {
			t.Fatalf("entry %q does not parse, yet gave server %v", entry, is)
		}
		pass, _ := in.User.Password()
		if is.Username == "" || is.Credential == "" || is.Username != in.User.Username() || is.Credential != pass {
			t.Fatalf("entry %q gave TURN credentials %q/%q", entry, is.Username, is.Credential)
		}
		if "turn"+strings.TrimPrefix(u.Scheme.String(), "turn") != in.Scheme {
			t.Fatalf("entry %q gave scheme %s", entry, u.Scheme)
		}
	default:
		t.Fatalf("entry %q: URL %q has scheme %s", entry, is.URLs[0], u.Scheme)
	}
}

// checkWarning: a warning names its property, then quotes its entry, and
// shows the password part of the entry no more often than the entry has the
// same text elsewhere.
func checkWarning(t *testing.T, entry, w string) {
	t.Helper()
	rest, ok := strings.CutPrefix(w, "stun-server: ")
	if !ok {
		rest, ok = strings.CutPrefix(w, "turn-servers: ")
	}
	if !ok {
		t.Fatalf("warning %q does not name its property", w)
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		t.Fatalf("warning %q does not quote its entry first", w)
	}
	shown, _ := strconv.Unquote(quoted)
	// The message's own hint "user:password@" is not a secret.
	text := shown + strings.ReplaceAll(rest[len(quoted):], "user:password@", "")

	at := strings.LastIndex(entry, "@")
	if at < 0 {
		return
	}
	colon := strings.LastIndex(entry[:at], ":")
	if colon < 0 || strings.Trim(entry[colon+1:at], "x/") == "" {
		return // no password, or one that cannot be told from the mask "xxxxx@" or a scheme's "//"
	}
	pw := entry[colon+1 : at+1] // "secret@" of "turn://user:secret@host"
	elsewhere := entry[:colon+1] + entry[at+1:]
	if strings.Count(text, pw) > strings.Count(elsewhere, pw) {
		t.Fatalf("warning %q shows the password part %q of %q", w, pw, entry)
	}
}
