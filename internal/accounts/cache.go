package accounts

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kefu-im/kefu/storage"
)

// cache mirrors, in memory, what HELLO authentication and Authenticate
// need: every site, every live session and every agent's role and session
// epoch. It is filled by one scan of table 's' in New and then updated by
// the write methods right after their commit, so the event loop (HelloAuth)
// and the REST API (Authenticate) never read Pebble for a check.
//
// Reads are lock-free (sync.Map loads). Values are immutable once stored:
// a change stores a new value. The store is held by one process (Pebble's
// directory lock), so nothing else can change the records behind the
// cache's back.
type cache struct {
	sites    sync.Map // site id → *Site
	sessions sync.Map // [32]byte sha256(token) → *Session (Token empty)
	agents   sync.Map // agentRef → agentAuth
}

// agentRef names an agent across sites.
type agentRef struct{ site, id string }

// agentAuth is what a session check needs of an agent, and its display
// name (AgentName).
type agentAuth struct {
	role  Role
	epoch uint64
	name  string
}

func (c *cache) putSite(s *Site) {
	cp := *s
	cp.Origins = slices.Clone(s.Origins)
	c.sites.Store(s.ID, &cp)
}

// site returns the cached site; the caller must not modify it.
func (c *cache) site(id string) (*Site, bool) {
	v, ok := c.sites.Load(id)
	if !ok {
		return nil, false
	}
	return v.(*Site), true
}

func (c *cache) putAgent(ag *Agent, epoch uint64) {
	c.agents.Store(agentRef{ag.Site, ag.ID}, agentAuth{role: ag.Role, epoch: epoch, name: ag.Name})
}

func (c *cache) agent(site, id string) (agentAuth, bool) {
	v, ok := c.agents.Load(agentRef{site, id})
	if !ok {
		return agentAuth{}, false
	}
	return v.(agentAuth), true
}

func (c *cache) putSession(hash [32]byte, s *Session) {
	cp := *s
	cp.Token = ""
	c.sessions.Store(hash, &cp)
}

func (c *cache) session(hash [32]byte) (*Session, bool) {
	v, ok := c.sessions.Load(hash)
	if !ok {
		return nil, false
	}
	return v.(*Session), true
}

// sessionCount returns how many sessions are cached (for tests).
func (c *cache) sessionCount() int {
	n := 0
	c.sessions.Range(func(any, any) bool { n++; return true })
	return n
}

// load fills the cache from one scan of table 's'. Expired sessions are
// skipped (PurgeSessions deletes them from disk).
func (a *Accounts) load() error {
	now := a.now()
	return a.st.ScanPrefix([]byte{storage.TableSites}, func(key, val []byte) error {
		site, rest, ok := storage.ParseComponent(key[1:])
		if !ok || len(rest) == 0 {
			return fmt.Errorf("%w: key %x", ErrCorrupt, key)
		}
		kind := rest[0]
		id, tail, ok := storage.ParseComponent(rest[1:])
		if !ok || len(tail) != 0 {
			return fmt.Errorf("%w: key %x", ErrCorrupt, key)
		}
		switch kind {
		case kindSite:
			var s Site
			if err := jsonUnmarshal(val, &s); err != nil {
				return err
			}
			a.c.putSite(&s)
		case kindAgent:
			var rec agentRecord
			if err := jsonUnmarshal(val, &rec); err != nil {
				return err
			}
			if rec.Site == string(site) && rec.ID == string(id) {
				a.c.putAgent(&rec.Agent, rec.Epoch)
			}
		case kindSession:
			var s Session
			if err := jsonUnmarshal(val, &s); err != nil {
				return err
			}
			if len(site) == 0 && len(id) == sha256.Size && now.Before(s.Expires) {
				a.c.putSession([32]byte(id), &s)
			}
		}
		return nil
	})
}

// Sites returns every site, sorted by id, from the cache (no Pebble read).
// The caller owns the copies.
func (a *Accounts) Sites() []Site {
	var out []Site
	a.c.sites.Range(func(_, v any) bool {
		s := *v.(*Site)
		s.Origins = slices.Clone(s.Origins)
		out = append(out, s)
		return true
	})
	slices.SortFunc(out, func(x, y Site) int { return strings.Compare(x.ID, y.ID) })
	return out
}

// AgentName returns an agent's display name from the cache (no Pebble
// read, no lock): the name, or the id when the name is empty or the agent
// unknown. It suits shard.Options.AgentName, which runs on the routing
// desk's goroutine.
func (a *Accounts) AgentName(site, id string) string {
	if ag, ok := a.c.agent(site, id); ok && ag.name != "" {
		return ag.name
	}
	return id
}
