package harness

import (
	"fmt"
	"strings"
)

// ParseStructure parses a GstStructure string such as
// `name, a=(string)x, b=(int)3, c=(string)"with spaces";` into its fields,
// values without the type prefix and unquoted. The name is under "".
func ParseStructure(s string) map[string]string {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), ";"))
	fields := map[string]string{}
	parts := splitTopLevel(s)
	if len(parts) == 0 {
		return fields
	}
	fields[""] = strings.TrimSpace(parts[0])
	for _, part := range parts[1:] {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		if strings.HasPrefix(v, "(") {
			if i := strings.Index(v, ")"); i > 0 {
				v = v[i+1:]
			}
		}
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = unescape(v[1 : len(v)-1])
		}
		fields[strings.TrimSpace(k)] = v
	}
	return fields
}

// unescape undoes GStreamer's string serialization, which puts a backslash
// before every character outside its safe set (\", \\, \=, \ …).
func unescape(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		if !esc && r == '\\' {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}

// splitTopLevel splits at commas outside quotes and <>, {}, [] brackets.
func splitTopLevel(s string) []string {
	var parts []string
	depth, inQ, esc, start := 0, false, false, 0
	for i, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r == '"':
			inQ = !inQ
		case inQ:
		case r == '<' || r == '{' || r == '[':
			depth++
		case r == '>' || r == '}' || r == ']':
			depth--
		case r == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// SplitArgs splits a command line like a POSIX shell would, without
// expansions: whitespace separates, '…' is literal, "…" allows \" and \\,
// a backslash outside quotes escapes the next character.
func SplitArgs(s string) ([]string, error) {
	var args []string
	var cur strings.Builder
	inArg := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at %d", i)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inArg = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \"")
			}
			inArg = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inArg = true
		default:
			cur.WriteByte(c)
			inArg = true
		}
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
