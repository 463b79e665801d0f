package engine

import "strings"

// newOriginChecker builds the WebSocket Origin allow-list check. Patterns
// are exact origins ("https://shop.example"), "*" for any, or an origin
// ending in ":*" for any port ("http://localhost:*"). Comparison is ASCII
// case-insensitive. The check runs on the loop and does not allocate.
func newOriginChecker(allowed []string) func([]byte) bool {
	pats := make([]string, 0, len(allowed))
	any := false
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimRight(strings.TrimSpace(a), "/"))
		if a == "*" {
			any = true
		}
		if a != "" {
			pats = append(pats, a)
		}
	}
	return func(origin []byte) bool {
		if any {
			return true
		}
		for _, p := range pats {
			if matchOrigin(p, origin) {
				return true
			}
		}
		return false
	}
}

func matchOrigin(pat string, origin []byte) bool {
	if host, ok := strings.CutSuffix(pat, ":*"); ok {
		if len(origin) < len(host) || !equalFold(host, origin[:len(host)]) {
			return false
		}
		rest := origin[len(host):]
		if len(rest) == 0 {
			return true
		}
		if rest[0] != ':' || len(rest) == 1 {
			return false
		}
		for _, c := range rest[1:] {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	return len(origin) == len(pat) && equalFold(pat, origin)
}

func equalFold(lower string, b []byte) bool {
	for i := 0; i < len(lower); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
