package routing

import (
	"errors"
	"fmt"
)

// Check verifies every invariant of the Router's state and returns the
// first violation found, nil if none. It walks the whole state (O(agents ×
// groups + conversations)), so it is for tests and debugging, called by
// the owner between operations:
//
//   - every conversation is exactly one of: held by one agent of its site
//     (in that agent's list once), or waiting once in its group's queue;
//   - an agent's load is the length of its list and never exceeds its
//     capacity, except after a capacity cut or a restore, until it drains;
//   - each group's free heap holds exactly its online members under
//     capacity, in heap order, with consistent back-indices;
//   - each queue's counts, tree and slots agree, and no conversation waits
//     in a group that has a free agent allowed to take it;
//   - the live places at the head of each queue were told their position;
//   - site and global waiting counts, online counts and the offline list
//     agree with the agents and queues; affinity stays within its bound.
func (r *Router) Check() error {
	seen := make(map[*conv]bool, len(r.convs))
	queued := 0
	for _, s := range r.siteList {
		if err := r.checkSite(s, seen); err != nil {
			return fmt.Errorf("site %s: %w", s.id, err)
		}
		queued += s.queued
	}
	if queued != r.queued {
		return fmt.Errorf("waiting count %d, sites hold %d", r.queued, queued)
	}
	if len(seen) != len(r.convs) {
		return fmt.Errorf("%d conversations known, %d found held or waiting", len(r.convs), len(seen))
	}
	for id, c := range r.convs {
		if c.id != id || !seen[c] {
			return fmt.Errorf("conversation %s is neither held nor waiting", id)
		}
	}
	for i, a := range r.offline {
		if !a.pending || a.status != StatusOffline || a.load == 0 {
			return fmt.Errorf("offline list entry %d (%s) is not an offline agent with conversations", i, a.id)
		}
		if a.site.agents[a.id] != a {
			return fmt.Errorf("offline list holds removed agent %s", a.id)
		}
	}
	if len(r.dirty) != 0 {
		return errors.New("dirty groups left after a call")
	}
	return nil
}

func (r *Router) checkSite(s *site, seen map[*conv]bool) error {
	if len(s.agents) != len(s.agentList) || len(s.groups) != len(s.groupList) {
		return errors.New("maps and creation lists disagree")
	}
	pending := 0
	for _, a := range s.agentList {
		if s.agents[a.id] != a || a.site != s {
			return fmt.Errorf("agent %s misfiled", a.id)
		}
		if err := r.checkAgent(a, seen); err != nil {
			return fmt.Errorf("agent %s: %w", a.id, err)
		}
		if a.pending {
			pending++
		}
	}
	queued := 0
	for _, g := range s.groupList {
		if s.groups[g.id] != g || g.site != s {
			return fmt.Errorf("group %s misfiled", g.id)
		}
		if err := r.checkGroup(g, seen); err != nil {
			return fmt.Errorf("group %s: %w", g.id, err)
		}
		queued += g.q.len()
	}
	if queued != s.queued {
		return fmt.Errorf("waiting count %d, queues hold %d", s.queued, queued)
	}
	if s.aff.len() > s.aff.max || len(s.aff.nodes) > s.aff.max {
		return fmt.Errorf("affinity holds %d entries, bound %d", s.aff.len(), s.aff.max)
	}
	n := 0
	for i := s.aff.head; i >= 0; i = s.aff.nodes[i].next {
		if n++; n > s.aff.len() || s.aff.idx[s.aff.nodes[i].visitor] != i {
			return errors.New("affinity list and index disagree")
		}
	}
	if n != s.aff.len() {
		return errors.New("affinity list shorter than its index")
	}
	return nil
}

func (r *Router) checkAgent(a *agent, seen map[*conv]bool) error {
	n := 0
	var prev *conv
	for c := a.head; c != nil; c = c.next {
		n++
		switch {
		case c.prev != prev:
			return errors.New("broken conversation list")
		case c.agent != a || c.site != a.site:
			return fmt.Errorf("lists conversation %s held by another", c.id)
		case c.slot != -1:
			return fmt.Errorf("holds conversation %s that also waits", c.id)
		case seen[c]:
			return fmt.Errorf("conversation %s held twice", c.id)
		case r.convs[c.id] != c:
			return fmt.Errorf("holds unknown conversation %s", c.id)
		}
		seen[c] = true
		prev = c
	}
	if a.tail != prev {
		return errors.New("list tail is wrong")
	}
	if n != a.load {
		return fmt.Errorf("load %d but holds %d", a.load, n)
	}
	if a.load > a.capacity && !a.excess {
		return fmt.Errorf("over capacity: load %d, capacity %d", a.load, a.capacity)
	}
	if want := a.status == StatusOffline && a.load > 0; a.pending != want {
		return fmt.Errorf("pending %v, want %v", a.pending, want)
	}
	if len(a.heapIdx) != len(a.groups) {
		return errors.New("heap index and groups disagree")
	}
	free := a.status == StatusOnline && a.load < a.capacity
	for k, g := range a.groups {
		i := a.heapIdx[k]
		if free != (i >= 0) {
			return fmt.Errorf("in free heap of %s: %v, free: %v", g.id, i >= 0, free)
		}
		if i >= 0 && (int(i) >= len(g.free) || g.free[i].a != a || int(g.free[i].k) != k) {
			return fmt.Errorf("bad back-index into the free heap of %s", g.id)
		}
	}
	return nil
}

func (r *Router) checkGroup(g *group, seen map[*conv]bool) error {
	online, free := 0, 0
	for _, a := range g.members {
		if !a.memberOf(g) || g.site.agents[a.id] != a {
			return fmt.Errorf("member %s does not list the group or was removed", a.id)
		}
		if a.status == StatusOnline {
			online++
			if a.load < a.capacity {
				free++
			}
		}
	}
	if online != g.online {
		return fmt.Errorf("online count %d, members online %d", g.online, online)
	}
	if free != len(g.free) {
		return fmt.Errorf("free heap holds %d, free members %d", len(g.free), free)
	}
	for i := 1; i < len(g.free); i++ {
		if better(g.free[i].a, g.free[(i-1)/2].a) {
			return fmt.Errorf("free heap out of order at %d", i)
		}
	}
	q := &g.q
	if q.lo < 0 || q.lo > q.hi || q.hi > len(q.slots) || len(q.fen) != len(q.slots)+1 && len(q.slots) > 0 {
		return errors.New("queue bounds broken")
	}
	if q.n > 0 && (q.slots[q.lo] == nil || q.slots[q.hi-1] == nil) {
		return errors.New("queue span rests on a hole")
	}
	n := 0
	for i, c := range q.slots {
		if c == nil {
			continue
		}
		n++
		switch {
		case i < q.lo || i >= q.hi:
			return errors.New("queue entry outside its span")
		case c.slot != i || c.group != g || c.agent != nil:
			return fmt.Errorf("waiting conversation %s misfiled", c.id)
		case seen[c]:
			return fmt.Errorf("conversation %s waits twice or is also held", c.id)
		case r.convs[c.id] != c || c.site != g.site:
			return fmt.Errorf("unknown conversation %s waits", c.id)
		case q.prefix(i) != n:
			return fmt.Errorf("position tree says %d for place %d", q.prefix(i), n)
		}
		seen[c] = true
		if n <= r.opts.live() && c.told != n {
			return fmt.Errorf("conversation %s at live place %d was told %d", c.id, n, c.told)
		}
		// Drained: a free agent may not take it. The only free agent
		// may be the one it was transferred from.
		if a := g.free.best(c.from); a != nil {
			return fmt.Errorf("conversation %s waits while agent %s is free", c.id, a.id)
		}
	}
	if n != q.n {
		return fmt.Errorf("queue count %d, entries %d", q.n, n)
	}
	if g.dirty {
		return errors.New("left dirty")
	}
	return nil
}
