package routing

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// model is an independent, deliberately simple re-statement of the
// routing rules (slices and linear scans, no heaps, no trees). A harness
// applies the same operation to a Router and to the model: the model
// predicts the outcome where the rules fix it, replays the Router's events
// checking each against the rules, and then compares the whole state.
type model struct {
	r      *Router
	grace  time.Duration
	live   int
	sites  map[string]*msite
	convs  map[string]*mconv
	agents map[string]*magent // site + "/" + id
	list   []*magent          // creation order
	clock  uint64
	now    time.Time

	// per-call state
	front map[string]int // group key → front requeues so far this call
}

type msite struct {
	id       string
	def      string
	maxQueue int
	groups   map[string]bool // configured groups
	known    []string        // every group id in creation order
	queues   map[string][]*mconv
	last     map[string]string // visitor → last agent
}

type mconv struct {
	id, site, visitor, group string
	agent, from              string
	queued                   bool
	told                     int
	since                    uint64
}

type magent struct {
	site, id string
	groups   []string
	capacity int
	weight   float64
	status   Status
	load     int
	last     uint64
	order    uint64
	offSince time.Time
	excess   bool
}

func newModel(r *Router) *model {
	return &model{
		r: r, grace: r.opts.OfflineGrace, live: r.opts.live(),
		sites: map[string]*msite{}, convs: map[string]*mconv{}, agents: map[string]*magent{},
		front: map[string]int{},
	}
}

func (m *model) tick() uint64 { m.clock++; return m.clock }

func (m *model) site(id string) *msite { return m.sites[id] }

func (m *model) agent(site, id string) *magent { return m.agents[site+"/"+id] }

func (m *model) addSite(cfg Site) {
	s := m.sites[cfg.ID]
	if s == nil {
		s = &msite{id: cfg.ID, groups: map[string]bool{}, queues: map[string][]*mconv{}, last: map[string]string{}}
		m.sites[cfg.ID] = s
	}
	s.def, s.maxQueue = cfg.DefaultGroup, cfg.MaxQueue
	if s.maxQueue == 0 {
		s.maxQueue = m.r.opts.MaxQueue
	}
	if s.def != "" {
		s.touch(s.def)
	}
}

func (s *msite) touch(g string) {
	if !slices.Contains(s.known, g) {
		s.known = append(s.known, g)
	}
}

func (m *model) members(site, g string) []*magent {
	var out []*magent
	for _, a := range m.list {
		if a.site == site && slices.Contains(a.groups, g) {
			out = append(out, a)
		}
	}
	return out
}

// agentList returns the site's agents in creation order.
func (m *model) agentList(site string) []*magent {
	var out []*magent
	for _, a := range m.list {
		if a.site == site {
			out = append(out, a)
		}
	}
	return out
}

func (m *model) removeAgent(a *magent) {
	delete(m.agents, a.site+"/"+a.id)
	m.list = slices.DeleteFunc(m.list, func(x *magent) bool { return x == a })
}

func (a *magent) free() bool { return a.status == StatusOnline && a.load < a.capacity }

func (a *magent) score() float64 {
	if a.capacity == 0 {
		return 0
	}
	return float64(a.load) / (float64(a.capacity) * a.weight)
}

func mBetter(a, b *magent) bool {
	if a.score() != b.score() {
		return a.score() < b.score()
	}
	if a.last != b.last {
		return a.last < b.last
	}
	return a.order < b.order
}

// best is level 2, by a linear scan.
func (m *model) best(site, g, not string) *magent {
	var b *magent
	for _, a := range m.members(site, g) {
		if a.free() && a.id != not && (b == nil || mBetter(a, b)) {
			b = a
		}
	}
	return b
}

func (m *model) requeueGroup(s *msite, g string) string {
	if s.groups[g] || len(m.members(s.id, g)) > 0 || g == s.def || s.def == "" {
		return g
	}
	return s.def
}

// call is the operation whose events are being replayed.
type call struct {
	op      Op
	site    string
	conv    string
	agent   string
	group   string
	visitor string
	pick    string // OpRoute: the group level 1 picks (asked before the call)
	now     time.Time

	released string // the agent a transfer took the conversation from
}

// transferFrom is the From a transfer's Assigned or Queued must carry.
func (k *call) transferFrom(c *mconv) string {
	if k.released != "" {
		return k.released
	}
	return c.from
}

func (m *model) queueIndex(c *mconv) int {
	return slices.Index(m.sites[c.site].queues[c.group], c)
}

func (m *model) unqueue(c *mconv) {
	q := m.sites[c.site].queues[c.group]
	i := slices.Index(q, c)
	m.sites[c.site].queues[c.group] = slices.Delete(q, i, i+1)
	c.queued = false
}

// event checks one event against the rules and applies it.
func (m *model) event(e Event, k *call) error {
	s := m.sites[e.Site]
	if s == nil {
		return fmt.Errorf("event for unknown site: %v", e)
	}
	c := m.convs[e.Conversation]
	switch e.Kind {
	case EventAssigned:
		if c == nil {
			if k.op != OpRoute || e.Conversation != k.conv {
				return fmt.Errorf("assignment of an unknown conversation: %v", e)
			}
			c = &mconv{id: e.Conversation, site: e.Site, visitor: e.Visitor, group: k.pick}
			m.convs[c.id] = c
		}
		if c.agent != "" {
			return fmt.Errorf("conversation assigned twice: %v (held by %s)", e, c.agent)
		}
		a := m.agent(e.Site, e.Agent)
		if a == nil {
			return fmt.Errorf("assigned to unknown agent: %v", e)
		}
		if e.Reason != ReasonRestore && a.load >= a.capacity {
			return fmt.Errorf("assignment over capacity (%d/%d): %v", a.load, a.capacity, e)
		}
		if e.Reason != ReasonTransfer && e.From != c.from {
			return fmt.Errorf("assigned from %q, want %q: %v", e.From, c.from, e)
		}
		if err := m.checkChoice(e, k, s, c, a); err != nil {
			return err
		}
		if c.queued {
			m.unqueue(c)
		}
		c.group, c.agent, c.from = e.Group, e.Agent, ""
		a.load++
		a.last = m.tick()
		if c.visitor != "" {
			s.last[c.visitor] = a.id
		}
	case EventQueued:
		if c == nil {
			if k.op != OpRoute || e.Conversation != k.conv {
				return fmt.Errorf("queueing an unknown conversation: %v", e)
			}
			c = &mconv{id: e.Conversation, site: e.Site, visitor: e.Visitor, group: k.pick}
			m.convs[c.id] = c
		}
		if c.queued && (e.Reason == ReasonTransfer || e.Reason == ReasonRegroup) {
			m.unqueue(c) // moved from one queue to another
		}
		if c.agent != "" || c.queued {
			return fmt.Errorf("queued while held or waiting: %v", e)
		}
		q := s.queues[e.Group]
		var want int
		switch e.Reason {
		case ReasonArrival, ReasonRegroup, ReasonRestore:
			want = len(q) + 1
			c.since = m.tick()
		case ReasonTransfer:
			want = 1
			c.since = 0
		case ReasonOffline, ReasonRemoved:
			m.front[e.Site+"/"+e.Group]++
			want = m.front[e.Site+"/"+e.Group]
			c.since = 0
		default:
			return fmt.Errorf("queued for reason %v: %v", e.Reason, e)
		}
		if e.Position != want {
			return fmt.Errorf("queued at %d, want %d: %v", e.Position, want, e)
		}
		if err := m.checkQueueGroup(e, k, s, c); err != nil {
			return err
		}
		c.group, c.queued, c.from, c.told = e.Group, true, e.From, e.Position
		s.queues[e.Group] = slices.Insert(q, e.Position-1, c)
		s.touch(e.Group)
	case EventPositionChanged:
		if c == nil || !c.queued || c.group != e.Group {
			return fmt.Errorf("position of a conversation not waiting there: %v", e)
		}
		if i := m.queueIndex(c); i+1 != e.Position {
			return fmt.Errorf("position %d reported, model has %d: %v", e.Position, i+1, e)
		}
		c.told = e.Position
	case EventUnassigned:
		if c == nil || c.agent != e.Agent || c.agent == "" {
			return fmt.Errorf("unassigning a conversation the agent does not hold: %v", e)
		}
		switch {
		case e.Reason == ReasonTransfer && (k.op == OpTransferToAgent || k.op == OpTransferToGroup):
			k.released = e.Agent
		case e.Reason == ReasonOffline && k.op == OpTick:
			a := m.agent(e.Site, e.Agent)
			if a.status != StatusOffline || k.now.Sub(a.offSince) < m.grace {
				return fmt.Errorf("unassigned before the grace ended: %v", e)
			}
		case e.Reason == ReasonRemoved && k.op == OpRemoveAgent:
		default:
			return fmt.Errorf("unassigned by %v: %v", k.op, e)
		}
		m.agent(e.Site, e.Agent).load--
		c.agent = ""
	case EventClosed:
		if k.op != OpClose || c == nil || c.id != k.conv || c.agent != e.Agent {
			return fmt.Errorf("close does not match: %v", e)
		}
		if c.agent != "" {
			m.agent(e.Site, c.agent).load--
		} else {
			m.unqueue(c)
		}
		delete(m.convs, c.id)
	default:
		return fmt.Errorf("unknown event kind: %v", e)
	}
	return nil
}

// checkChoice checks who got an assignment against the level it came from.
func (m *model) checkChoice(e Event, k *call, s *msite, c *mconv, a *magent) error {
	switch e.Reason {
	case ReasonAffinity:
		if k.op != OpRoute || s.last[c.visitor] != a.id || !a.free() || e.Group != k.pick {
			return fmt.Errorf("affinity assignment without affinity: %v", e)
		}
		return nil
	case ReasonClaim:
		if k.op != OpClaim && k.op != OpClaimNext || a.id != k.agent || a.status == StatusOffline {
			return fmt.Errorf("claim by the wrong agent: %v", e)
		}
		if !c.queued || !slices.Contains(a.groups, c.group) {
			return fmt.Errorf("claim of a conversation not waiting in the agent's groups: %v", e)
		}
		return nil
	case ReasonRestore:
		return nil
	case ReasonTransfer:
		if e.From != k.transferFrom(c) {
			return fmt.Errorf("transfer from %q, want %q: %v", e.From, k.transferFrom(c), e)
		}
		if k.op == OpTransferToAgent {
			if a.id != k.agent || !a.free() {
				return fmt.Errorf("transfer to the wrong or unavailable agent: %v", e)
			}
			return nil
		}
		if k.op != OpTransferToGroup || e.Group != k.group {
			return fmt.Errorf("group transfer to the wrong group: %v", e)
		}
	case ReasonArrival:
		if k.op != OpRoute || e.Group != k.pick {
			return fmt.Errorf("arrival routed to group %s, level 1 picks %s: %v", e.Group, k.pick, e)
		}
	case ReasonDrain:
		if !c.queued || c.group != e.Group {
			return fmt.Errorf("drained a conversation not waiting there: %v", e)
		}
		// FIFO: everything ahead of it must be untakeable right now.
		for _, x := range s.queues[c.group] {
			if x == c {
				break
			}
			if b := m.best(s.id, x.group, x.from); b != nil {
				return fmt.Errorf("drained %s ahead of %s, which %s could take", c.id, x.id, b.id)
			}
		}
	case ReasonOffline, ReasonRemoved:
		if c.queued || e.Group != m.requeueGroup(s, c.group) {
			return fmt.Errorf("requeue to the wrong group: %v", e)
		}
	case ReasonRegroup:
		if k.op != OpRemoveGroup || e.Group != s.def {
			return fmt.Errorf("regroup outside the default group: %v", e)
		}
	default:
		return fmt.Errorf("assigned for reason %v: %v", e.Reason, e)
	}
	from := c.from
	if e.Reason == ReasonTransfer {
		from = e.From
	}
	if want := m.best(s.id, e.Group, from); want != a {
		wantID := "<nobody>"
		if want != nil {
			wantID = want.id
		}
		return fmt.Errorf("level 2 picked %s, the best free member is %s: %v", a.id, wantID, e)
	}
	return nil
}

func (m *model) checkQueueGroup(e Event, k *call, s *msite, c *mconv) error {
	if m.best(s.id, e.Group, e.From) != nil {
		return fmt.Errorf("queued while an agent of the group is free: %v", e)
	}
	var want string
	switch e.Reason {
	case ReasonArrival:
		want = k.pick
	case ReasonTransfer:
		want = k.group
		if e.From != k.transferFrom(c) {
			return fmt.Errorf("queued after a transfer from %q, want %q: %v", e.From, k.transferFrom(c), e)
		}
	case ReasonOffline, ReasonRemoved:
		want = m.requeueGroup(s, c.group)
	case ReasonRegroup:
		want = s.def
	default:
		return nil
	}
	if e.Group != want {
		return fmt.Errorf("queued in %s, want %s: %v", e.Group, want, e)
	}
	return nil
}

// apply replays the events of one call.
func (m *model) apply(evs []Event, k *call) error {
	clear(m.front)
	for _, e := range evs {
		if err := m.event(e, k); err != nil {
			return fmt.Errorf("%v: %w", k.op, err)
		}
	}
	return nil
}

// compare checks the Router against the model, and the invariants the
// issue demands, after a call.
func (m *model) compare() error {
	if err := m.r.Check(); err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	if len(m.r.convs) != len(m.convs) {
		return fmt.Errorf("router holds %d conversations, model %d", len(m.r.convs), len(m.convs))
	}
	for id, c := range m.convs {
		p, ok := m.r.Placement(c.site, id)
		if !ok {
			return fmt.Errorf("conversation %s lost", id)
		}
		if p.Agent != c.agent || p.Group != c.group || (p.Position != 0) != c.queued || p.From != c.from {
			return fmt.Errorf("conversation %s: router %+v, model %+v", id, p, *c)
		}
	}
	for _, s := range m.sites {
		n := 0
		for _, g := range s.known {
			q := s.queues[g]
			n += len(q)
			got := m.r.Queue(nil, s.id, g, 0, 1<<30)
			if len(got) != len(q) {
				return fmt.Errorf("queue %s/%s: router %d waiting, model %d", s.id, g, len(got), len(q))
			}
			for i, p := range got {
				if p.Conversation != q[i].id || p.Position != i+1 {
					return fmt.Errorf("queue %s/%s order differs at %d: %s vs %s", s.id, g, i, p.Conversation, q[i].id)
				}
				if i < m.live && q[i].told != i+1 {
					return fmt.Errorf("queue %s/%s: %s at live place %d was last told %d", s.id, g, q[i].id, i+1, q[i].told)
				}
				if b := m.best(s.id, g, q[i].from); b != nil {
					return fmt.Errorf("queue %s/%s: %s waits while %s is free", s.id, g, q[i].id, b.id)
				}
			}
		}
		if n > s.maxQueue+len(m.convs) {
			return fmt.Errorf("site %s: %d waiting", s.id, n)
		}
		if w := m.r.Waiting(s.id); w != n {
			return fmt.Errorf("site %s: router says %d waiting, model %d", s.id, w, n)
		}
	}
	for _, a := range m.agents {
		got, ok := m.r.Agent(a.site, a.id)
		if !ok || got.Load != a.load || got.Status != a.status || got.Capacity != a.capacity {
			return fmt.Errorf("agent %s/%s: router %+v, model %+v", a.site, a.id, got, *a)
		}
		if a.load <= a.capacity {
			a.excess = false
		}
		if a.load > a.capacity && !a.excess {
			return fmt.Errorf("agent %s/%s over capacity: %d/%d", a.site, a.id, a.load, a.capacity)
		}
	}
	return nil
}

// checkTold verifies that every waiting conversation knows its position
// (after a position refresh).
func (m *model) checkTold() error {
	for _, s := range m.sites {
		for g, q := range s.queues {
			for i, c := range q {
				if c.told != i+1 {
					return fmt.Errorf("queue %s/%s: %s at %d was last told %d", s.id, g, c.id, i+1, c.told)
				}
			}
		}
	}
	return nil
}

// checkGrace verifies that no agent offline past the grace holds anything.
func (m *model) checkGrace(now time.Time) error {
	for _, a := range m.agents {
		if a.status == StatusOffline && a.load > 0 && now.Sub(a.offSince) >= m.grace {
			return fmt.Errorf("agent %s/%s offline since %v still holds %d at %v", a.site, a.id, a.offSince, a.load, now)
		}
	}
	return nil
}

// Configuration as the model sees it; called before the Router's events
// are replayed, in the order the Router applies them.

func (m *model) setAgent(cfg Agent, now time.Time) {
	a := m.agent(cfg.Site, cfg.ID)
	if a == nil {
		a = &magent{site: cfg.Site, id: cfg.ID, order: m.tick(), status: StatusOffline, offSince: now}
		m.agents[cfg.Site+"/"+cfg.ID] = a
		m.list = append(m.list, a)
	}
	a.groups = nil
	for _, g := range cfg.Groups {
		if !slices.Contains(a.groups, g) {
			a.groups = append(a.groups, g)
		}
		m.sites[cfg.Site].touch(g)
	}
	a.weight = cfg.Weight
	if a.weight == 0 {
		a.weight = 1
	}
	a.capacity = cfg.Capacity
	a.excess = a.load > a.capacity
	m.setStatus(a, cfg.Status, now)
}

func (m *model) setStatus(a *magent, st Status, now time.Time) {
	if st == StatusOffline && a.status != StatusOffline {
		a.offSince = now
	}
	a.status = st
}

func (m *model) setCapacity(a *magent, c int) {
	a.capacity = c
	a.excess = a.load > a.capacity
}

// predictRoute says what Route must do; the events are then replayed.
func (m *model) predictRoute(req Request, pick string, pickErr error) (agent string, reason Reason, want error) {
	s := m.sites[req.Site]
	if s == nil {
		return "", 0, ErrUnknownSite
	}
	if m.convs[req.Conversation] != nil {
		return "", 0, ErrDuplicateConversation
	}
	if pickErr != nil {
		return "", 0, pickErr
	}
	if req.Visitor != "" {
		if id, ok := s.last[req.Visitor]; ok {
			if a := m.agent(s.id, id); a != nil && a.free() {
				return a.id, ReasonAffinity, nil
			}
		}
	}
	if b := m.best(s.id, pick, ""); b != nil {
		return b.id, ReasonArrival, nil
	}
	n := 0
	for _, q := range s.queues {
		n += len(q)
	}
	if n >= s.maxQueue {
		return "", 0, ErrQueueFull
	}
	return "", ReasonArrival, nil
}

// predictClaim says which error Claim or ClaimNext must return, and for
// ClaimNext which conversation it must take.
func (m *model) predictClaim(site, agentID, conv string, next bool) (string, error) {
	a := m.agent(site, agentID)
	if a == nil {
		return "", ErrUnknownAgent
	}
	if !next {
		c := m.convs[conv]
		if c == nil || c.site != site {
			return "", ErrUnknownConversation
		}
	}
	if a.status == StatusOffline {
		return "", ErrAgentUnavailable
	}
	if a.load >= a.capacity {
		return "", ErrAgentFull
	}
	if !next {
		c := m.convs[conv]
		if !c.queued {
			return "", ErrNotQueued
		}
		if !slices.Contains(a.groups, c.group) {
			return "", ErrNotMember
		}
		return conv, nil
	}
	var pick *mconv
	for _, g := range a.groups {
		for _, c := range m.sites[site].queues[g] {
			if c.from != a.id {
				if pick == nil || c.since < pick.since {
					pick = c
				}
				break
			}
		}
	}
	if pick == nil {
		return "", ErrQueueEmpty
	}
	return pick.id, nil
}

func (m *model) predictTransfer(site, conv, agentID, groupID string, toGroup bool) error {
	c := m.convs[conv]
	if c == nil || c.site != site {
		return ErrUnknownConversation
	}
	if toGroup {
		if !slices.Contains(m.sites[site].known, groupID) {
			return ErrUnknownGroup
		}
		if c.agent == "" && c.group == groupID {
			return ErrNoChange
		}
		return nil
	}
	a := m.agent(site, agentID)
	switch {
	case a == nil:
		return ErrUnknownAgent
	case c.agent == a.id:
		return ErrNoChange
	case a.status != StatusOnline:
		return ErrAgentUnavailable
	case a.load >= a.capacity:
		return ErrAgentFull
	}
	return nil
}

func sameErr(got, want error) error {
	if want == nil && got == nil || want != nil && errors.Is(got, want) {
		return nil
	}
	return fmt.Errorf("error %v, want %v", got, want)
}
