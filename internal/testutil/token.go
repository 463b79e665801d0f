package testutil

import (
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
)

// MintToken returns an identity token for (site, role, user) signed with
// secret and valid for an hour. role is "visitor" or "agent"; anything else
// fails the test.
func MintToken(t testing.TB, secret, site, role, user string) string {
	t.Helper()
	if role != "visitor" && role != "agent" {
		t.Fatalf("MintToken: role %q is neither \"visitor\" nor \"agent\"", role)
	}
	return token.Sign([]byte(secret), site, role, user, time.Now().Add(time.Hour))
}
