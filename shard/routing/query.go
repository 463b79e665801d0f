package routing

import "slices"

// Queries read the state; like every method they belong to the owner
// goroutine. They never change anything and may allocate (they serve the
// REST API and the agent console, not the routing path).

// Placement is where a conversation is.
type Placement struct {
	Site         string
	Conversation string
	Visitor      string
	Group        string
	// Agent holds the conversation; empty while it waits.
	Agent string
	// Position is its 1-based place in Group's queue while it waits.
	Position int
	// From is the agent that transferred it into the queue, if any.
	From string
}

// GroupInfo describes a group.
type GroupInfo struct {
	ID string
	// Tags it serves; Configured is false for a group that exists only
	// because agents or the site default name it (or that was removed).
	Tags       []string
	Configured bool
	Members    int
	Online     int
	Free       int // members online and under capacity
	Waiting    int
}

// Agent returns an agent of the site with its current load.
func (r *Router) Agent(siteID, id string) (Agent, bool) {
	_, a, err := r.agentOf(siteID, id)
	if err != nil {
		return Agent{}, false
	}
	return a.view(), true
}

// Agents appends the site's agents to dst in creation order.
func (r *Router) Agents(dst []Agent, siteID string) []Agent {
	if s := r.sites[siteID]; s != nil {
		for _, a := range s.agentList {
			dst = append(dst, a.view())
		}
	}
	return dst
}

func (a *agent) view() Agent {
	return Agent{ID: a.id, Site: a.site.id, Groups: slices.Clone(a.groupIDs), Capacity: a.capacity,
		Weight: a.weight, Status: a.status, Load: a.load}
}

// AgentConversations appends the conversations an agent holds to dst,
// oldest assignment first.
func (r *Router) AgentConversations(dst []string, siteID, id string) []string {
	if _, a, err := r.agentOf(siteID, id); err == nil {
		for c := a.head; c != nil; c = c.next {
			dst = append(dst, c.id)
		}
	}
	return dst
}

// Placement returns where a conversation of the site is.
func (r *Router) Placement(siteID, id string) (Placement, bool) {
	_, c, err := r.convOf(siteID, id)
	if err != nil {
		return Placement{}, false
	}
	p := c.placement()
	if c.agent == nil {
		p.Position = c.group.q.position(c)
	}
	return p, true
}

func (c *conv) placement() Placement {
	p := Placement{Site: c.site.id, Conversation: c.id, Visitor: c.visitor, Group: c.group.id}
	if c.agent != nil {
		p.Agent = c.agent.id
	}
	if c.from != nil {
		p.From = c.from.id
	}
	return p
}

// Queue appends up to limit waiting conversations of a group to dst, in
// queue order, skipping the first offset (pagination for the console).
func (r *Router) Queue(dst []Placement, siteID, groupID string, offset, limit int) []Placement {
	s := r.sites[siteID]
	if s == nil {
		return dst
	}
	g := s.groups[groupID]
	if g == nil {
		return dst
	}
	pos := 0
	for i := g.q.lo; i < g.q.hi && limit > 0; i++ {
		if c := g.q.slots[i]; c != nil {
			pos++
			if pos <= offset {
				continue
			}
			p := c.placement()
			p.Position = pos
			dst = append(dst, p)
			limit--
		}
	}
	return dst
}

// Waiting returns how many conversations of the site wait, over all its
// groups.
func (r *Router) Waiting(siteID string) int {
	if s := r.sites[siteID]; s != nil {
		return s.queued
	}
	return 0
}

// Groups appends the site's groups to dst in creation order.
func (r *Router) Groups(dst []GroupInfo, siteID string) []GroupInfo {
	s := r.sites[siteID]
	if s == nil {
		return dst
	}
	for _, g := range s.groupList {
		dst = append(dst, GroupInfo{ID: g.id, Tags: slices.Clone(g.tags), Configured: g.configured,
			Members: len(g.members), Online: g.online, Free: len(g.free), Waiting: g.q.len()})
	}
	return dst
}

// Stats are running totals and current sizes, for metrics. Totals only
// grow; none is labelled by site, agent or conversation.
type Stats struct {
	Routed     uint64 // Route calls that assigned or queued
	Refused    uint64 // Route calls refused with ErrQueueFull
	Assigned   uint64 // EventAssigned, every reason
	Queued     uint64 // EventQueued, every reason
	Unassigned uint64 // EventUnassigned, every reason
	Closed     uint64 // EventClosed
	Held       int    // conversations assigned now
	Waiting    int    // conversations waiting now
}

// Stats returns the totals so far.
func (r *Router) Stats() Stats {
	st := r.stats
	st.Waiting = r.queued
	st.Held = len(r.convs) - r.queued
	return st
}
