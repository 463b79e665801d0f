package accounts

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/storage"
)

// Visitor profile limits.
const (
	// MaxClientLen is the longest client string kept; longer ones are cut
	// at a character boundary.
	MaxClientLen = 256
	// VisitorTouchInterval is how stale LastSeen may get before
	// TouchVisitor writes again when nothing else changed.
	VisitorTouchInterval = time.Minute
	// MaxCountedConversations caps Visitor.Conversations: counting walks
	// the visitor's index entries, and stops there.
	MaxCountedConversations = 10000
)

// Visitor is what a site knows of one visitor.
type Visitor struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
	// Client is the client string of the visitor's last HELLO (SDK name
	// and version, device).
	Client    string    `json:"client"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Conversations is counted from the storage index at read time (not
	// stored), up to MaxCountedConversations.
	Conversations int `json:"conversations"`
}

// TouchVisitor records that visitor id of site was seen at now with the
// client string and tags of its HELLO or OPEN: it creates the profile, or
// updates LastSeen, Client, and Tags when tags is non-empty (tags replace
// the previous ones). To spare the disk, nothing is written when the
// client and tags are unchanged and LastSeen is less than
// VisitorTouchInterval old. It does a point read and at most one commit:
// call it off the event loop (or queue touches with a VisitorToucher). The
// site need not exist in the accounts (sites from the configuration file
// have visitors too).
func (a *Accounts) TouchVisitor(site, id, client string, tags []string, now time.Time) error {
	_, err := a.TouchVisitors([]VisitorTouch{{Site: site, ID: id, Client: client, Tags: tags, At: now}})
	return err
}

// VisitorTouch is one sighting of a visitor (see TouchVisitor).
type VisitorTouch struct {
	Site, ID, Client string
	Tags             []string
	At               time.Time
}

// TouchVisitors applies touches in order, as TouchVisitor would one by
// one, with one commit for all of them. An invalid touch is skipped; the
// first such error is returned (wrapping ErrInvalid) after the others are
// written. written is the number of profiles written.
func (a *Accounts) TouchVisitors(touches []VisitorTouch) (written int, err error) {
	a.visMu.Lock()
	defer a.visMu.Unlock()
	var firstErr error
	state := make(map[string]*Visitor, len(touches)) // key → profile as of this batch (nil: none)
	dirty := make(map[string]bool, len(touches))
	var order []string
	for _, t := range touches {
		if err := validTouch(&t); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		key := string(appendKey(nil, t.Site, kindVisitor, t.ID))
		v, loaded := state[key]
		if !loaded {
			v = new(Visitor)
			found, err := a.getJSON([]byte(key), v)
			if err != nil {
				return 0, err
			}
			if !found {
				v = nil
			}
		}
		nv, changed := touched(v, &t)
		state[key] = nv
		if changed && !dirty[key] {
			dirty[key] = true
			order = append(order, key)
		}
	}
	ops := make([]op, 0, len(order))
	for _, k := range order {
		ops = append(ops, op{[]byte(k), state[k]})
	}
	if len(ops) > 0 {
		if err := a.write(ops...); err != nil {
			return 0, err
		}
	}
	return len(ops), firstErr
}

func validTouch(t *VisitorTouch) error {
	if err := validSite(t.Site); err != nil {
		return err
	}
	if !sites.ValidID(t.ID) {
		return fmt.Errorf("%w: visitor id %q", ErrInvalid, t.ID)
	}
	if err := validTags("tags", t.Tags); err != nil {
		return err
	}
	t.Client = cutUTF8(t.Client, MaxClientLen)
	t.At = t.At.UTC()
	return nil
}

// touched returns the profile after touch t of v (nil: none yet) and
// whether it must be written.
func touched(v *Visitor, t *VisitorTouch) (*Visitor, bool) {
	if v == nil {
		nv := &Visitor{ID: t.ID, Tags: slices.Clone(t.Tags), Client: t.Client, FirstSeen: t.At, LastSeen: t.At}
		if nv.Tags == nil {
			nv.Tags = []string{}
		}
		return nv, true
	}
	changed := v.Client != t.Client || (len(t.Tags) > 0 && !slices.Equal(v.Tags, t.Tags))
	if !changed && t.At.Sub(v.LastSeen) < VisitorTouchInterval {
		return v, false
	}
	nv := *v
	nv.Client = t.Client
	if len(t.Tags) > 0 {
		nv.Tags = slices.Clone(t.Tags)
	}
	if t.At.After(nv.LastSeen) {
		nv.LastSeen = t.At
	}
	return &nv, true
}

// GetVisitor returns a visitor of site with its conversation count.
// ErrNotFound when the site has neither a profile nor a conversation of
// that visitor; a visitor with conversations but no profile (never
// touched) is returned with only ID and Conversations set.
func (a *Accounts) GetVisitor(site, id string) (Visitor, error) {
	if err := validSite(site); err != nil {
		return Visitor{}, err
	}
	if !sites.ValidID(id) {
		return Visitor{}, ErrNotFound
	}
	var v Visitor
	found, err := a.getJSON(appendKey(nil, site, kindVisitor, id), &v)
	if err != nil {
		return Visitor{}, err
	}
	n := 0
	_, err = a.st.WalkVisitorConversations(site, id, "", storage.IndexRange{}, func(int64, []byte) (bool, error) {
		n++
		return n == MaxCountedConversations, nil
	})
	if err != nil {
		return Visitor{}, err
	}
	if !found {
		if n == 0 {
			return Visitor{}, ErrNotFound
		}
		v = Visitor{ID: id, Tags: []string{}}
	}
	v.Conversations = n
	return v, nil
}

// cutUTF8 returns s cut to at most max bytes at a character boundary, with
// invalid UTF-8 replaced.
func cutUTF8(s string, max int) string {
	if !utf8.ValidString(s) {
		s = string([]rune(s))
	}
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}
