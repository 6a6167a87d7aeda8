package signaller

import (
	"errors"
	"time"

	"github.com/livekit/protocol/auth"
)

// DefaultTokenTTL is used when Credentials.TTL is zero (the protocol
// library's own default).
const DefaultTokenTTL = 6 * time.Hour

// Credentials are the element's auth properties.
type Credentials struct {
	APIKey, APISecret, Room, Identity, Name, AuthToken string
	TTL                                                time.Duration // 0 -> DefaultTokenTTL
	// Metadata and Attributes go into minted tokens, so the participant
	// joins with them.
	Metadata   string
	Attributes map[string]string
}

// Validate names the missing GStreamer property. With AuthToken set nothing
// else is needed here (ws-url is checked by BuildURL).
func (c Credentials) Validate() error {
	if c.AuthToken != "" {
		return nil
	}
	if c.APIKey == "" || c.APISecret == "" {
		return errors.New("either signaller::auth-token or signaller::api-key and signaller::secret-key must be set")
	}
	if c.Room == "" {
		return errors.New("signaller::room-name is not set")
	}
	if c.Identity == "" {
		return errors.New("signaller::identity is not set")
	}
	return nil
}

// CanMint reports whether a fresh token can be minted, e.g. after a 401 on a
// reconnect with an expired token. A fixed AuthToken wins over key/secret.
func (c Credentials) CanMint() bool {
	return c.AuthToken == "" && c.APIKey != "" && c.APISecret != ""
}

// Token returns AuthToken, or mints a publish-only token.
func (c Credentials) Token() (string, error) {
	if c.AuthToken != "" {
		return c.AuthToken, nil
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	g := &auth.VideoGrant{RoomJoin: true, Room: c.Room}
	g.SetCanPublish(true)
	g.SetCanPublishData(true)
	// Name, metadata and attributes can change at runtime (session.SetName, …).
	g.SetCanUpdateOwnMetadata(true)
	// Must be an explicit false: a nil canSubscribe counts as granted, which
	// makes the subscriber PC primary and the server then waits for an answer
	// to its offer and drops us after 60 s (docs/protocol.md, "The subscriber offer").
	g.SetCanSubscribe(false)

	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultTokenTTL
	}
	at := auth.NewAccessToken(c.APIKey, c.APISecret).
		SetVideoGrant(g).
		SetIdentity(c.Identity).
		SetValidFor(ttl)
	if c.Name != "" {
		at.SetName(c.Name)
	}
	if c.Metadata != "" {
		at.SetMetadata(c.Metadata)
	}
	if len(c.Attributes) > 0 {
		at.SetAttributes(c.Attributes)
	}
	tok, err := at.ToJWT()
	if err != nil {
		// Never wrap anything that could echo the secret.
		return "", errors.New("signaller: minting the access token failed: " + err.Error())
	}
	return tok, nil
}
