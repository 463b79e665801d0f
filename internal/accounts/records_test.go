package accounts

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/proto"
)

func TestGroups(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	mustSite(t, e.a, "other")
	for _, tc := range []struct {
		name, site, id string
		tags           []string
		want           error
	}{
		{"ok", "shop", "sales", []string{"en", "pricing"}, nil},
		{"no tags", "shop", "support", nil, nil},
		{"bad id", "shop", "a b", nil, ErrInvalid},
		{"empty tag", "shop", "x", []string{""}, ErrInvalid},
		{"long tag", "shop", "x", []string{strings.Repeat("t", MaxTagLen+1)}, ErrInvalid},
		{"control tag", "shop", "x", []string{"a\nb"}, ErrInvalid},
		{"duplicate tag", "shop", "x", []string{"a", "a"}, ErrInvalid},
		{"too many", "shop", "x", make([]string, MaxTags+1), ErrInvalid},
		{"unknown site", "nope", "x", nil, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.PutGroup(tc.site, tc.id, tc.tags); !errors.Is(err, tc.want) {
				t.Fatalf("PutGroup = %v, want %v", err, tc.want)
			}
		})
	}
	g0, _ := e.a.GetGroup("shop", "sales")
	e.clk.Add(time.Minute)
	g, err := e.a.PutGroup("shop", "sales", []string{"de"})
	if err != nil || !slices.Equal(g.Tags, []string{"de"}) || !g.Created.Equal(g0.Created) || !g.Updated.After(g0.Updated) {
		t.Fatalf("replace: %+v %v (before %+v)", g, err, g0)
	}
	if _, err := e.a.GetGroup("other", "sales"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other site's group: %v", err)
	}
	if err := e.a.DeleteGroup("other", "sales"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete in other site: %v", err)
	}
	for i := range 5 {
		if _, err := e.a.PutGroup("shop", "g"+string(rune('a'+i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	for cursor := ""; ; {
		page, next, err := e.a.ListGroups("shop", cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page {
			all = append(all, g.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if want := []string{"ga", "gb", "gc", "gd", "ge", "sales", "support"}; !slices.Equal(all, want) {
		t.Fatalf("ListGroups: %v, want %v", all, want)
	}
	if err := e.a.DeleteGroup("shop", "sales"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.GetGroup("shop", "sales"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, _, err := e.a.ListGroups("shop", "", -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative limit: %v", err)
	}
}

func TestCanned(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	mustSite(t, e.a, "other")
	hi, err := e.a.CreateCanned("shop", CannedSpec{Shortcut: "Hi", Title: "Greeting", Body: "Hello! How can I help?"})
	if err != nil || !strings.HasPrefix(hi.ID, "cn") {
		t.Fatalf("create: %+v %v", hi, err)
	}
	for _, tc := range []struct {
		name string
		site string
		spec CannedSpec
		want error
	}{
		{"duplicate, other case", "shop", CannedSpec{Shortcut: "hi", Body: "x"}, ErrShortcutTaken},
		{"same shortcut, other site", "other", CannedSpec{Shortcut: "hi", Body: "x"}, nil},
		{"empty shortcut", "shop", CannedSpec{Body: "x"}, ErrInvalid},
		{"space in shortcut", "shop", CannedSpec{Shortcut: "a b", Body: "x"}, ErrInvalid},
		{"long shortcut", "shop", CannedSpec{Shortcut: strings.Repeat("a", MaxShortcutLen+1), Body: "x"}, ErrInvalid},
		{"empty body", "shop", CannedSpec{Shortcut: "e"}, ErrInvalid},
		{"long body", "shop", CannedSpec{Shortcut: "l", Body: strings.Repeat("b", MaxCannedBodyLen+1)}, ErrInvalid},
		{"bad utf-8 title", "shop", CannedSpec{Shortcut: "u", Title: "\xff", Body: "x"}, ErrInvalid},
		{"unknown site", "nope", CannedSpec{Shortcut: "n", Body: "x"}, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.CreateCanned(tc.site, tc.spec); !errors.Is(err, tc.want) {
				t.Fatalf("CreateCanned = %v, want %v", err, tc.want)
			}
		})
	}
	if c, err := e.a.CannedByShortcut("shop", "HI"); err != nil || c.ID != hi.ID {
		t.Fatalf("by shortcut: %+v %v", c, err)
	}
	if _, err := e.a.GetCanned("other", hi.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other site reads shop's reply: %v", err)
	}
	bye, _ := e.a.CreateCanned("shop", CannedSpec{Shortcut: "bye", Body: "Goodbye"})
	if _, err := e.a.UpdateCanned("shop", bye.ID, CannedSpec{Shortcut: "hi", Body: "x"}); !errors.Is(err, ErrShortcutTaken) {
		t.Fatalf("rename onto a taken shortcut: %v", err)
	}
	up, err := e.a.UpdateCanned("shop", bye.ID, CannedSpec{Shortcut: "cya", Title: "Bye", Body: "See you"})
	if err != nil || up.Shortcut != "cya" || up.Body != "See you" {
		t.Fatalf("update: %+v %v", up, err)
	}
	if _, err := e.a.CannedByShortcut("shop", "bye"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old shortcut still found: %v", err)
	}
	if _, err := e.a.UpdateCanned("other", bye.ID, CannedSpec{Shortcut: "z", Body: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update from other site: %v", err)
	}
	for _, s := range []string{"b", "a", "Zed"} {
		if _, err := e.a.CreateCanned("shop", CannedSpec{Shortcut: s, Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	var order []string
	for cursor := ""; ; {
		page, next, err := e.a.ListCanned("shop", cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			order = append(order, c.Shortcut)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if want := []string{"a", "b", "cya", "Hi", "Zed"}; !slices.Equal(order, want) {
		t.Fatalf("ListCanned order %v, want %v", order, want)
	}
	if err := e.a.DeleteCanned("other", hi.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete from other site: %v", err)
	}
	if err := e.a.DeleteCanned("shop", hi.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.CreateCanned("shop", CannedSpec{Shortcut: "hi", Body: "again"}); err != nil {
		t.Fatalf("shortcut free after delete: %v", err)
	}
}

func TestVisitors(t *testing.T) {
	e := newEnv(t)
	t0 := e.clk.Now()
	if _, err := e.a.GetVisitor("shop", "v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown visitor: %v", err)
	}
	if err := e.a.TouchVisitor("shop", "v1", "kefu.js/1.0 Firefox", []string{"en"}, t0); err != nil {
		t.Fatal(err)
	}
	// Index entries (written by the shard worker in production).
	b := e.st.NewBatch()
	for i, c := range []string{"c1", "c2", "c3"} {
		if err := b.PutConversationIndex("shop", "v1", t0.UnixMilli()+int64(i), c); err != nil {
			t.Fatal(err)
		}
	}
	_ = b.PutConversationIndex("shop", "v2", t0.UnixMilli(), "c4")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	v, err := e.a.GetVisitor("shop", "v1")
	if err != nil || v.Conversations != 3 || v.Client != "kefu.js/1.0 Firefox" || !slices.Equal(v.Tags, []string{"en"}) ||
		!v.FirstSeen.Equal(t0) || !v.LastSeen.Equal(t0) {
		t.Fatalf("visitor %+v %v", v, err)
	}
	// Within the touch interval, an unchanged touch writes nothing...
	_ = e.a.TouchVisitor("shop", "v1", "kefu.js/1.0 Firefox", nil, t0.Add(30*time.Second))
	if v, _ := e.a.GetVisitor("shop", "v1"); !v.LastSeen.Equal(t0) {
		t.Fatalf("touch within the interval wrote: %+v", v)
	}
	// ...a change or an older LastSeen does.
	_ = e.a.TouchVisitor("shop", "v1", "kefu.js/1.1", []string{"de", "vip"}, t0.Add(40*time.Second))
	v, _ = e.a.GetVisitor("shop", "v1")
	if v.Client != "kefu.js/1.1" || !slices.Equal(v.Tags, []string{"de", "vip"}) || !v.LastSeen.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("after change: %+v", v)
	}
	_ = e.a.TouchVisitor("shop", "v1", "kefu.js/1.1", nil, t0.Add(5*time.Minute))
	if v, _ := e.a.GetVisitor("shop", "v1"); !v.LastSeen.Equal(t0.Add(5*time.Minute)) || !slices.Equal(v.Tags, []string{"de", "vip"}) {
		t.Fatalf("stale touch: %+v", v)
	}
	// A visitor with conversations but never touched.
	if v, err := e.a.GetVisitor("shop", "v2"); err != nil || v.Conversations != 1 || !v.FirstSeen.IsZero() {
		t.Fatalf("untouched visitor: %+v %v", v, err)
	}
	// Another site knows nothing of them.
	if _, err := e.a.GetVisitor("other", "v1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("other site: %v", err)
	}
	// Long and invalid client strings are cut and cleaned, not refused.
	long := strings.Repeat("é", MaxClientLen)
	if err := e.a.TouchVisitor("shop", "v3", long+"\xff", nil, t0); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.a.GetVisitor("shop", "v3"); len(v.Client) > MaxClientLen || !strings.HasPrefix(long, v.Client) {
		t.Fatalf("client cut to %d bytes: %q", len(v.Client), v.Client)
	}
	for _, bad := range []struct{ site, id string }{{"", "v"}, {"shop", ""}, {"shop", "a b"}} {
		if err := e.a.TouchVisitor(bad.site, bad.id, "", nil, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("TouchVisitor(%q, %q) = %v", bad.site, bad.id, err)
		}
	}
}

func TestWebhookRecords(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	mustSite(t, e.a, "acme")
	ev := []webhook.EventType{webhook.EventMessageCreated}
	w, err := e.a.CreateWebhook("shop", WebhookSpec{URL: "https://hooks.example/kefu", Events: ev})
	if err != nil || !strings.HasPrefix(w.ID, "wh") || len(w.Secret) != 43 {
		t.Fatalf("create: %+v %v", w, err)
	}
	for _, tc := range []struct {
		name string
		site string
		spec WebhookSpec
		want error
	}{
		{"bad scheme", "shop", WebhookSpec{URL: "ftp://x", Events: ev}, ErrInvalid},
		{"no events", "shop", WebhookSpec{URL: "https://x"}, ErrInvalid},
		{"unknown event", "shop", WebhookSpec{URL: "https://x", Events: []webhook.EventType{"nope"}}, ErrInvalid},
		{"duplicate event", "shop", WebhookSpec{URL: "https://x", Events: append(ev, ev...)}, ErrInvalid},
		{"long url", "shop", WebhookSpec{URL: "https://x/" + strings.Repeat("a", MaxWebhookURLLen), Events: ev}, ErrInvalid},
		{"unknown site", "nope", WebhookSpec{URL: "https://x", Events: ev}, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.CreateWebhook(tc.site, tc.spec); !errors.Is(err, tc.want) {
				t.Fatalf("CreateWebhook = %v, want %v", err, tc.want)
			}
		})
	}
	for range MaxWebhooks - 1 {
		if _, err := e.a.CreateWebhook("shop", WebhookSpec{URL: "http://127.0.0.1/h", Events: ev, Secret: "s"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.a.CreateWebhook("shop", WebhookSpec{URL: "http://127.0.0.1/h", Events: ev}); !errors.Is(err, ErrTooMany) {
		t.Fatalf("past the limit: %v", err)
	}
	if _, err := e.a.CreateWebhook("acme", WebhookSpec{URL: "http://acme.example/h", Events: ev}); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	if err := e.a.AllWebhooks(func(site string, hooks []Webhook) error {
		got[site] += len(hooks)
		return nil
	}); err != nil || got["shop"] != MaxWebhooks || got["acme"] != 1 || len(got) != 2 {
		t.Fatalf("AllWebhooks: %v %v", got, err)
	}
	if err := e.a.DeleteWebhook("acme", w.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete from another site: %v", err)
	}
	if err := e.a.DeleteWebhook("shop", w.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := e.a.Webhooks("shop"); len(list) != MaxWebhooks-1 {
		t.Fatalf("after delete: %d", len(list))
	}
}

// TestCacheServesChecksWithoutStore: HELLO authentication and session
// checks use only memory, so they keep answering (correctly) after the
// store is closed; and a new Accounts over the store rebuilds the cache.
func TestCacheServesChecksWithoutStore(t *testing.T) {
	e := newEnv(t)
	site := mustSite(t, e.a, "shop")
	ann := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	s, err := e.a.Login("shop", "ann@shop.example", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	gone, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	if err := e.a.Logout(gone.Token); err != nil {
		t.Fatal(err)
	}
	if got := e.a.Sites(); len(got) != 1 || got[0].ID != "shop" || got[0].Secret != site.Secret {
		t.Fatalf("Sites = %+v", got)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	h := e.a.Hello(nil)
	if id, err := h.Authenticate(&proto.Hello{Site: "shop", Role: proto.Role_ROLE_AGENT, User: ann.ID, Token: s.Token}); err != nil || id.Sender != "a:"+ann.ID {
		t.Fatalf("agent HELLO on a closed store: %v %v", id, err)
	}
	if _, err := h.Authenticate(&proto.Hello{Site: "shop", Role: proto.Role_ROLE_AGENT, User: ann.ID, Token: gone.Token}); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("logged-out session: %v", err)
	}
	vt := token.Sign([]byte(site.Secret), "shop", "visitor", "v1", e.clk.Now().Add(time.Hour))
	if _, err := h.Authenticate(&proto.Hello{Site: "shop", Role: proto.Role_ROLE_VISITOR, User: "v1", Token: vt}); err != nil {
		t.Fatalf("verified visitor on a closed store: %v", err)
	}
	if _, err := e.a.Authenticate(s.Token); err != nil {
		t.Fatalf("Authenticate on a closed store: %v", err)
	}
	e.clk.Add(DefaultSessionTTL)
	if _, err := e.a.Authenticate(s.Token); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("expired session from the cache: %v", err)
	}

	// Reopen: the live session (not yet expired at the reopen clock) is
	// loaded, the logged-out one is not.
	e.clk.Add(-DefaultSessionTTL)
	e.st = openStore(t, e.dir)
	a, err := New(Options{Store: e.st, Now: e.clk.Now, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.c.sessionCount(); n != 1 {
		t.Fatalf("sessions loaded: %d, want 1", n)
	}
	if _, err := a.Authenticate(s.Token); err != nil {
		t.Fatalf("after reload: %v", err)
	}
	if n := a.AgentName("shop", ann.ID); n != "ann@shop.example" {
		t.Fatalf("AgentName = %q", n)
	}
	if n := a.AgentName("shop", "nobody"); n != "nobody" {
		t.Fatalf("AgentName of an unknown agent = %q", n)
	}
	// A password change and a deletion reach the cache at once.
	if _, err := a.SetPassword("shop", ann.ID, "password-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(s.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("after password change: %v", err)
	}
	s2, _ := a.Login("shop", "ann@shop.example", "password-2")
	if err := a.DeleteAgent("shop", ann.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(s2.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("after delete: %v", err)
	}
	if n, err := a.PurgeSessions(); err != nil || n != 2 || a.c.sessionCount() != 0 {
		t.Fatalf("purge: %d %v, cached %d", n, err, a.c.sessionCount())
	}
	// Site changes reach HELLO checks.
	rot, _ := a.RotateSecret("shop")
	if err := a.VerifyToken("shop", "visitor", "v1", token.Sign([]byte(rot.Secret), "shop", "visitor", "v1", e.clk.Now().Add(time.Hour))); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}
