package signaller

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
)

func TestValidate(t *testing.T) {
	full := Credentials{APIKey: "k", APISecret: "s", Room: "r", Identity: "i"}
	keyErr := "either signaller::auth-token or signaller::api-key and signaller::secret-key must be set"
	tests := []struct {
		name string
		c    Credentials
		want string // "" = valid
	}{
		{"complete", full, ""},
		{"auth token alone", Credentials{AuthToken: "t"}, ""},
		{"nothing", Credentials{}, keyErr},
		{"no secret", Credentials{APIKey: "k", Room: "r", Identity: "i"}, keyErr},
		{"no key", Credentials{APISecret: "s", Room: "r", Identity: "i"}, keyErr},
		{"no room", Credentials{APIKey: "k", APISecret: "s", Identity: "i"}, "signaller::room-name is not set"},
		{"no identity", Credentials{APIKey: "k", APISecret: "s", Room: "r"}, "signaller::identity is not set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCanMint(t *testing.T) {
	if !(Credentials{APIKey: "k", APISecret: "s"}).CanMint() {
		t.Fatal("key+secret should mint")
	}
	if (Credentials{APIKey: "k", APISecret: "s", AuthToken: "t"}).CanMint() {
		t.Fatal("a fixed auth token must not be replaced by a minted one")
	}
	if (Credentials{APIKey: "k"}).CanMint() {
		t.Fatal("no secret, no mint")
	}
}

func TestTokenFixed(t *testing.T) {
	tok, err := Credentials{AuthToken: "abc"}.Token()
	if err != nil || tok != "abc" {
		t.Fatalf("got %q %v", tok, err)
	}
	if _, err := (Credentials{APIKey: "k", APISecret: "s"}).Token(); err == nil {
		t.Fatal("minting without room must fail")
	}
}

func TestTokenClaims(t *testing.T) {
	c := Credentials{APIKey: "APIkey", APISecret: "a-very-long-secret-for-hs256-signing", Room: "room1",
		Identity: "gst-1", Name: "GStreamer", TTL: time.Hour, Metadata: `{"m":1}`, Attributes: map[string]string{"kind": "camera"}}
	tok, err := c.Token()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tok, c.APISecret) {
		t.Fatal("secret leaked into token")
	}

	// Signature and grants via the server's own verifier.
	v, err := auth.ParseAPIToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	reg, grants, err := v.Verify(c.APISecret)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if reg.Issuer != "APIkey" || grants.Identity != "gst-1" || grants.Name != "GStreamer" {
		t.Fatalf("iss=%q identity=%q name=%q", reg.Issuer, grants.Identity, grants.Name)
	}
	if grants.Metadata != `{"m":1}` || grants.Attributes["kind"] != "camera" {
		t.Fatalf("metadata %q attributes %v", grants.Metadata, grants.Attributes)
	}
	if ttl := reg.ExpiresAt.Sub(reg.IssuedAt.Time); ttl != time.Hour {
		t.Fatalf("ttl %v", ttl)
	}
	g := grants.Video
	if !g.RoomJoin || g.Room != "room1" || !g.GetCanPublish() || g.GetCanSubscribe() || !g.GetCanPublishData() || !g.GetCanUpdateOwnMetadata() {
		t.Fatalf("grant %+v", g)
	}

	// canSubscribe must be present as an explicit false, not just absent
	// (absent counts as granted).
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Video map[string]any `json:"video"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if v, ok := claims.Video["canSubscribe"]; !ok || v != false {
		t.Fatalf("canSubscribe claim = %v (present %v), want explicit false; video=%v", v, ok, claims.Video)
	}
	if claims.Video["canPublish"] != true || claims.Video["canPublishData"] != true {
		t.Fatalf("video=%v", claims.Video)
	}
}

func TestTokenDefaultTTL(t *testing.T) {
	tok, err := Credentials{APIKey: "k", APISecret: "s", Room: "r", Identity: "i"}.Token()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := auth.ParseAPIToken(tok)
	reg, _, err := v.Verify("s")
	if err != nil {
		t.Fatal(err)
	}
	if ttl := reg.ExpiresAt.Sub(reg.IssuedAt.Time); ttl != 6*time.Hour {
		t.Fatalf("ttl %v", ttl)
	}
}
