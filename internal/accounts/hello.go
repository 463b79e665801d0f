package accounts

import (
	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// HelloAuthenticator is what the engine calls for each HELLO
// (engine.Authenticator); *sites.Static implements it.
type HelloAuthenticator interface {
	Authenticate(h *proto.Hello) (*shard.Identity, error)
}

// HelloAuth authenticates HELLOs against the sites and agents in the
// store, handing sites it does not know to a fallback (the configured
// sites). It implements HelloAuthenticator.
type HelloAuth struct {
	a        *Accounts
	fallback HelloAuthenticator
}

// Hello returns a HELLO authenticator over a. fallback, which may be nil,
// receives every HELLO whose site is not in the store, so sites from the
// configuration file keep working as before.
//
// Rules for a site in the store, matching package sites for visitors:
//   - visitor, no token: anonymous, any user id of sites.ValidID form;
//   - visitor with a token: verified, token.Verify(secret, tok, site,
//     "visitor", user, now) with the current secret or the previous one
//     during its grace;
//   - agent: the token must be a session token from Login whose site is
//     the HELLO's site and whose agent id is the HELLO's user.
//
// Authenticate reads only the in-memory cache (sites, sessions, agent
// epochs; see cache.go): no Pebble read, no lock, so it may run on an event
// loop. The cache holds every site, session and agent the store holds, so
// its answers are those of the records on disk.
func (a *Accounts) Hello(fallback HelloAuthenticator) *HelloAuth {
	return &HelloAuth{a: a, fallback: fallback}
}

// Authenticate checks a HELLO and returns who is speaking.
func (h *HelloAuth) Authenticate(m *proto.Hello) (*shard.Identity, error) {
	site := m.GetSite()
	if !sites.ValidID(site) {
		return nil, sites.ErrUnknownSite
	}
	rec, ok := h.a.c.site(site)
	if !ok {
		if h.fallback != nil {
			return h.fallback.Authenticate(m)
		}
		return nil, sites.ErrUnknownSite
	}
	user := m.GetUser()
	if !sites.ValidID(user) {
		return nil, sites.ErrBadUser
	}
	var trust uint8
	switch m.GetRole() {
	case proto.Role_ROLE_VISITOR:
		if tok := m.GetToken(); tok != "" {
			if err := h.a.verifyWith(rec, "visitor", user, tok); err != nil {
				return nil, err
			}
			trust = shard.TrustVerified
		}
	case proto.Role_ROLE_AGENT:
		if m.GetToken() == "" {
			return nil, sites.ErrTokenRequired
		}
		s, err := h.a.Authenticate(m.GetToken())
		if err != nil {
			return nil, err
		}
		if s.Site != site || s.AgentID != user {
			return nil, ErrInvalidSession
		}
	default:
		return nil, sites.ErrBadRole
	}
	who := shard.NewIdentity(site, user, m.GetRole())
	who.Trust = trust
	return who, nil
}

// The configured sites serve as the fallback.
var _ HelloAuthenticator = (*sites.Static)(nil)
