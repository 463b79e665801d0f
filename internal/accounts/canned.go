package accounts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/storage"
)

// Limits of canned replies.
const (
	MaxShortcutLen    = 32
	MaxCannedTitleLen = 128
	MaxCannedBodyLen  = 8192
	// MaxCanned is the most canned replies one site may have.
	MaxCanned = 1000
)

// Canned is a canned reply of a site: an agent types "/" + Shortcut in the
// console to insert Body. Shortcuts are unique per site, compared
// case-insensitively.
type Canned struct {
	ID       string    `json:"id"`
	Shortcut string    `json:"shortcut"`
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// CannedSpec is the content of a canned reply.
type CannedSpec struct {
	Shortcut string
	Title    string
	Body     string
}

// normShortcut validates a shortcut and returns its index form (lower
// case): 1..MaxShortcutLen bytes of [A-Za-z0-9._-].
func normShortcut(s string) (string, error) {
	if len(s) == 0 || len(s) > MaxShortcutLen {
		return "", fmt.Errorf("%w: shortcut must be 1..%d characters of [A-Za-z0-9._-]", ErrInvalid, MaxShortcutLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", fmt.Errorf("%w: shortcut %q must be 1..%d characters of [A-Za-z0-9._-]", ErrInvalid, s, MaxShortcutLen)
		}
	}
	return strings.ToLower(s), nil
}

func validCanned(spec *CannedSpec) (lower string, err error) {
	if lower, err = normShortcut(spec.Shortcut); err != nil {
		return "", err
	}
	if err := validText("title", spec.Title, MaxCannedTitleLen); err != nil {
		return "", err
	}
	if spec.Body == "" {
		return "", fmt.Errorf("%w: body is empty", ErrInvalid)
	}
	if err := validText("body", spec.Body, MaxCannedBodyLen); err != nil {
		return "", err
	}
	return lower, nil
}

// CreateCanned adds a canned reply to site. ErrShortcutTaken when another
// reply of the site has the shortcut, ErrNotFound for an unknown site.
func (a *Accounts) CreateCanned(site string, spec CannedSpec) (Canned, error) {
	if err := validSite(site); err != nil {
		return Canned{}, err
	}
	lower, err := validCanned(&spec)
	if err != nil {
		return Canned{}, err
	}
	id, err := randomID("cn")
	if err != nil {
		return Canned{}, err
	}
	now := a.now().UTC()
	c := Canned{ID: id, Shortcut: spec.Shortcut, Title: spec.Title, Body: spec.Body, Created: now, Updated: now}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.c.site(site); !ok {
		return Canned{}, ErrNotFound
	}
	if _, ok, err := a.st.Get(appendKey(nil, site, kindShort, lower)); err != nil {
		return Canned{}, err
	} else if ok {
		return Canned{}, ErrShortcutTaken
	}
	n := 0
	if err := a.st.ScanPrefix(appendKindPrefix(nil, site, kindShort), func(_, _ []byte) error { n++; return nil }); err != nil {
		return Canned{}, err
	}
	if n >= MaxCanned {
		return Canned{}, fmt.Errorf("%w: at most %d canned replies", ErrTooMany, MaxCanned)
	}
	if err := a.write(op{appendKey(nil, site, kindCanned, id), &c}, op{appendKey(nil, site, kindShort, lower), []byte(id)}); err != nil {
		return Canned{}, err
	}
	return c, nil
}

// GetCanned returns a canned reply of site; ErrNotFound if site has none
// with id.
func (a *Accounts) GetCanned(site, id string) (Canned, error) {
	if err := validSite(site); err != nil {
		return Canned{}, err
	}
	var c Canned
	if !sites.ValidID(id) {
		return c, ErrNotFound
	}
	ok, err := a.getJSON(appendKey(nil, site, kindCanned, id), &c)
	if err != nil {
		return Canned{}, err
	}
	if !ok || c.ID != id {
		return Canned{}, ErrNotFound
	}
	return c, nil
}

// CannedByShortcut finds a canned reply of site by shortcut,
// case-insensitively.
func (a *Accounts) CannedByShortcut(site, shortcut string) (Canned, error) {
	if err := validSite(site); err != nil {
		return Canned{}, err
	}
	lower, err := normShortcut(shortcut)
	if err != nil {
		return Canned{}, ErrNotFound
	}
	id, ok, err := a.st.Get(appendKey(nil, site, kindShort, lower))
	if err != nil {
		return Canned{}, err
	}
	if !ok {
		return Canned{}, ErrNotFound
	}
	return a.GetCanned(site, string(id))
}

// UpdateCanned replaces the content of a canned reply, keeping the
// shortcut unique (ErrShortcutTaken).
func (a *Accounts) UpdateCanned(site, id string, spec CannedSpec) (Canned, error) {
	lower, err := validCanned(&spec)
	if err != nil {
		return Canned{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := a.GetCanned(site, id)
	if err != nil {
		return Canned{}, err
	}
	oldLower, _ := normShortcut(c.Shortcut)
	ops := make([]op, 0, 3)
	if lower != oldLower {
		if _, ok, err := a.st.Get(appendKey(nil, site, kindShort, lower)); err != nil {
			return Canned{}, err
		} else if ok {
			return Canned{}, ErrShortcutTaken
		}
		ops = append(ops, op{appendKey(nil, site, kindShort, oldLower), nil}, op{appendKey(nil, site, kindShort, lower), []byte(id)})
	}
	c.Shortcut, c.Title, c.Body, c.Updated = spec.Shortcut, spec.Title, spec.Body, a.now().UTC()
	ops = append(ops, op{appendKey(nil, site, kindCanned, id), &c})
	if err := a.write(ops...); err != nil {
		return Canned{}, err
	}
	return c, nil
}

// DeleteCanned removes a canned reply and its shortcut.
func (a *Accounts) DeleteCanned(site, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, err := a.GetCanned(site, id)
	if err != nil {
		return err
	}
	lower, _ := normShortcut(c.Shortcut)
	return a.write(op{appendKey(nil, site, kindCanned, id), nil}, op{appendKey(nil, site, kindShort, lower), nil})
}

// ListCanned returns a page of site's canned replies in shortcut order
// (case-insensitive, byte order of the lower-cased shortcuts); the cursor
// is the lower-cased shortcut of the last reply of the previous page.
// limit as for ListAgents. It reads the site's shortcut index (at most
// MaxCanned keys) and the records of one page.
func (a *Accounts) ListCanned(site, cursor string, limit int) ([]Canned, string, error) {
	if err := validSite(site); err != nil {
		return nil, "", err
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, "", err
	}
	cursor = strings.ToLower(cursor)
	type entry struct{ short, id string }
	var all []entry
	prefix := appendKindPrefix(nil, site, kindShort)
	err = a.st.ScanPrefix(prefix, func(key, val []byte) error {
		short, _, ok := storage.ParseComponent(key[len(prefix):])
		if !ok {
			return fmt.Errorf("%w: key %x", ErrCorrupt, key)
		}
		if string(short) > cursor {
			all = append(all, entry{string(short), string(val)})
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(x, y entry) int { return strings.Compare(x.short, y.short) })
	next := ""
	if len(all) > limit {
		all = all[:limit]
		next = all[limit-1].short
	}
	out := make([]Canned, 0, len(all))
	for _, e := range all {
		c, err := a.GetCanned(site, e.id)
		if err != nil {
			return nil, "", fmt.Errorf("canned reply %q of the shortcut index: %w", e.id, err)
		}
		out = append(out, c)
	}
	return out, next, nil
}
