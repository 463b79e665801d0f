package sites

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/proto"
)

func TestAuthenticate(t *testing.T) {
	secret := []byte("site-secret-0123456789")
	now := time.Unix(1_800_000_000, 0)
	s, err := New([]Site{{ID: "demo", Secret: secret}}, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	agentTok := token.Sign(secret, "demo", "agent", "alice", now.Add(time.Hour))
	visitorTok := token.Sign(secret, "demo", "visitor", "u-1", now.Add(time.Hour))
	tests := []struct {
		name       string
		hello      *proto.Hello
		want       error
		wantSender string
	}{
		{"anonymous visitor", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: "v-123"}, nil, "v:v-123"},
		{"verified visitor", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: "u-1", Token: visitorTok}, nil, "v:u-1"},
		{"visitor with forged token", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: "u-2", Token: visitorTok}, token.ErrBadSignature, ""},
		{"agent", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_AGENT, User: "alice", Token: agentTok}, nil, "a:alice"},
		{"agent without token", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_AGENT, User: "alice"}, ErrTokenRequired, ""},
		{"visitor token as agent", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_AGENT, User: "u-1", Token: visitorTok}, token.ErrBadSignature, ""},
		{"unknown site", &proto.Hello{Site: "other", Role: proto.Role_ROLE_VISITOR, User: "v"}, ErrUnknownSite, ""},
		{"no role", &proto.Hello{Site: "demo", User: "v"}, ErrBadRole, ""},
		{"empty user", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR}, ErrBadUser, ""},
		{"user with spaces", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: "a b"}, ErrBadUser, ""},
		{"user too long", &proto.Hello{Site: "demo", Role: proto.Role_ROLE_VISITOR, User: strings.Repeat("x", MaxUserLen+1)}, ErrBadUser, ""},
		{"nil hello", nil, ErrUnknownSite, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			who, err := s.Authenticate(tc.hello)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && who.Sender != tc.wantSender {
				t.Fatalf("sender %q, want %q", who.Sender, tc.wantSender)
			}
		})
	}
	expired := token.Sign(secret, "demo", "agent", "alice", now.Add(-time.Second))
	if _, err := s.Authenticate(&proto.Hello{Site: "demo", Role: proto.Role_ROLE_AGENT, User: "alice", Token: expired}); !errors.Is(err, token.ErrExpired) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestNewRejectsBadSites(t *testing.T) {
	good := []byte("0123456789abcdef")
	for name, list := range map[string][]Site{
		"short secret": {{ID: "demo", Secret: []byte("short")}},
		"bad id":       {{ID: "de mo", Secret: good}},
		"duplicate":    {{ID: "demo", Secret: good}, {ID: "demo", Secret: good}},
	} {
		if _, err := New(list, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
