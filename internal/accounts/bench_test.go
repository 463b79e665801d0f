package accounts

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/storage"
)

// BenchmarkHelloAuth measures HELLO checks as the event loop makes them:
// from the cache, no Pebble read.
func BenchmarkHelloAuth(b *testing.B) {
	st, err := storage.Open(storage.Options{Dir: filepath.Join(b.TempDir(), "p"), Durability: storage.DurabilityAsync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a, err := New(Options{Store: st, Argon2: cheap})
	if err != nil {
		b.Fatal(err)
	}
	site, _ := a.CreateSite("shop", nil, Settings{})
	ag, _, _ := a.CreateAgent("shop", AgentSpec{Email: "ann@shop.example", Password: "password-1"})
	s, _ := a.Login("shop", "ann@shop.example", "password-1")
	h := a.Hello(nil)
	for _, bc := range []struct {
		name  string
		hello *proto.Hello
	}{
		{"agent-session", &proto.Hello{Site: "shop", Role: proto.Role_ROLE_AGENT, User: ag.ID, Token: s.Token}},
		{"visitor-anonymous", &proto.Hello{Site: "shop", Role: proto.Role_ROLE_VISITOR, User: "v1"}},
		{"visitor-verified", &proto.Hello{Site: "shop", Role: proto.Role_ROLE_VISITOR, User: "v1",
			Token: token.Sign([]byte(site.Secret), "shop", "visitor", "v1", time.Now().Add(time.Hour))}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.Authenticate(bc.hello); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
