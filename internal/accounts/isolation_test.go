package accounts

import (
	"errors"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
)

// TestSiteIsolation: every method scoped to site A, given site B's agent
// id or email, finds nothing, and B's agent is unchanged afterwards.
func TestSiteIsolation(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "a")
	mustSite(t, e.a, "b")
	mustAgent(t, e.a, "a", "ann@a.example", "password-a")
	bob := mustAgent(t, e.a, "b", "bob@b.example", "password-b")
	// The same email in both sites is two distinct agents.
	twinA := mustAgent(t, e.a, "a", "twin@x.example", "password-a")
	twinB := mustAgent(t, e.a, "b", "twin@x.example", "password-b")
	if twinA.ID == twinB.ID {
		t.Fatal("one id for two sites")
	}
	name, email := "hijacked", "evil@a.example"
	for _, tc := range []struct {
		name string
		call func() error
		want error
	}{
		{"GetAgent", func() error { _, err := e.a.GetAgent("a", bob.ID); return err }, ErrNotFound},
		{"AgentByEmail", func() error { _, err := e.a.AgentByEmail("a", "bob@b.example"); return err }, ErrNotFound},
		{"UpdateAgent", func() error {
			_, err := e.a.UpdateAgent("a", bob.ID, AgentUpdate{Name: &name, Email: &email})
			return err
		}, ErrNotFound},
		{"SetPassword", func() error { _, err := e.a.SetPassword("a", bob.ID, "password-x"); return err }, ErrNotFound},
		{"DeleteAgent", func() error { return e.a.DeleteAgent("a", bob.ID) }, ErrNotFound},
		{"Login", func() error { _, err := e.a.Login("a", "bob@b.example", "password-b"); return err }, ErrBadCredentials},
		{"Login twin with B's password", func() error {
			_, err := e.a.Login("a", "twin@x.example", "password-b")
			return err
		}, ErrBadCredentials},
		{"ListAgents", func() error {
			list, _, err := e.a.ListAgents("a", "", 100)
			for _, ag := range list {
				if ag.Site != "a" {
					return errors.New("site b agent listed in a")
				}
			}
			if err == nil && len(list) != 2 {
				return errors.New("wrong count")
			}
			return err
		}, nil},
		{"ListAgents cursor from b", func() error {
			list, _, err := e.a.ListAgents("a", bob.ID, 100)
			for _, ag := range list {
				if ag.Site != "a" {
					return errors.New("site b agent listed in a")
				}
			}
			return err
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("%s = %v, want %v", tc.name, err, tc.want)
			}
		})
	}
	got, err := e.a.GetAgent("b", bob.ID)
	if err != nil || got.Name != bob.Name || got.Email != bob.Email {
		t.Fatalf("b's agent changed: %+v %v", got, err)
	}
	if _, err := e.a.Login("b", "bob@b.example", "password-b"); err != nil {
		t.Fatalf("b's password changed: %v", err)
	}
	// A session of site b does not open a HELLO of site a.
	sb, _ := e.a.Login("b", "bob@b.example", "password-b")
	h := e.a.Hello(nil)
	if _, err := h.Authenticate(&proto.Hello{Site: "a", User: bob.ID, Role: proto.Role_ROLE_AGENT, Token: sb.Token}); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("b's session in a's HELLO = %v", err)
	}
}

type fallback struct{ called int }

func (f *fallback) Authenticate(h *proto.Hello) (*shard.Identity, error) {
	f.called++
	return shard.NewIdentity(h.GetSite(), h.GetUser(), h.GetRole()), nil
}

func TestHelloAuth(t *testing.T) {
	e := newEnv(t)
	site := mustSite(t, e.a, "shop")
	ann := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	mustSite(t, e.a, "other")
	mustAgent(t, e.a, "other", "ann@shop.example", "password-1")
	sess, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	expired, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	exp := e.clk.Now().Add(time.Hour)
	verified := token.Sign([]byte(site.Secret), "shop", "visitor", "u1", exp)
	fb := &fallback{}
	h := e.a.Hello(fb)
	const (
		V = proto.Role_ROLE_VISITOR
		A = proto.Role_ROLE_AGENT
	)
	for _, tc := range []struct {
		name             string
		site, user, tok  string
		role             proto.Role
		want             error
		wantFallbackCall bool
	}{
		{"anonymous visitor", "shop", "u1", "", V, nil, false},
		{"verified visitor", "shop", "u1", verified, V, nil, false},
		{"verified token of another user", "shop", "u2", verified, V, token.ErrBadSignature, false},
		{"forged visitor", "shop", "u1", token.Sign([]byte("0123456789abcdef0"), "shop", "visitor", "u1", exp), V, token.ErrBadSignature, false},
		{"expired visitor", "shop", "u1", token.Sign([]byte(site.Secret), "shop", "visitor", "u1", e.clk.Now()), V, token.ErrExpired, false},
		{"bad user", "shop", "a b", "", V, sites.ErrBadUser, false},
		{"bad role", "shop", "u1", "", proto.Role(99), sites.ErrBadRole, false},
		{"agent session", "shop", ann.ID, sess.Token, A, nil, false},
		{"agent no token", "shop", ann.ID, "", A, sites.ErrTokenRequired, false},
		{"agent other user", "shop", "ag000000000000000000000000", sess.Token, A, ErrInvalidSession, false},
		{"agent other site", "other", ann.ID, sess.Token, A, ErrInvalidSession, false},
		{"agent site-signed token", "shop", ann.ID, token.Sign([]byte(site.Secret), "shop", "agent", ann.ID, exp), A, ErrInvalidSession, false},
		{"unknown site to fallback", "config", "u1", "", V, nil, true},
		{"bad site id", "", "u1", "", V, sites.ErrUnknownSite, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fb.called
			id, err := h.Authenticate(&proto.Hello{Site: tc.site, User: tc.user, Role: tc.role, Token: tc.tok})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
			if (fb.called > before) != tc.wantFallbackCall {
				t.Fatalf("fallback called: %v", fb.called > before)
			}
			if err == nil && (id.Site != tc.site || id.User != tc.user || id.Role != tc.role) {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	e.clk.Add(DefaultSessionTTL)
	if _, err := h.Authenticate(&proto.Hello{Site: "shop", User: ann.ID, Role: A, Token: expired.Token}); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("expired session = %v", err)
	}
	if _, err := e.a.Hello(nil).Authenticate(&proto.Hello{Site: "config", User: "u1", Role: V}); !errors.Is(err, sites.ErrUnknownSite) {
		t.Fatalf("unknown site without fallback = %v", err)
	}
}
