package routing

import (
	"fmt"
	"slices"
	"time"
)

// Router holds the routing state of any number of sites: agents, groups,
// queues, assignments and visitor affinity. It is not safe for concurrent
// use: one goroutine, the routing owner, makes every call (see the package
// documentation).
type Router struct {
	opts        Options
	sites       map[string]*site
	siteList    []*site // creation order: Tick walks sites deterministically
	convs       map[string]*conv
	pool        []*conv // recycled conversation records
	slab        []conv  // fresh records, handed out one by one
	clock       uint64  // stamps assignments, waits and agents; only grows
	offline     []*agent
	dirty       []*group
	queued      int   // waiting conversations over all sites
	nextRefresh int64 // unix nanos of the next position refresh; 0 = not armed
	stats       Stats
	one         [1]*group
	scratch     []*conv
	expired     []*agent
}

type site struct {
	id        string
	maxQueue  int
	def       *group
	agents    map[string]*agent
	agentList []*agent // creation order
	groups    map[string]*group
	groupList []*group // creation order
	rings     map[string]*hashRing
	queued    int
	aff       affinity
}

type group struct {
	id         string
	site       *site
	tags       []string
	configured bool // set by SetGroup: on its tags' rings
	members    []*agent
	online     int // members with StatusOnline
	free       freeHeap
	q          fifo
	dirty      bool // queue changed this call: report live positions
}

type agent struct {
	id       string
	site     *site
	groupIDs []string
	groups   []*group
	heapIdx  []int32 // heapIdx[k]: index in groups[k].free, -1 if absent
	capacity int
	weight   float64
	status   Status
	load     int
	score    float64 // load / (capacity × weight)
	last     uint64  // clock at the last assignment
	order    uint64  // clock at creation
	offSince int64   // unix nanos when the status became offline
	pending  bool    // in Router.offline: offline with conversations
	excess   bool    // load > capacity after a capacity cut or a restore
	removed  bool    // RemoveAgent: affinity must forget it
	head     *conv   // assigned conversations, oldest first
	tail     *conv
}

type conv struct {
	id, visitor string
	site        *site
	group       *group
	agent       *agent // nil while waiting
	from        *agent // waiting after a transfer: not offered to it again
	slot        int    // index in group.q while waiting, -1 otherwise
	told        int    // last position reported
	since       uint64 // clock when it started waiting; 0 after a requeue to the front
	prev, next  *conv  // agent.head list
}

const (
	maxPool  = 1 << 16 // recycled records kept
	slabSize = 128     // records allocated at once
)

// New returns an empty Router.
func New(opts Options) (*Router, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Router{
		opts:  opts,
		sites: make(map[string]*site),
		convs: make(map[string]*conv),
	}, nil
}

func (r *Router) tick() uint64 {
	r.clock++
	return r.clock
}

// SetSite creates a site or updates its settings. A new default group is
// created if it does not exist yet.
func (r *Router) SetSite(cfg Site) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	s := r.sites[cfg.ID]
	if s == nil {
		s = &site{
			id:     cfg.ID,
			agents: make(map[string]*agent),
			groups: make(map[string]*group),
			rings:  make(map[string]*hashRing),
			aff:    newAffinity(r.opts.AffinityEntries),
		}
		r.sites[cfg.ID] = s
		r.siteList = append(r.siteList, s)
	}
	s.maxQueue = cfg.MaxQueue
	if s.maxQueue == 0 {
		s.maxQueue = r.opts.MaxQueue
	}
	s.def = nil
	if cfg.DefaultGroup != "" {
		s.def = s.group(cfg.DefaultGroup)
	}
	return nil
}

// group returns the site's group id, creating it unconfigured.
func (s *site) group(id string) *group {
	if g := s.groups[id]; g != nil {
		return g
	}
	g := &group{id: id, site: s}
	s.groups[id] = g
	s.groupList = append(s.groupList, g)
	return g
}

// requeueGroup is where a conversation of g waits when it goes back to a
// queue: g itself, unless g was removed and has no members left to serve
// it, in which case the default group (if any).
func (s *site) requeueGroup(g *group) *group {
	if g.configured || len(g.members) > 0 || g == s.def || s.def == nil {
		return g
	}
	return s.def
}

func (r *Router) site(id string) (*site, error) {
	s := r.sites[id]
	if s == nil {
		return nil, ErrUnknownSite
	}
	return s, nil
}

func (r *Router) agentOf(siteID, id string) (*site, *agent, error) {
	s, err := r.site(siteID)
	if err != nil {
		return nil, nil, err
	}
	a := s.agents[id]
	if a == nil {
		return nil, nil, ErrUnknownAgent
	}
	return s, a, nil
}

// convOf finds a conversation of the site; another site's is unknown.
func (r *Router) convOf(siteID, id string) (*site, *conv, error) {
	s, err := r.site(siteID)
	if err != nil {
		return nil, nil, err
	}
	c := r.convs[id]
	if c == nil || c.site != s {
		return nil, nil, ErrUnknownConversation
	}
	return s, c, nil
}

// SetGroup creates a group or replaces its tags, and rebuilds the hash
// rings of the tags it gains or loses. Conversations already placed do
// not move.
func (r *Router) SetGroup(siteID string, cfg Group) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	s, err := r.site(siteID)
	if err != nil {
		return err
	}
	g := s.group(cfg.ID)
	old := g.tags
	g.tags = nil
	for _, t := range cfg.Tags {
		if !slices.Contains(g.tags, t) {
			g.tags = append(g.tags, t)
		}
	}
	g.configured = true
	r.rebuildRings(s, old, g.tags)
	return nil
}

// RemoveGroup takes a group off every tag ring, so new arrivals go
// elsewhere, and moves its waiting conversations to the back of the
// default group's queue, oldest first (they stay if the site has no
// default group). Members keep their membership and their conversations.
func (r *Router) RemoveGroup(dst []Event, siteID, id string) ([]Event, error) {
	s, err := r.site(siteID)
	if err != nil {
		return dst, err
	}
	g := s.groups[id]
	if g == nil {
		return dst, ErrUnknownGroup
	}
	if g == s.def {
		return dst, ErrDefaultGroup
	}
	old := g.tags
	g.tags, g.configured = nil, false
	r.rebuildRings(s, old, nil)
	if s.def == nil || g.q.len() == 0 {
		return dst, nil
	}
	r.scratch = r.scratch[:0]
	for c := g.q.front(); c != nil; c = g.q.front() {
		r.dequeue(c)
		r.scratch = append(r.scratch, c)
	}
	for _, c := range r.scratch {
		c.group = s.def
		if b := s.def.free.best(c.from); b != nil {
			dst = r.assign(dst, c, b, ReasonRegroup, c.from)
		} else {
			dst = r.enqueueBack(dst, c, ReasonRegroup)
		}
	}
	clear(r.scratch)
	return r.finish(dst), nil
}

// rebuildRings rebuilds the rings of every tag in a or b.
func (r *Router) rebuildRings(s *site, a, b []string) {
	for _, tags := range [2][]string{a, b} {
		for _, t := range tags {
			var gs []*group
			for _, g := range s.groupList {
				if g.configured && slices.Contains(g.tags, t) {
					gs = append(gs, g)
				}
			}
			if ring := buildRing(gs, r.opts.VirtualNodes); ring != nil {
				s.rings[t] = ring
			} else {
				delete(s.rings, t)
			}
		}
	}
}

// SetAgent creates an agent or updates its groups, capacity, weight and
// status (a.Load is ignored). A new agent starts with no conversations.
// If the agent gains room, waiting conversations are assigned at once.
// now is when the status took effect (it starts the offline grace).
func (r *Router) SetAgent(dst []Event, cfg Agent, now time.Time) ([]Event, error) {
	if err := cfg.validate(); err != nil {
		return dst, err
	}
	s, err := r.site(cfg.Site)
	if err != nil {
		return dst, err
	}
	a := s.agents[cfg.ID]
	if a == nil {
		a = &agent{id: cfg.ID, site: s, order: r.tick(), status: StatusOffline, offSince: now.UnixNano()}
		s.agents[cfg.ID] = a
		s.agentList = append(s.agentList, a)
	}
	r.setGroups(a, cfg.Groups)
	a.weight = cfg.Weight
	if a.weight == 0 {
		a.weight = 1
	}
	a.capacity = cfg.Capacity
	a.excess = a.load > a.capacity
	r.setStatus(a, cfg.Status, now.UnixNano())
	r.refresh(a)
	dst = r.drain(dst, a.groups)
	return r.finish(dst), nil
}

// SetStatus changes an agent's status at time now. Going online assigns
// waiting conversations at once; going offline starts the grace period
// after which Tick requeues the agent's conversations; coming back before
// it ends keeps them.
func (r *Router) SetStatus(dst []Event, siteID, id string, st Status, now time.Time) ([]Event, error) {
	if st > StatusOnline {
		return dst, fmt.Errorf("%w: unknown status %d", ErrInvalid, st)
	}
	_, a, err := r.agentOf(siteID, id)
	if err != nil {
		return dst, err
	}
	r.setStatus(a, st, now.UnixNano())
	r.refresh(a)
	dst = r.drain(dst, a.groups)
	return r.finish(dst), nil
}

// SetCapacity changes an agent's capacity. Raising it assigns waiting
// conversations at once. Lowering it below the agent's load takes nothing
// away: the agent keeps its conversations and gets no new one until its
// load is under the new capacity.
func (r *Router) SetCapacity(dst []Event, siteID, id string, capacity int) ([]Event, error) {
	if err := checkCapacity(capacity); err != nil {
		return dst, err
	}
	_, a, err := r.agentOf(siteID, id)
	if err != nil {
		return dst, err
	}
	a.capacity = capacity
	a.excess = a.load > a.capacity
	r.refresh(a)
	dst = r.drain(dst, a.groups)
	return r.finish(dst), nil
}

// RemoveAgent deletes an agent. Its conversations are unassigned and go
// to the front of their groups' queues (or straight to a free agent).
// Conversations it transferred into a queue lose their exclusion: an
// agent created later with the same id is a new agent.
func (r *Router) RemoveAgent(dst []Event, siteID, id string) ([]Event, error) {
	s, a, err := r.agentOf(siteID, id)
	if err != nil {
		return dst, err
	}
	r.setStatus(a, StatusOffline, 0)
	r.setGroups(a, nil)
	r.expired = append(r.expired[:0], a)
	dst = r.unassignAll(dst, r.expired, ReasonRemoved)
	r.expired[0] = nil
	r.updatePending(a)
	for _, g := range s.groupList { // forget exclusions naming it
		for i := g.q.lo; i < g.q.hi; i++ {
			if c := g.q.slots[i]; c != nil && c.from == a {
				c.from = nil
			}
		}
	}
	a.removed = true
	delete(s.agents, id)
	s.agentList = slices.DeleteFunc(s.agentList, func(x *agent) bool { return x == a })
	return r.finish(dst), nil
}

// setGroups replaces a's memberships when they change.
func (r *Router) setGroups(a *agent, ids []string) {
	if slices.Equal(a.groupIDs, ids) {
		return
	}
	for k, g := range a.groups {
		if i := a.heapIdx[k]; i >= 0 {
			g.free.remove(int(i))
		}
		g.members = slices.DeleteFunc(g.members, func(x *agent) bool { return x == a })
		if a.status == StatusOnline {
			g.online--
		}
	}
	a.groupIDs = slices.Clone(ids)
	a.groups = a.groups[:0]
	for _, id := range ids {
		g := a.site.group(id)
		if slices.Contains(a.groups, g) {
			continue
		}
		a.groups = append(a.groups, g)
		g.members = append(g.members, a)
		if a.status == StatusOnline {
			g.online++
		}
	}
	a.heapIdx = slices.Grow(a.heapIdx[:0], len(a.groups))[:len(a.groups)]
	for k := range a.heapIdx {
		a.heapIdx[k] = -1
	}
}

func (r *Router) setStatus(a *agent, st Status, now int64) {
	if st == a.status {
		return
	}
	if a.status == StatusOnline {
		for _, g := range a.groups {
			g.online--
		}
	}
	if st == StatusOnline {
		for _, g := range a.groups {
			g.online++
		}
	}
	if st == StatusOffline {
		a.offSince = now
	}
	a.status = st
	r.updatePending(a)
}

// refresh recomputes a's score and puts it in, moves it within or takes
// it out of each of its groups' free heaps.
func (r *Router) refresh(a *agent) {
	if a.capacity > 0 {
		a.score = float64(a.load) / (float64(a.capacity) * a.weight)
	} else {
		a.score = 0
	}
	if a.load <= a.capacity {
		a.excess = false
	}
	free := a.status == StatusOnline && a.load < a.capacity
	for k, g := range a.groups {
		i := a.heapIdx[k]
		switch {
		case free && i < 0:
			g.free.push(a, k)
		case free:
			g.free.fix(int(i))
		case i >= 0:
			g.free.remove(int(i))
		}
	}
}

// updatePending keeps Router.offline = agents offline with conversations,
// in the order they went offline.
func (r *Router) updatePending(a *agent) {
	want := a.status == StatusOffline && a.load > 0
	if want == a.pending {
		return
	}
	a.pending = want
	if want {
		r.offline = append(r.offline, a)
		return
	}
	if i := slices.Index(r.offline, a); i >= 0 {
		r.offline = slices.Delete(r.offline, i, i+1)
	}
}

func (a *agent) memberOf(g *group) bool { return slices.Contains(a.groups, g) }

func (a *agent) link(c *conv) {
	c.prev, c.next = a.tail, nil
	if a.tail != nil {
		a.tail.next = c
	} else {
		a.head = c
	}
	a.tail = c
}

func (a *agent) unlink(c *conv) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		a.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		a.tail = c.prev
	}
	c.prev, c.next = nil, nil
}
