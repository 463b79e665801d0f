package accounts

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/storage"
)

// Accounts is the directory of sites, agents and sessions over one store.
// It is safe for concurrent use.
type Accounts struct {
	st   *storage.Store
	opts Options
	now  func() time.Time

	// mu serialises read-check-write sequences (uniqueness of emails,
	// read-modify-write of records). Password hashing never runs under it,
	// and plain reads do not take it.
	mu sync.Mutex

	thr throttle

	// c mirrors sites, sessions and agent epochs for lock-free checks
	// (cache.go); visMu serialises visitor profile updates (visitors.go).
	c     cache
	visMu sync.Mutex

	dummyOnce sync.Once
	dummyHash string
}

// New returns an Accounts over opts.Store, applying EnsureDefaults to its
// copy of opts. It reads every site, agent and live session once to fill
// the in-memory cache that HelloAuth and Authenticate use.
func New(opts Options) (*Accounts, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	a := &Accounts{st: opts.Store, opts: opts, now: opts.Now}
	a.thr.init(opts.ThrottleEntries, opts.LoginMaxFailures, opts.LoginWindow)
	if err := a.load(); err != nil {
		return nil, fmt.Errorf("accounts: loading the cache: %w", err)
	}
	return a, nil
}

// Limits of record fields.
const (
	MaxEmailLen  = 254
	MaxNameLen   = 128
	MaxGroups    = 32
	MaxOrigins   = 32
	MaxOriginLen = 256
	MaxMessage   = 1024 // bytes of a site message setting
	MaxCapacity  = 1000
	MaxWeight    = 100
	MaxListLimit = 500
	// DefaultListLimit is the page size of ListAgents for limit 0.
	DefaultListLimit = 50
)

// getJSON reads and decodes one record; ok is false when it is missing.
func (a *Accounts) getJSON(key []byte, v any) (bool, error) {
	b, ok, err := a.st.Get(key)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return true, nil
}

// write is one commit: puts (key, value) pairs, value nil meaning delete.
// Each public write method makes exactly one call, hence one atomic commit
// with the store's durability.
type op struct {
	key []byte
	val any // nil: delete; []byte: raw; else JSON-encoded
}

func (a *Accounts) write(ops ...op) error {
	b := a.st.NewBatch()
	defer b.Close()
	for _, o := range ops {
		var err error
		switch v := o.val.(type) {
		case nil:
			err = b.Delete(o.key)
		case []byte:
			err = b.Put(o.key, v)
		default:
			var enc []byte
			if enc, err = json.Marshal(v); err == nil {
				err = b.Put(o.key, enc)
			}
		}
		if err != nil {
			return err
		}
	}
	return b.Commit()
}

// randomID returns prefix + 24 hex characters (96 random bits); the result
// is a valid sites.ValidID user id.
func randomID(prefix string) (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return prefix + hex.EncodeToString(b[:]), nil
}

func validSite(site string) error {
	if !sites.ValidID(site) {
		return fmt.Errorf("%w: site id must be 1..%d bytes of [A-Za-z0-9._@:-]", ErrInvalid, sites.MaxUserLen)
	}
	return nil
}

// normEmail validates an email and returns its index form (lower case).
func normEmail(email string) (string, error) {
	at := strings.LastIndexByte(email, '@')
	if len(email) < 3 || len(email) > MaxEmailLen || at < 1 || at == len(email)-1 || !utf8.ValidString(email) {
		return "", fmt.Errorf("%w: email %q", ErrInvalid, email)
	}
	for _, r := range email {
		if r <= ' ' || r == 0x7f {
			return "", fmt.Errorf("%w: email contains spaces or control characters", ErrInvalid)
		}
	}
	return strings.ToLower(email), nil
}

func validText(field, s string, max int) error {
	if len(s) > max || !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s must be valid UTF-8 of at most %d bytes", ErrInvalid, field, max)
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return nil
}
