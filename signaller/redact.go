package signaller

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces every secret RedactURL hides.
const redacted = "xxxxx"

// secretParamWords mark a query parameter whose value is a credential:
// access_token, token, api_key, secret, password, auth, sig(nature), jwt...
var secretParamWords = []string{"token", "secret", "pass", "pwd", "key", "auth", "sig", "cred", "jwt"}

// jwtLike is a JSON Web Token (LiveKit access tokens are JWTs), whatever the
// parameter carrying it is called.
var jwtLike = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$`)

// RedactURL is the form of a URL that may be shown: in bus messages, logs
// and errors. It hides user information (user:password@, or a lone user
// name, which may be a token), the values of query parameters that look
// like credentials, and the fragment. Anything else is kept, so the URL
// still says which server was meant. A string that does not parse as a URL
// loses everything after '?' or '#' and its user information.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactUnparsed(raw)
	}
	if u.User != nil {
		if _, hasPassword := u.User.Password(); hasPassword {
			u.User = url.UserPassword(u.User.Username(), redacted)
		} else {
			u.User = url.User(redacted)
		}
	}
	if i := strings.LastIndex(u.Opaque, "@"); i >= 0 {
		u.Opaque = redacted + u.Opaque[i:] // "turn:user:pass@host"
	}
	if i := strings.LastIndex(u.Path, "@"); u.Host == "" && i >= 0 {
		// "turn:/user:pass@host" and "turn:///user:pass@host" parse as a path.
		slashes := len(u.Path) - len(strings.TrimLeft(u.Path, "/"))
		u.Path, u.RawPath = u.Path[:slashes]+redacted+u.Path[i:], ""
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.RawQuery)
	}
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment = redacted, ""
	}
	return u.String()
}

// redactQuery keeps the parameters' order and names, hiding secret values.
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		if isSecretParam(name, value) {
			parts[i] = name + "=" + redacted
		}
	}
	return strings.Join(parts, "&")
}

func isSecretParam(rawName, rawValue string) bool {
	name, err := url.QueryUnescape(rawName)
	if err != nil {
		name = rawName
	}
	name = strings.ToLower(name)
	for _, w := range secretParamWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	value, err := url.QueryUnescape(rawValue)
	if err != nil {
		value = rawValue
	}
	return jwtLike.MatchString(value)
}

// redactUnparsed handles what url.Parse rejects: cut query and fragment,
// and hide anything between "://" and an '@' of the authority.
func redactUnparsed(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i] + raw[i:i+1] + redacted
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		i := strings.LastIndex(raw, "@")
		if i < 0 {
			return raw
		}
		// Keep a scheme ("turn:", "turns:/"): it says what was meant.
		start := strings.IndexByte(raw[:i], ':') + 1
		for start < i && raw[start] == '/' {
			start++
		}
		return raw[:start] + redacted + raw[i:]
	}
	authority := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		authority = rest[:i]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		rest = redacted + rest[i:]
	}
	return scheme + "://" + rest
}
