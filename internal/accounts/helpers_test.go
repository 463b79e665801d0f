package accounts

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// cheap keeps tests fast; DefaultArgon2 is exercised in password_test.go.
var cheap = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	a   *Accounts
	st  *storage.Store
	clk *clock
	dir string
}

func openStore(t *testing.T, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newEnv(t *testing.T, mod ...func(*Options)) *env {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pebble")
	e := &env{st: openStore(t, dir), clk: &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, dir: dir}
	t.Cleanup(func() { _ = e.st.Close() })
	o := Options{Store: e.st, Now: e.clk.Now, Argon2: cheap}
	for _, m := range mod {
		m(&o)
	}
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.a = a
	return e
}

func mustSite(t *testing.T, a *Accounts, id string) Site {
	t.Helper()
	s, err := a.CreateSite(id, nil, Settings{})
	if err != nil {
		t.Fatalf("CreateSite(%s): %v", id, err)
	}
	return s
}

func mustAgent(t *testing.T, a *Accounts, site, email, pw string) Agent {
	t.Helper()
	ag, _, err := a.CreateAgent(site, AgentSpec{Email: email, Name: email, Password: pw})
	if err != nil {
		t.Fatalf("CreateAgent(%s, %s): %v", site, email, err)
	}
	return ag
}
