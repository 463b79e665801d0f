package engine_test

import (
	"net/http"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

// TestPerSiteOrigins: a site's own allowed origins open WebSocket for that
// site only; the gateway's allow-list opens it for every site; anything
// else is refused at the upgrade.
func TestPerSiteOrigins(t *testing.T) {
	s := testserver.Start(t)
	if _, err := s.Accounts.CreateSite("shop", []string{"https://Shop.example/"}, accounts.Settings{}); err != nil {
		t.Fatal(err)
	}
	dial := func(origin string) (*gorillaClient, int) {
		c, resp, err := websocket.DefaultDialer.Dial(s.WSURL(), http.Header{"Origin": {origin}})
		if err != nil {
			if resp == nil {
				t.Fatalf("dial %s: %v", origin, err)
			}
			return nil, resp.StatusCode
		}
		return &gorillaClient{c}, http.StatusSwitchingProtocols
	}
	hello := func(c *gorillaClient, site string) *proto.Envelope {
		c.send(t, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
			Hello: &proto.Hello{Site: site, Role: proto.Role_ROLE_VISITOR, User: "o-visitor"}})
		return c.recv(t)
	}
	cases := []struct {
		name, origin, site string
		upgrade            int
		reply              proto.Type
	}{
		{"site origin, its site", "https://shop.example", "shop", 101, proto.Type_TYPE_WELCOME},
		{"site origin, another site", "https://shop.example", testserver.Site, 101, proto.Type_TYPE_ERROR},
		{"gateway origin, a directory site", "http://allowed.example", "shop", 101, proto.Type_TYPE_WELCOME},
		{"gateway origin, a config site", "http://allowed.example", testserver.Site, 101, proto.Type_TYPE_WELCOME},
		{"unknown origin", "https://evil.example", "shop", http.StatusForbidden, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, code := dial(tc.origin)
			if code != tc.upgrade {
				t.Fatalf("upgrade %d, want %d", code, tc.upgrade)
			}
			if c == nil {
				return
			}
			defer c.close()
			r := hello(c, tc.site)
			if r.Type != tc.reply {
				t.Fatalf("HELLO answered %v", r)
			}
			if r.Type == proto.Type_TYPE_ERROR && r.Error.Code != proto.Code_CODE_FORBIDDEN {
				t.Fatalf("refusal %v", r)
			}
		})
	}
}
