package routing

import "fmt"

// Route places a new conversation and appends what happened to dst:
//
//  1. level 1 picks the group: the first of req.Tags that some group
//     serves hashes the visitor (or, without one, the conversation) onto
//     that tag's ring; no tag matches → the site's default group;
//  2. level 3 first: a returning visitor's previous agent takes it if
//     online and under capacity (ReasonAffinity);
//  3. otherwise level 2: the group's free agent with the lowest weighted
//     load (ReasonArrival);
//  4. otherwise it waits at the back of the group's queue (EventQueued),
//     unless the site already has its maximum waiting (ErrQueueFull).
//
// On error nothing changed and dst is returned as it was.
func (r *Router) Route(dst []Event, req Request) ([]Event, error) {
	if err := req.validate(); err != nil {
		return dst, err
	}
	s, err := r.site(req.Site)
	if err != nil {
		return dst, err
	}
	if r.convs[req.Conversation] != nil {
		return dst, ErrDuplicateConversation
	}
	g := s.pick(&req)
	if g == nil {
		return dst, ErrNoGroup
	}
	var a *agent
	reason := ReasonAffinity
	if req.Visitor != "" {
		if x := s.aff.get(req.Visitor); x != nil && x.status == StatusOnline && x.load < x.capacity {
			a = x
		}
	}
	if a == nil {
		a, reason = g.free.best(nil), ReasonArrival
	}
	if a == nil && s.queued >= s.maxQueue {
		r.stats.Refused++
		return dst, fmt.Errorf("%w (site %s: %d waiting)", ErrQueueFull, s.id, s.queued)
	}
	r.stats.Routed++
	c := r.newConv(s, g, req.Conversation, req.Visitor)
	if a != nil {
		return r.assign(dst, c, a, reason, nil), nil
	}
	return r.enqueueBack(dst, c, ReasonArrival), nil
}

// PickGroup returns the group level 1 chooses for req (the conversation is
// not routed): ErrNoGroup if none.
func (r *Router) PickGroup(req Request) (string, error) {
	s, err := r.site(req.Site)
	if err != nil {
		return "", err
	}
	g := s.pick(&req)
	if g == nil {
		return "", ErrNoGroup
	}
	return g.id, nil
}

// pick is level 1.
func (s *site) pick(req *Request) *group {
	for _, t := range req.Tags {
		if ring := s.rings[t]; ring != nil {
			key := req.Visitor
			if key == "" {
				key = req.Conversation
			}
			return ring.pick(keyHash(key))
		}
	}
	return s.def
}

// Restore rebuilds a conversation after a restart, from what the caller
// persisted: assigned to agentID if it is not empty (whatever the agent's
// status and capacity: the assignment already existed), otherwise waiting
// at the back of groupID's queue (level 1 picks the group when groupID is
// empty), past the site's queue limit if need be; if an agent of that
// group is free it takes it at once (ReasonDrain). Restore waiting
// conversations oldest first.
func (r *Router) Restore(dst []Event, req Request, agentID, groupID string) ([]Event, error) {
	if err := req.validate(); err != nil {
		return dst, err
	}
	s, err := r.site(req.Site)
	if err != nil {
		return dst, err
	}
	if r.convs[req.Conversation] != nil {
		return dst, ErrDuplicateConversation
	}
	var g *group
	if groupID != "" {
		if g = s.groups[groupID]; g == nil {
			return dst, ErrUnknownGroup
		}
	} else if g = s.pick(&req); g == nil {
		return dst, ErrNoGroup
	}
	var a *agent
	if agentID != "" {
		if a = s.agents[agentID]; a == nil {
			return dst, ErrUnknownAgent
		}
	}
	c := r.newConv(s, g, req.Conversation, req.Visitor)
	if a == nil {
		dst = r.enqueueBack(dst, c, ReasonRestore)
		r.one[0] = g
		dst = r.drain(dst, r.one[:])
		r.one[0] = nil
		return r.finish(dst), nil
	}
	if a.load >= a.capacity {
		a.excess = true
	}
	dst = r.link(dst, c, a, ReasonRestore, nil)
	r.updatePending(a)
	return dst, nil
}

// Close removes a conversation, assigned or waiting. Its agent's freed
// place goes to the queue at once.
func (r *Router) Close(dst []Event, siteID, id string) ([]Event, error) {
	s, c, err := r.convOf(siteID, id)
	if err != nil {
		return dst, err
	}
	ev := Event{Kind: EventClosed, Site: s.id, Conversation: c.id, Visitor: c.visitor, Group: c.group.id}
	a := c.agent
	if a != nil {
		r.unlink(c)
		ev.Agent = a.id
		dst = append(dst, ev)
		dst = r.drain(dst, a.groups)
	} else {
		r.dequeue(c)
		dst = append(dst, ev)
	}
	r.stats.Closed++
	r.recycle(c)
	return r.finish(dst), nil
}

// Claim lets an agent take a waiting conversation by hand: one of its own
// groups, while not offline and under capacity.
func (r *Router) Claim(dst []Event, siteID, agentID, id string) ([]Event, error) {
	s, a, err := r.agentOf(siteID, agentID)
	if err != nil {
		return dst, err
	}
	c := r.convs[id]
	if c == nil || c.site != s {
		return dst, ErrUnknownConversation
	}
	if err := claimable(a); err != nil {
		return dst, err
	}
	if c.agent != nil {
		return dst, ErrNotQueued
	}
	if !a.memberOf(c.group) {
		return dst, ErrNotMember
	}
	r.dequeue(c)
	dst = r.assign(dst, c, a, ReasonClaim, nil)
	return r.finish(dst), nil
}

// ClaimNext lets an agent take the longest-waiting conversation of its
// groups (one it transferred away itself is skipped).
func (r *Router) ClaimNext(dst []Event, siteID, agentID string) ([]Event, error) {
	_, a, err := r.agentOf(siteID, agentID)
	if err != nil {
		return dst, err
	}
	if err := claimable(a); err != nil {
		return dst, err
	}
	var pick *conv
	for _, g := range a.groups {
		for i := g.q.lo; i < g.q.hi; i++ {
			if c := g.q.slots[i]; c != nil && c.from != a {
				if pick == nil || c.since < pick.since {
					pick = c
				}
				break
			}
		}
	}
	if pick == nil {
		return dst, ErrQueueEmpty
	}
	r.dequeue(pick)
	dst = r.assign(dst, pick, a, ReasonClaim, nil)
	return r.finish(dst), nil
}

func claimable(a *agent) error {
	if a.status == StatusOffline {
		return ErrAgentUnavailable
	}
	if a.load >= a.capacity {
		return ErrAgentFull
	}
	return nil
}

// TransferToAgent hands a conversation, assigned or waiting, to another
// agent of the site, who must be online and under capacity; group
// membership is not required. The old agent's freed place goes to the
// queue at once.
func (r *Router) TransferToAgent(dst []Event, siteID, id, agentID string) ([]Event, error) {
	s, c, err := r.convOf(siteID, id)
	if err != nil {
		return dst, err
	}
	b := s.agents[agentID]
	switch {
	case b == nil:
		return dst, ErrUnknownAgent
	case c.agent == b:
		return dst, ErrNoChange
	case b.status != StatusOnline:
		return dst, ErrAgentUnavailable
	case b.load >= b.capacity:
		return dst, ErrAgentFull
	}
	old := c.agent
	if old != nil {
		dst = r.release(dst, c, ReasonTransfer)
	} else {
		r.dequeue(c)
	}
	dst = r.assign(dst, c, b, ReasonTransfer, old)
	if old != nil {
		dst = r.drain(dst, old.groups)
	}
	return r.finish(dst), nil
}

// TransferToGroup moves a conversation, assigned or waiting, to a group:
// the group's best free agent other than the one handing it over takes
// it, or it waits at the front of the group's queue, where the queue will
// not offer it back to that agent. The old agent's freed place goes to
// the queue at once.
func (r *Router) TransferToGroup(dst []Event, siteID, id, groupID string) ([]Event, error) {
	s, c, err := r.convOf(siteID, id)
	if err != nil {
		return dst, err
	}
	g := s.groups[groupID]
	if g == nil {
		return dst, ErrUnknownGroup
	}
	old := c.agent
	if old == nil && c.group == g {
		return dst, ErrNoChange
	}
	from := old
	if old != nil {
		dst = r.release(dst, c, ReasonTransfer)
	} else {
		from = c.from
		r.dequeue(c)
	}
	c.group = g
	if b := g.free.best(from); b != nil {
		dst = r.assign(dst, c, b, ReasonTransfer, from)
	} else {
		c.from = from
		dst = r.enqueueFront(dst, c, ReasonTransfer)
	}
	if old != nil {
		dst = r.drain(dst, old.groups)
	}
	return r.finish(dst), nil
}

func (r *Router) newConv(s *site, g *group, id, visitor string) *conv {
	var c *conv
	if n := len(r.pool); n > 0 {
		c = r.pool[n-1]
		r.pool[n-1] = nil
		r.pool = r.pool[:n-1]
	} else {
		if len(r.slab) == 0 {
			r.slab = make([]conv, slabSize) // one allocation per slabSize records
		}
		c = &r.slab[0]
		r.slab = r.slab[1:]
	}
	*c = conv{id: id, visitor: visitor, site: s, group: g, slot: -1}
	r.convs[id] = c
	return c
}

func (r *Router) recycle(c *conv) {
	delete(r.convs, c.id)
	*c = conv{}
	if len(r.pool) < maxPool {
		r.pool = append(r.pool, c)
	}
}

// assign gives c (waiting in no queue, held by nobody) to a, which must
// have room.
func (r *Router) assign(dst []Event, c *conv, a *agent, reason Reason, from *agent) []Event {
	if a.load >= a.capacity || a.site != c.site {
		panic("BUG: routing: assigning over capacity or across sites")
	}
	return r.link(dst, c, a, reason, from)
}

func (r *Router) link(dst []Event, c *conv, a *agent, reason Reason, from *agent) []Event {
	if c.agent != nil || c.slot >= 0 {
		panic("BUG: routing: assigning a conversation that is held or waiting")
	}
	if from == nil {
		from = c.from // leaving a queue it was transferred into
	}
	c.agent, c.from = a, nil
	r.stats.Assigned++
	a.link(c)
	a.load++
	a.last = r.tick()
	r.refresh(a)
	if c.visitor != "" {
		c.site.aff.put(c.visitor, a)
	}
	ev := Event{Kind: EventAssigned, Reason: reason, Site: c.site.id, Conversation: c.id,
		Visitor: c.visitor, Agent: a.id, Group: c.group.id}
	if from != nil {
		ev.From = from.id
	}
	return append(dst, ev)
}

// unlink takes c from its agent.
func (r *Router) unlink(c *conv) {
	a := c.agent
	a.unlink(c)
	a.load--
	c.agent = nil
	r.refresh(a)
	r.updatePending(a)
}

// release unassigns c and reports it; c must then be assigned or queued.
func (r *Router) release(dst []Event, c *conv, reason Reason) []Event {
	a := c.agent
	r.unlink(c)
	r.stats.Unassigned++
	return append(dst, Event{Kind: EventUnassigned, Reason: reason, Site: c.site.id,
		Conversation: c.id, Visitor: c.visitor, Agent: a.id, Group: c.group.id})
}

func (r *Router) dequeue(c *conv) {
	g := c.group
	g.q.remove(c)
	g.site.queued--
	r.queued--
	r.markDirty(g)
}

func (r *Router) enqueueBack(dst []Event, c *conv, reason Reason) []Event {
	g := c.group
	g.q.pushBack(c)
	c.since = r.tick()
	c.told = g.q.len()
	return r.queued1(dst, c, reason)
}

func (r *Router) enqueueFront(dst []Event, c *conv, reason Reason) []Event {
	g := c.group
	g.q.pushFront(c)
	c.since = 0
	c.told = 1
	r.markDirty(g)
	return r.queued1(dst, c, reason)
}

func (r *Router) queued1(dst []Event, c *conv, reason Reason) []Event {
	c.site.queued++
	r.queued++
	r.stats.Queued++
	ev := Event{Kind: EventQueued, Reason: reason, Site: c.site.id, Conversation: c.id,
		Visitor: c.visitor, Group: c.group.id, Position: c.told}
	if c.from != nil {
		ev.From = c.from.id
	}
	return append(dst, ev)
}

// unassignAll takes every conversation from agents (offline past grace,
// or removed), agent by agent and oldest first within each: in that order
// each goes to a free agent of its group if there is one, and the rest go
// to the front of their queues, keeping that order.
func (r *Router) unassignAll(dst []Event, agents []*agent, reason Reason) []Event {
	r.scratch = r.scratch[:0]
	for _, a := range agents {
		for c := a.head; c != nil; c = c.next {
			r.scratch = append(r.scratch, c)
		}
	}
	for _, c := range r.scratch {
		dst = r.release(dst, c, reason)
	}
	rest := r.scratch[:0]
	for _, c := range r.scratch {
		c.group = c.site.requeueGroup(c.group)
		if b := c.group.free.best(nil); b != nil {
			dst = r.assign(dst, c, b, reason, nil)
		} else {
			rest = append(rest, c)
		}
	}
	for i := len(rest) - 1; i >= 0; i-- {
		c := rest[i]
		c.group.q.pushFront(c)
		c.since = 0
		r.markDirty(c.group)
	}
	for _, c := range rest {
		c.told = c.group.q.position(c)
		dst = r.queued1(dst, c, reason)
	}
	clear(r.scratch)
	return dst
}

// drain assigns waiting conversations of gs to free agents until no group
// of gs has a conversation some free agent may take. Within a group the
// queue order decides; between groups, the longest-waiting head.
func (r *Router) drain(dst []Event, gs []*group) []Event {
	for {
		var c *conv
		var a *agent
		for _, g := range gs {
			if g.q.len() == 0 || len(g.free) == 0 {
				continue
			}
			if x, b := g.firstEligible(); x != nil && (c == nil || x.since < c.since) {
				c, a = x, b
			}
		}
		if c == nil {
			return dst
		}
		r.dequeue(c)
		dst = r.assign(dst, c, a, ReasonDrain, nil)
	}
}

// firstEligible returns the first waiting conversation that a free agent
// may take, and that agent. Only a conversation queued after a transfer
// may be skipped: when its former agent is the only free one.
func (g *group) firstEligible() (*conv, *agent) {
	for i := g.q.lo; i < g.q.hi; i++ {
		if c := g.q.slots[i]; c != nil {
			if a := g.free.best(c.from); a != nil {
				return c, a
			}
		}
	}
	return nil, nil
}

func (r *Router) markDirty(g *group) {
	if !g.dirty {
		g.dirty = true
		r.dirty = append(r.dirty, g)
	}
}

// finish reports, once per call, the new positions of the live places at
// the head of every queue that changed.
func (r *Router) finish(dst []Event) []Event {
	live := r.opts.live()
	for i, g := range r.dirty {
		g.dirty = false
		r.dirty[i] = nil
		pos := 0
		for j := g.q.lo; j < g.q.hi && pos < live; j++ {
			if c := g.q.slots[j]; c != nil {
				pos++
				if c.told != pos {
					dst = r.moved(dst, c, pos)
				}
			}
		}
	}
	r.dirty = r.dirty[:0]
	return dst
}

func (r *Router) moved(dst []Event, c *conv, pos int) []Event {
	c.told = pos
	return append(dst, Event{Kind: EventPositionChanged, Site: c.site.id, Conversation: c.id,
		Visitor: c.visitor, Group: c.group.id, Position: pos})
}
