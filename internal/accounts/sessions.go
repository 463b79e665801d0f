package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"time"
)

// Session is a logged-in agent.
type Session struct {
	// Token is the bearer token: 32 random bytes, base64url without
	// padding (43 characters). Set only by Login; only its SHA-256 is
	// stored, so a copy of the database does not hold usable tokens.
	Token   string    `json:"-"`
	Site    string    `json:"site"`
	AgentID string    `json:"agent"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	// Epoch is the agent's session epoch at login; SetPassword bumps it.
	Epoch uint64 `json:"epoch"`
}

// tokenLen is the length of a session token string: 32 bytes in base64url
// without padding.
const tokenLen = 43

// dummyHash is verified against when Login finds no agent, so that an
// unknown email costs the same argon2 work as a wrong password and timing
// does not reveal which emails exist. It is computed once per Accounts.
func (a *Accounts) dummy() string {
	a.dummyOnce.Do(func() {
		a.dummyHash, _ = HashPassword("kefu-no-such-agent", a.opts.Argon2)
	})
	return a.dummyHash
}

// Login checks an agent's password and opens a session of
// Options.SessionTTL. A wrong password and an unknown email both return
// ErrBadCredentials and count as a failure of (site, lower-cased email);
// past Options.LoginMaxFailures failures in Options.LoginWindow, Login
// returns ErrThrottled without looking at the password until the window
// ends. A successful login clears the count.
func (a *Accounts) Login(site, email, password string) (Session, error) {
	if err := validSite(site); err != nil {
		return Session{}, err
	}
	tkey := site + "\x00" + strings.ToLower(email)
	if !a.thr.allow(tkey, a.now()) {
		return Session{}, ErrThrottled
	}
	rec, err := a.recordByEmail(site, email)
	switch {
	case errors.Is(err, ErrNotFound):
		_, _ = VerifyPassword(a.dummy(), password)
		a.thr.fail(tkey, a.now())
		return Session{}, ErrBadCredentials
	case err != nil:
		return Session{}, err
	}
	ok, err := VerifyPassword(rec.Hash, password)
	if err != nil {
		return Session{}, err
	}
	if !ok {
		a.thr.fail(tkey, a.now())
		return Session{}, ErrBadCredentials
	}
	a.thr.reset(tkey)

	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Session{}, err
	}
	now := a.now().UTC()
	s := Session{Token: base64.RawURLEncoding.EncodeToString(raw[:]), Site: site, AgentID: rec.ID,
		Role: rec.Role, Created: now, Expires: now.Add(a.opts.SessionTTL), Epoch: rec.Epoch}
	h := sha256.Sum256([]byte(s.Token))
	if err := a.write(op{sessionKey(h[:]), &s}); err != nil {
		return Session{}, err
	}
	a.c.putSession(h, &s)
	return s, nil
}

// tokenHash validates the form of a session token and returns its
// SHA-256, which keys the session on disk and in the cache.
func tokenHash(tok string) ([32]byte, bool) {
	if len(tok) != tokenLen {
		return [32]byte{}, false
	}
	var raw [32]byte
	if n, err := base64.RawURLEncoding.Decode(raw[:], []byte(tok)); err != nil || n != 32 {
		return [32]byte{}, false
	}
	return sha256.Sum256([]byte(tok)), true
}

// Authenticate returns the session of a token. It reads only the
// in-memory cache (no Pebble read, no lock), so the event loop may call it
// through HelloAuth. The lookup key is the token's SHA-256, so no secret
// is ever compared byte by byte and timing reveals nothing about stored
// tokens. ErrInvalidSession for an unknown, logged-out or revoked token
// (agent deleted, password changed), ErrSessionExpired past its expiry.
// Role is the agent's current role. The returned Session has an empty
// Token.
func (a *Accounts) Authenticate(tok string) (Session, error) {
	h, ok := tokenHash(tok)
	if !ok {
		return Session{}, ErrInvalidSession
	}
	s, ok := a.c.session(h)
	if !ok {
		return Session{}, ErrInvalidSession
	}
	if !a.now().Before(s.Expires) {
		return Session{}, ErrSessionExpired
	}
	ag, ok := a.c.agent(s.Site, s.AgentID)
	if !ok || ag.epoch != s.Epoch {
		return Session{}, ErrInvalidSession
	}
	out := *s
	out.Role = ag.role
	return out, nil
}

// Logout ends a session. Logging out an unknown token is not an error.
func (a *Accounts) Logout(tok string) error {
	h, ok := tokenHash(tok)
	if !ok {
		return ErrInvalidSession
	}
	if err := a.write(op{sessionKey(h[:]), nil}); err != nil {
		return err
	}
	a.c.sessions.Delete(h)
	return nil
}

// PurgeSessions deletes expired sessions and those of deleted agents or
// of an older password, from disk and from the cache, and returns how many
// it deleted. Run it now and then (for example hourly): Authenticate
// already refuses all of them, but the cache keeps them until then.
func (a *Accounts) PurgeSessions() (int, error) {
	now := a.now()
	var dead [][]byte
	prefix := appendKindPrefix(nil, "", kindSession)
	err := a.st.ScanPrefix(prefix, func(key, val []byte) error {
		var s Session
		if err := jsonUnmarshal(val, &s); err == nil && now.Before(s.Expires) {
			rec, err := a.record(s.Site, s.AgentID)
			if err == nil && rec.Epoch == s.Epoch {
				return nil
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		dead = append(dead, append([]byte(nil), key...))
		return nil
	})
	if err != nil {
		return 0, err
	}
	ops := make([]op, len(dead))
	for i, k := range dead {
		ops[i] = op{k, nil}
	}
	if len(ops) == 0 {
		return 0, nil
	}
	if err := a.write(ops...); err != nil {
		return 0, err
	}
	prefixLen := len(prefix) + 1 // comp(hash) is one length byte and 32 bytes
	for _, k := range dead {
		if len(k) == prefixLen+sha256.Size {
			a.c.sessions.Delete([32]byte(k[prefixLen:]))
		}
	}
	return len(ops), nil
}

// throttle counts failed logins per key, bounded to max entries.
type throttle struct {
	mu     sync.Mutex
	m      map[string]*strike
	max    int
	limit  int
	window time.Duration
}

type strike struct {
	first    time.Time
	failures int
}

func (t *throttle) init(max, limit int, window time.Duration) {
	t.m, t.max, t.limit, t.window = make(map[string]*strike), max, limit, window
}

// allow reports whether a login of key may be tried at now.
func (t *throttle) allow(key string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[key]
	if s == nil {
		return true
	}
	if now.Sub(s.first) >= t.window {
		delete(t.m, key)
		return true
	}
	return s.failures < t.limit
}

// fail records a failed login of key at now.
func (t *throttle) fail(key string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[key]
	if s != nil && now.Sub(s.first) >= t.window {
		s = nil
	}
	if s == nil {
		if len(t.m) >= t.max {
			t.evict(now)
		}
		s = &strike{first: now}
		t.m[key] = s
	}
	s.failures++
}

// evict frees room: every expired entry, or else the oldest one.
func (t *throttle) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, s := range t.m {
		if now.Sub(s.first) >= t.window {
			delete(t.m, k)
			continue
		}
		if oldestKey == "" || s.first.Before(oldest) {
			oldestKey, oldest = k, s.first
		}
	}
	if len(t.m) >= t.max && oldestKey != "" {
		delete(t.m, oldestKey)
	}
}

// reset forgets key after a successful login.
func (t *throttle) reset(key string) {
	t.mu.Lock()
	delete(t.m, key)
	t.mu.Unlock()
}

// len returns the number of tracked keys (for tests).
func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
