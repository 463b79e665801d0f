package proto

// Short JSON names of the enum values, indexed by value: the proto name in
// lower case without its TYPE_/ROLE_/KIND_/CODE_ prefix. json_test.go checks
// them against the generated descriptors, so a value added to kefu.proto
// fails the tests until it is named here.
var (
	typeNames = [...]string{
		"unspecified", "hello", "welcome", "open", "join", "joined", "send", "ack",
		"message", "replay", "replay_end", "event", "ping", "pong", "goaway", "error", "leave",
		"ok", "close", "claim", "transfer", "status", "rate", "notice",
	}
	roleNames = [...]string{"unspecified", "visitor", "agent"}
	kindNames = [...]string{"unspecified", "text", "image", "file", "event"}
	codeNames = [...]string{
		"unspecified", "bad_request", "unauthenticated", "forbidden", "not_found",
		"busy", "too_large", "internal", "unsupported", "draining",
	}
)

// TypeName returns the JSON name of t ("send", "replay_end"), or "" for a
// value this version does not know (AppendJSON writes those as numbers).
func TypeName(t Type) string { return enumName(typeNames[:], int32(t)) }

// RoleName returns the JSON name of r ("visitor", "agent"), or "" for a
// value this version does not know.
func RoleName(r Role) string { return enumName(roleNames[:], int32(r)) }

// KindName returns the JSON name of k ("text", "image"), or "" for a value
// this version does not know.
func KindName(k Kind) string { return enumName(kindNames[:], int32(k)) }

// CodeName returns the JSON name of c ("busy", "not_found"), or "" for a
// value this version does not know. It is also the metric label of a code.
func CodeName(c Code) string { return enumName(codeNames[:], int32(c)) }

// ParseType returns the Type named s: the JSON name ("send") or the full
// proto name ("TYPE_SEND"). Matching is exact (case-sensitive).
func ParseType(s string) (Type, bool) {
	v, ok := parseEnum(typeNames[:], "TYPE_", s)
	return Type(v), ok
}

// ParseRole returns the Role named s ("agent" or "ROLE_AGENT").
func ParseRole(s string) (Role, bool) {
	v, ok := parseEnum(roleNames[:], "ROLE_", s)
	return Role(v), ok
}

// ParseKind returns the Kind named s ("text" or "KIND_TEXT").
func ParseKind(s string) (Kind, bool) {
	v, ok := parseEnum(kindNames[:], "KIND_", s)
	return Kind(v), ok
}

// ParseCode returns the Code named s ("busy" or "CODE_BUSY").
func ParseCode(s string) (Code, bool) {
	v, ok := parseEnum(codeNames[:], "CODE_", s)
	return Code(v), ok
}

func enumName(names []string, v int32) string {
	if v < 0 || int(v) >= len(names) {
		return ""
	}
	return names[v]
}

// parseEnum finds s among names, or among their upper-case forms behind
// prefix. It does not allocate.
func parseEnum(names []string, prefix, s string) (int32, bool) {
	for i, n := range names {
		if n == s {
			return int32(i), true
		}
	}
	if len(s) <= len(prefix) || s[:len(prefix)] != prefix {
		return 0, false
	}
	rest := s[len(prefix):]
	for i, n := range names {
		if upperEqual(rest, n) {
			return int32(i), true
		}
	}
	return 0, false
}

// upperEqual reports whether up is lower (lower case ASCII and '_') in
// upper case.
func upperEqual(up, lower string) bool {
	if len(up) != len(lower) {
		return false
	}
	for i := 0; i < len(up); i++ {
		c := lower[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if up[i] != c {
			return false
		}
	}
	return true
}
