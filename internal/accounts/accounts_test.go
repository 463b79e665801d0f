package accounts

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/storage"
)

func TestSites(t *testing.T) {
	e := newEnv(t)
	s, err := e.a.CreateSite("shop", []string{"https://shop.example"}, Settings{QueueMessage: "wait", MaxQueue: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Secret) != 64 || len(s.Secret) < token.MinSecretLen {
		t.Fatalf("secret %q: want 64 hex characters", s.Secret)
	}
	for _, tc := range []struct {
		name    string
		id      string
		origins []string
		set     Settings
		want    error
	}{
		{"duplicate", "shop", nil, Settings{}, ErrSiteExists},
		{"empty id", "", nil, Settings{}, ErrInvalid},
		{"bad id", "a b", nil, Settings{}, ErrInvalid},
		{"empty origin", "x1", []string{""}, Settings{}, ErrInvalid},
		{"negative queue", "x2", nil, Settings{MaxQueue: -1}, ErrInvalid},
		{"long message", "x3", nil, Settings{OfflineMessage: strings.Repeat("m", MaxMessage+1)}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.CreateSite(tc.id, tc.origins, tc.set); !errors.Is(err, tc.want) {
				t.Fatalf("CreateSite = %v, want %v", err, tc.want)
			}
		})
	}
	got, err := e.a.GetSite("shop")
	if err != nil || got.Secret != s.Secret || got.Settings.MaxQueue != 10 || got.Origins[0] != "https://shop.example" {
		t.Fatalf("GetSite = %+v, %v", got, err)
	}
	if _, err := e.a.GetSite("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetSite(nope) = %v", err)
	}
	up, err := e.a.UpdateSite("shop", nil, Settings{OfflineMessage: "closed"})
	if err != nil || up.Settings.OfflineMessage != "closed" || up.Origins != nil || up.Secret != s.Secret {
		t.Fatalf("UpdateSite = %+v, %v", up, err)
	}
	if _, err := e.a.UpdateSite("nope", nil, Settings{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateSite(nope) = %v", err)
	}
}

func TestRotateSecretGrace(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SecretGrace = time.Hour })
	s0 := mustSite(t, e.a, "shop")
	exp := e.clk.Now().Add(48 * time.Hour)
	old := token.Sign([]byte(s0.Secret), "shop", "visitor", "u1", exp)

	s1, err := e.a.RotateSecret("shop")
	if err != nil {
		t.Fatal(err)
	}
	if s1.Secret == s0.Secret || s1.PrevSecret != s0.Secret {
		t.Fatalf("rotate: %+v", s1)
	}
	fresh := token.Sign([]byte(s1.Secret), "shop", "visitor", "u1", exp)
	check := func(name, tok string, want error) {
		t.Helper()
		if err := e.a.VerifyToken("shop", "visitor", "u1", tok); !errors.Is(err, want) {
			t.Fatalf("%s: VerifyToken = %v, want %v", name, err, want)
		}
	}
	check("old in grace", old, nil)
	check("new", fresh, nil)
	check("forged", token.Sign([]byte("0123456789abcdef0123"), "shop", "visitor", "u1", exp), token.ErrBadSignature)
	check("other user", token.Sign([]byte(s1.Secret), "shop", "visitor", "u2", exp), token.ErrBadSignature)
	check("expired", token.Sign([]byte(s1.Secret), "shop", "visitor", "u1", e.clk.Now().Add(-time.Second)), token.ErrExpired)

	e.clk.Add(time.Hour)
	check("old after grace", old, token.ErrBadSignature)
	check("new after grace", fresh, nil)

	s2, _ := e.a.RotateSecret("shop")
	check("second rotation: previous in grace", fresh, nil)
	check("second rotation: first secret gone", old, token.ErrBadSignature)
	check("second rotation: newest", token.Sign([]byte(s2.Secret), "shop", "visitor", "u1", exp), nil)
	if _, err := e.a.RotateSecret("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RotateSecret(nope) = %v", err)
	}
	if err := e.a.VerifyToken("nope", "visitor", "u1", fresh); !errors.Is(err, ErrNotFound) {
		t.Fatalf("VerifyToken(nope) = %v", err)
	}
}

func TestCreateAgent(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	ag, pw, err := e.a.CreateAgent("shop", AgentSpec{Email: "Ann@Shop.example", Name: "Ann", Role: RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if len(pw) != 24 || ag.Role != RoleAdmin || ag.Capacity != DefaultCapacity || ag.Weight != 1 ||
		!strings.HasPrefix(ag.ID, "ag") || len(ag.ID) != 26 || ag.Site != "shop" {
		t.Fatalf("CreateAgent = %+v, password %q", ag, pw)
	}
	if _, err := e.a.Login("shop", "ann@shop.example", pw); err != nil {
		t.Fatalf("login with one-time password: %v", err)
	}
	_, pw2, err := e.a.CreateAgent("shop", AgentSpec{Email: "bob@shop.example", Password: "given-password"})
	if err != nil || pw2 != "" {
		t.Fatalf("given password: %q %v", pw2, err)
	}
	for _, tc := range []struct {
		name string
		site string
		spec AgentSpec
		want error
	}{
		{"email taken, other case", "shop", AgentSpec{Email: "ANN@shop.EXAMPLE"}, ErrEmailTaken},
		{"unknown site", "nope", AgentSpec{Email: "c@x.example"}, ErrNotFound},
		{"bad site id", "a/b", AgentSpec{Email: "c@x.example"}, ErrInvalid},
		{"no at", "shop", AgentSpec{Email: "carol"}, ErrInvalid},
		{"space in email", "shop", AgentSpec{Email: "c d@x.example"}, ErrInvalid},
		{"bad role", "shop", AgentSpec{Email: "c@x.example", Role: "root"}, ErrInvalid},
		{"bad group", "shop", AgentSpec{Email: "c@x.example", Groups: []string{"a b"}}, ErrInvalid},
		{"capacity", "shop", AgentSpec{Email: "c@x.example", Capacity: -1}, ErrInvalid},
		{"weight", "shop", AgentSpec{Email: "c@x.example", Weight: MaxWeight + 1}, ErrInvalid},
		{"short password", "shop", AgentSpec{Email: "c@x.example", Password: "short"}, ErrInvalid},
		{"long name", "shop", AgentSpec{Email: "c@x.example", Name: strings.Repeat("n", MaxNameLen+1)}, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := e.a.CreateAgent(tc.site, tc.spec); !errors.Is(err, tc.want) {
				t.Fatalf("CreateAgent = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestAgentLifecycle(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	ann := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	bob := mustAgent(t, e.a, "shop", "bob@shop.example", "password-2")

	if got, err := e.a.GetAgent("shop", ann.ID); err != nil || got.Email != ann.Email {
		t.Fatalf("GetAgent = %+v, %v", got, err)
	}
	if got, err := e.a.AgentByEmail("shop", "ANN@shop.example"); err != nil || got.ID != ann.ID {
		t.Fatalf("AgentByEmail = %+v, %v", got, err)
	}
	name, role, groups, capa, w := "Ann B", RoleAdmin, []string{"sales", "fr"}, 3, 7
	up, err := e.a.UpdateAgent("shop", ann.ID, AgentUpdate{Name: &name, Role: &role, Groups: &groups, Capacity: &capa, Weight: &w})
	if err != nil || up.Name != name || up.Role != RoleAdmin || len(up.Groups) != 2 || up.Capacity != 3 || up.Weight != 7 {
		t.Fatalf("UpdateAgent = %+v, %v", up, err)
	}
	taken := "BOB@shop.example"
	if _, err := e.a.UpdateAgent("shop", ann.ID, AgentUpdate{Email: &taken}); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("UpdateAgent to a taken email = %v", err)
	}
	zero := 0
	if _, err := e.a.UpdateAgent("shop", ann.ID, AgentUpdate{Capacity: &zero}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("UpdateAgent capacity 0 = %v", err)
	}
	newEmail := "ann.b@shop.example"
	if _, err := e.a.UpdateAgent("shop", ann.ID, AgentUpdate{Email: &newEmail}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.AgentByEmail("shop", "ann@shop.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old email still indexed: %v", err)
	}
	if _, _, err := e.a.CreateAgent("shop", AgentSpec{Email: "ann@shop.example", Password: "password-3"}); err != nil {
		t.Fatalf("old email not freed: %v", err)
	}
	if _, err := e.a.Login("shop", newEmail, "password-1"); err != nil {
		t.Fatalf("login with the new email: %v", err)
	}

	// SetPassword: old password refused, sessions ended.
	sess, _ := e.a.Login("shop", "bob@shop.example", "password-2")
	gen, err := e.a.SetPassword("shop", bob.ID, "")
	if err != nil || len(gen) != 24 {
		t.Fatalf("SetPassword generated %q, %v", gen, err)
	}
	if _, err := e.a.Authenticate(sess.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("session after SetPassword = %v", err)
	}
	if _, err := e.a.Login("shop", "bob@shop.example", "password-2"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("old password = %v", err)
	}
	if _, err := e.a.Login("shop", "bob@shop.example", gen); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if g, err := e.a.SetPassword("shop", bob.ID, "chosen-password"); err != nil || g != "" {
		t.Fatalf("SetPassword chosen = %q %v", g, err)
	}

	// DeleteAgent: gone, email free, sessions dead.
	sess, _ = e.a.Login("shop", "bob@shop.example", "chosen-password")
	if err := e.a.DeleteAgent("shop", bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.GetAgent("shop", bob.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetAgent after delete = %v", err)
	}
	if _, err := e.a.Authenticate(sess.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("session after delete = %v", err)
	}
	if err := e.a.DeleteAgent("shop", bob.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	if _, err := e.a.AgentByEmail("shop", "bob@shop.example"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("email after delete = %v", err)
	}
}

func TestListAgents(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	mustSite(t, e.a, "other")
	want := map[string]bool{}
	for i := range 7 {
		want[mustAgent(t, e.a, "shop", fmt.Sprintf("a%d@x.example", i), "password-x").ID] = true
	}
	mustAgent(t, e.a, "other", "z@x.example", "password-x")
	for _, limit := range []int{1, 3, 7, 0} {
		seen, cursor, pages := map[string]bool{}, "", 0
		prev := ""
		for {
			page, next, err := e.a.ListAgents("shop", cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, ag := range page {
				if !want[ag.ID] || seen[ag.ID] || ag.ID <= prev {
					t.Fatalf("limit %d: unexpected, repeated or unordered %s", limit, ag.ID)
				}
				seen[ag.ID], prev = true, ag.ID
			}
			if next == "" {
				break
			}
			if len(page) != limit {
				t.Fatalf("limit %d: short page %d with a next cursor", limit, len(page))
			}
			cursor = next
		}
		if len(seen) != 7 {
			t.Fatalf("limit %d: saw %d agents", limit, len(seen))
		}
		if wantPages := (7 + max(limit, 1) - 1) / max(limit, 1); limit > 0 && pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	if _, _, err := e.a.ListAgents("shop", "", -1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("negative limit = %v", err)
	}
	if page, next, err := e.a.ListAgents("empty", "", 10); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("unknown site = %v %q %v", page, next, err)
	}
}

func TestLoginAndSessions(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	ann := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	for _, tc := range []struct {
		name, site, email, pw string
		want                  error
	}{
		{"wrong password", "shop", "ann@shop.example", "password-2", ErrBadCredentials},
		{"unknown email", "shop", "nobody@shop.example", "password-1", ErrBadCredentials},
		{"malformed email", "shop", "nobody", "password-1", ErrBadCredentials},
		{"unknown site", "nope", "ann@shop.example", "password-1", ErrBadCredentials},
		{"bad site id", "", "ann@shop.example", "password-1", ErrInvalid},
		{"right, other case", "shop", "ANN@shop.example", "password-1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.a.Login(tc.site, tc.email, tc.pw); !errors.Is(err, tc.want) {
				t.Fatalf("Login = %v, want %v", err, tc.want)
			}
		})
	}
	s, err := e.a.Login("shop", "ann@shop.example", "password-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Token) != 43 || s.AgentID != ann.ID || s.Site != "shop" || !s.Expires.Equal(e.clk.Now().Add(DefaultSessionTTL)) {
		t.Fatalf("session %+v", s)
	}
	got, err := e.a.Authenticate(s.Token)
	if err != nil || got.AgentID != ann.ID || got.Site != "shop" || got.Token != "" {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	// Only the hash is stored: the token's bytes appear nowhere in the store.
	_ = e.st.ScanPrefix(nil, func(k, v []byte) error {
		if strings.Contains(string(k)+string(v), s.Token) {
			t.Fatal("session token stored in clear")
		}
		return nil
	})
	// A role change applies to live sessions.
	admin := RoleAdmin
	if _, err := e.a.UpdateAgent("shop", ann.ID, AgentUpdate{Role: &admin}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.a.Authenticate(s.Token); got.Role != RoleAdmin {
		t.Fatalf("role after update = %q", got.Role)
	}
	for _, bad := range []string{"", "x", s.Token[:42], s.Token + "A", strings.Repeat("!", 43),
		strings.Repeat("A", 43)} {
		if _, err := e.a.Authenticate(bad); !errors.Is(err, ErrInvalidSession) {
			t.Fatalf("Authenticate(%q) = %v", bad, err)
		}
	}
	if err := e.a.Logout(s.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Authenticate(s.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("after logout = %v", err)
	}
	if err := e.a.Logout(s.Token); err != nil {
		t.Fatalf("second logout = %v", err)
	}
	if err := e.a.Logout("junk"); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("logout junk = %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionTTL = time.Hour })
	mustSite(t, e.a, "shop")
	ag := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	live, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	e.clk.Add(59 * time.Minute)
	if _, err := e.a.Authenticate(live.Token); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	late, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	e.clk.Add(time.Minute)
	if _, err := e.a.Authenticate(live.Token); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("at expiry: %v", err)
	}
	if _, err := e.a.Authenticate(late.Token); err != nil {
		t.Fatalf("later session: %v", err)
	}
	// One more session, revoked by a password change.
	revoked, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	if _, err := e.a.SetPassword("shop", ag.ID, "password-9"); err != nil {
		t.Fatal(err)
	}
	keep, _ := e.a.Login("shop", "ann@shop.example", "password-9")
	n, err := e.a.PurgeSessions()
	if err != nil || n != 3 { // live (expired), late and revoked (old epoch)
		t.Fatalf("PurgeSessions = %d, %v; want 3", n, err)
	}
	if _, err := e.a.Authenticate(revoked.Token); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("purged session = %v", err)
	}
	if _, err := e.a.Authenticate(keep.Token); err != nil {
		t.Fatalf("kept session: %v", err)
	}
	if n, _ := e.a.PurgeSessions(); n != 0 {
		t.Fatalf("second purge = %d", n)
	}
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.LoginMaxFailures = 3; o.LoginWindow = time.Minute; o.ThrottleEntries = 4 })
	mustSite(t, e.a, "shop")
	mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	mustAgent(t, e.a, "shop", "bob@shop.example", "password-2")
	for i := range 3 {
		if _, err := e.a.Login("shop", "ann@shop.example", "wrong-pass"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i, err)
		}
	}
	if _, err := e.a.Login("shop", "ANN@shop.example", "password-1"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("right password while throttled = %v", err)
	}
	if _, err := e.a.Login("shop", "bob@shop.example", "password-2"); err != nil {
		t.Fatalf("other email not throttled: %v", err)
	}
	e.clk.Add(time.Minute)
	if _, err := e.a.Login("shop", "ann@shop.example", "password-1"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Success clears the count: two failures, success, two failures: allowed.
	for range 2 {
		_, _ = e.a.Login("shop", "ann@shop.example", "wrong-pass")
	}
	if _, err := e.a.Login("shop", "ann@shop.example", "password-1"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, _ = e.a.Login("shop", "ann@shop.example", "wrong-pass")
	}
	if _, err := e.a.Login("shop", "ann@shop.example", "password-1"); err != nil {
		t.Fatalf("count not reset by success: %v", err)
	}
	// Bounded: many distinct emails never grow past ThrottleEntries.
	for i := range 50 {
		_, _ = e.a.Login("shop", fmt.Sprintf("x%d@shop.example", i), "wrong-pass")
		if n := e.a.thr.len(); n > 4 {
			t.Fatalf("throttle holds %d entries, bound 4", n)
		}
	}
}

func TestPersistence(t *testing.T) {
	e := newEnv(t)
	site := mustSite(t, e.a, "shop")
	ag := mustAgent(t, e.a, "shop", "ann@shop.example", "password-1")
	s, _ := e.a.Login("shop", "ann@shop.example", "password-1")
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.GetSite("shop"); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("closed store = %v", err)
	}
	e.st = openStore(t, e.dir)
	a, err := New(Options{Store: e.st, Now: e.clk.Now, Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetSite("shop"); err != nil || got.Secret != site.Secret {
		t.Fatalf("site after reopen: %+v %v", got, err)
	}
	if got, err := a.GetAgent("shop", ag.ID); err != nil || got.Email != ag.Email {
		t.Fatalf("agent after reopen: %+v %v", got, err)
	}
	if got, err := a.Authenticate(s.Token); err != nil || got.AgentID != ag.ID {
		t.Fatalf("session after reopen: %+v %v", got, err)
	}
	if _, err := a.Login("shop", "ann@shop.example", "password-1"); err != nil {
		t.Fatalf("login after reopen: %v", err)
	}
}

// TestConcurrentCreate: concurrent creations of one email in one site leave
// exactly one agent.
func TestConcurrentCreate(t *testing.T) {
	e := newEnv(t)
	mustSite(t, e.a, "shop")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 8 {
		wg.Go(func() {
			_, _, err := e.a.CreateAgent("shop", AgentSpec{Email: "Same@x.example", Password: "password-1"})
			if err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, ErrEmailTaken) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if list, _, _ := e.a.ListAgents("shop", "", 100); ok != 1 || len(list) != 1 {
		t.Fatalf("%d creations succeeded, %d agents stored", ok, len(list))
	}
}

func TestOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without a store succeeded")
	}
	st := openStore(t, t.TempDir())
	defer st.Close()
	for _, o := range []Options{
		{Store: st, SessionTTL: -1},
		{Store: st, LoginMaxFailures: -1},
		{Store: st, Argon2: Argon2Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32}},
	} {
		if _, err := New(o); err == nil {
			t.Fatalf("New(%+v) succeeded", o)
		}
	}
	var o Options
	o.EnsureDefaults()
	if o.SessionTTL != 12*time.Hour || o.Argon2 != DefaultArgon2() || o.LoginMaxFailures != 5 || o.Now == nil {
		t.Fatalf("defaults %+v", o)
	}
}
