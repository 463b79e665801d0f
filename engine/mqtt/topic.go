package mqtt

import (
	"strings"
	"unicode/utf8"
)

// sharePrefix starts a shared subscription filter: $share/{group}/{filter}
// (MQTT 5 §4.8.2; accepted from 3.1.1 clients too, as most brokers do).
const sharePrefix = "$share/"

// validTopicName reports whether t may be published to: at least one
// character [MQTT-4.7.3-1], no wildcard [MQTT-3.3.2-2], UTF-8 without
// U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2], at most 65,535 bytes.
func validTopicName(t string) bool {
	return len(t) > 0 && len(t) <= 0xFFFF && !strings.ContainsAny(t, "+#\x00") && utf8.ValidString(t)
}

// validFilter reports whether f is a valid topic filter: at least one
// character [MQTT-4.7.3-1]; '#' only alone in the last level
// [MQTT-4.7.1-2]; '+' only alone in its level [MQTT-4.7.1-3].
func validFilter(f string) bool {
	if len(f) == 0 || len(f) > 0xFFFF || strings.IndexByte(f, 0) >= 0 || !utf8.ValidString(f) {
		return false
	}
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '#':
			if i != len(f)-1 || i > 0 && f[i-1] != '/' {
				return false
			}
		case '+':
			if i > 0 && f[i-1] != '/' || i < len(f)-1 && f[i+1] != '/' {
				return false
			}
		}
	}
	return true
}

// hasWildcard reports whether filter f has + or #.
func hasWildcard(f string) bool { return strings.ContainsAny(f, "+#") }

// parseFilter splits a SUBSCRIBE or UNSUBSCRIBE filter into its share
// group ("" when not shared) and topic filter, and validates both. A share
// name is at least one character without '/', '+' or '#' (MQTT 5
// §4.8.2), followed by '/' and a valid filter.
func parseFilter(raw string) (group, filter string, ok bool) {
	if !strings.HasPrefix(raw, sharePrefix) {
		return "", raw, validFilter(raw)
	}
	rest := raw[len(sharePrefix):]
	i := strings.IndexByte(rest, '/')
	if i <= 0 || strings.ContainsAny(rest[:i], "+#") {
		return "", "", false
	}
	group, filter = rest[:i], rest[i+1:]
	return group, filter, validFilter(filter) && utf8.ValidString(group)
}

// nextLevel splits the first level off a topic or filter: the level, the
// rest after the '/', and whether this was the last level.
func nextLevel(t string) (level, rest string, last bool) {
	if i := strings.IndexByte(t, '/'); i >= 0 {
		return t[:i], t[i+1:], false
	}
	return t, "", true
}
