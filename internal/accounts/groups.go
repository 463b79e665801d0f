package accounts

import (
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/kefu-im/kefu/internal/sites"
)

// Limits of groups and tags.
const (
	// MaxTags is the most tags of a group or of a visitor profile.
	MaxTags = 64
	// MaxTagLen is the longest tag, in bytes.
	MaxTagLen = 128
)

// Group is an agent group of a site with the visitor tags it serves (the
// routing configuration of shard/routing.Group). Agents name their groups
// (Agent.Groups); deleting a group leaves those names in place.
type Group struct {
	ID      string    `json:"id"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// validTags checks a tag list: at most MaxTags tags of 1..MaxTagLen bytes
// of valid UTF-8 without control characters, no duplicates.
func validTags(field string, tags []string) error {
	if len(tags) > MaxTags {
		return fmt.Errorf("%w: at most %d %s", ErrInvalid, MaxTags, field)
	}
	for i, t := range tags {
		if t == "" || len(t) > MaxTagLen || !utf8.ValidString(t) {
			return fmt.Errorf("%w: %s %q must be 1..%d bytes of UTF-8", ErrInvalid, field, t, MaxTagLen)
		}
		for _, r := range t {
			if r < ' ' || r == 0x7f {
				return fmt.Errorf("%w: %s %q contains control characters", ErrInvalid, field, t)
			}
		}
		if slices.Contains(tags[:i], t) {
			return fmt.Errorf("%w: %s %q given twice", ErrInvalid, field, t)
		}
	}
	return nil
}

// PutGroup creates the group id of site or replaces its tags, and returns
// it. Group ids have the form of sites.ValidID. ErrNotFound for an unknown
// site.
func (a *Accounts) PutGroup(site, id string, tags []string) (Group, error) {
	if err := validSite(site); err != nil {
		return Group{}, err
	}
	if !sites.ValidID(id) {
		return Group{}, fmt.Errorf("%w: group id must be 1..%d bytes of [A-Za-z0-9._@:-]", ErrInvalid, sites.MaxUserLen)
	}
	if err := validTags("tags", tags); err != nil {
		return Group{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.c.site(site); !ok {
		return Group{}, ErrNotFound
	}
	now := a.now().UTC()
	g := Group{ID: id, Tags: slices.Clone(tags), Created: now, Updated: now}
	if g.Tags == nil {
		g.Tags = []string{}
	}
	var old Group
	if ok, err := a.getJSON(appendKey(nil, site, kindGroup, id), &old); err != nil {
		return Group{}, err
	} else if ok {
		g.Created = old.Created
	}
	if err := a.write(op{appendKey(nil, site, kindGroup, id), &g}); err != nil {
		return Group{}, err
	}
	return g, nil
}

// GetGroup returns a group of site; ErrNotFound if site has none with id.
func (a *Accounts) GetGroup(site, id string) (Group, error) {
	if err := validSite(site); err != nil {
		return Group{}, err
	}
	var g Group
	if !sites.ValidID(id) {
		return g, ErrNotFound
	}
	ok, err := a.getJSON(appendKey(nil, site, kindGroup, id), &g)
	if err != nil {
		return Group{}, err
	}
	if !ok {
		return Group{}, ErrNotFound
	}
	return g, nil
}

// DeleteGroup removes a group of site; ErrNotFound if there is none.
func (a *Accounts) DeleteGroup(site, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.GetGroup(site, id); err != nil {
		return err
	}
	return a.write(op{appendKey(nil, site, kindGroup, id), nil})
}

// ListGroups returns a page of site's groups in id order (see ListAgents
// for cursor and limit).
func (a *Accounts) ListGroups(site, cursor string, limit int) ([]Group, string, error) {
	return listKind(a, site, kindGroup, cursor, limit, func(val []byte) (Group, error) {
		var g Group
		return g, jsonUnmarshal(val, &g)
	})
}
