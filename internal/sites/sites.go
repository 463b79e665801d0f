// Package sites knows the configured sites (tenants) and authenticates the
// HELLO of a connection, or the CONNECT of an MQTT device, against them.
//
// A visitor is anonymous (any well-formed visitor id the SDK keeps) unless
// it presents a token, which must then verify: a verified visitor is one the
// site's backend vouches for. An agent must always present a valid token.
// Tokens are HMAC-SHA256 over the site secret (package internal/token),
// compared in constant time.
//
// MQTT devices sign in with the user name <site>/<device> and a device
// token as password, and may use topics under kefu/<site>/<device>/ only
// (mqtt.go, MQTTAuth).
//
// A Static set is immutable after New and safe for concurrent use; its
// Authenticate and MQTTAuth's methods run on event loops and do no I/O.
package sites

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// Errors returned by Authenticate; all mean "refuse the HELLO".
var (
	// ErrUnknownSite: no site with that key.
	ErrUnknownSite = errors.New("sites: unknown site")
	// ErrBadRole: role missing or not visitor/agent.
	ErrBadRole = errors.New("sites: bad role")
	// ErrBadUser: user id missing, too long or with characters outside
	// [A-Za-z0-9._@:-].
	ErrBadUser = errors.New("sites: bad user id")
	// ErrTokenRequired: an agent sent no token.
	ErrTokenRequired = errors.New("sites: token required")
)

// MaxUserLen is the longest user id accepted.
const MaxUserLen = 128

// Site is one tenant's credentials.
type Site struct {
	ID     string
	Secret []byte
}

// Static is a fixed set of sites.
type Static struct {
	secrets map[string][]byte
	now     func() time.Time
}

// New builds a Static from sites; every secret must be at least
// token.MinSecretLen bytes. now defaults to time.Now.
func New(list []Site, now func() time.Time) (*Static, error) {
	s := &Static{secrets: make(map[string][]byte, len(list)), now: now}
	if s.now == nil {
		s.now = time.Now
	}
	for _, site := range list {
		if !ValidID(site.ID) {
			return nil, fmt.Errorf("sites: bad site id %q", site.ID)
		}
		if len(site.Secret) < token.MinSecretLen {
			return nil, fmt.Errorf("sites: secret of site %q is shorter than %d bytes", site.ID, token.MinSecretLen)
		}
		if _, dup := s.secrets[site.ID]; dup {
			return nil, fmt.Errorf("sites: site %q listed twice", site.ID)
		}
		s.secrets[site.ID] = append([]byte(nil), site.Secret...)
	}
	return s, nil
}

// Authenticate checks a HELLO and returns who is speaking.
func (s *Static) Authenticate(h *proto.Hello) (*shard.Identity, error) {
	secret, ok := s.secrets[h.GetSite()]
	if !ok {
		return nil, ErrUnknownSite
	}
	if !ValidID(h.GetUser()) {
		return nil, ErrBadUser
	}
	var role string
	switch h.GetRole() {
	case proto.Role_ROLE_VISITOR:
		role = "visitor"
	case proto.Role_ROLE_AGENT:
		role = "agent"
		if h.GetToken() == "" {
			return nil, ErrTokenRequired
		}
	default:
		return nil, ErrBadRole
	}
	who := shard.NewIdentity(h.GetSite(), h.GetUser(), h.GetRole())
	if tok := h.GetToken(); tok != "" {
		if err := token.Verify(secret, tok, h.GetSite(), role, h.GetUser(), s.now()); err != nil {
			return nil, err
		}
		if role == "visitor" {
			who.Trust = shard.TrustVerified
		}
	}
	return who, nil
}

// ValidID reports whether id is 1..MaxUserLen bytes of [A-Za-z0-9._@:-].
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxUserLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == '@' || c == ':' || c == '-':
		default:
			return false
		}
	}
	return true
}
