package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSignVerify(t *testing.T) {
	secret := []byte("0123456789abcdef-site-secret")
	now := time.Unix(1_800_000_000, 0)
	good := Sign(secret, "demo", "agent", "alice", now.Add(time.Hour))
	tests := []struct {
		name                  string
		secret                []byte
		tok, site, role, user string
		now                   time.Time
		want                  error
	}{
		{"valid", secret, good, "demo", "agent", "alice", now, nil},
		{"expired", secret, good, "demo", "agent", "alice", now.Add(2 * time.Hour), ErrExpired},
		{"other user", secret, good, "demo", "agent", "bob", now, ErrBadSignature},
		{"other role", secret, good, "demo", "visitor", "alice", now, ErrBadSignature},
		{"other site", secret, good, "shop", "agent", "alice", now, ErrBadSignature},
		{"wrong secret", []byte("another-secret-0123456"), good, "demo", "agent", "alice", now, ErrBadSignature},
		{"no secret", nil, good, "demo", "agent", "alice", now, ErrNoSecret},
		{"short secret", []byte("short"), good, "demo", "agent", "alice", now, ErrNoSecret},
		{"empty", secret, "", "demo", "agent", "alice", now, ErrMalformed},
		{"no dot", secret, strings.ReplaceAll(good, ".", ""), "demo", "agent", "alice", now, ErrMalformed},
		{"bad exp", secret, "x" + good, "demo", "agent", "alice", now, ErrMalformed},
		{"truncated mac", secret, good[:len(good)-2], "demo", "agent", "alice", now, ErrMalformed},
		{"tampered exp", secret, "9" + good, "demo", "agent", "alice", now, ErrBadSignature},
		{"bad base64", secret, good[:len(good)-1] + "*", "demo", "agent", "alice", now, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.tok, tc.site, tc.role, tc.user, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// The separator keeps ("ab","c") and ("a","bc") apart.
func TestFieldsAreSeparated(t *testing.T) {
	secret := []byte("0123456789abcdef-site-secret")
	exp := time.Unix(1_900_000_000, 0)
	tok := Sign(secret, "ab", "agent", "c", exp)
	if err := Verify(secret, tok, "a", "agent", "bc", exp.Add(-time.Hour)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Verify = %v", err)
	}
}
