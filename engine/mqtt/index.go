package mqtt

import (
	"sync"
	"sync/atomic"
)

// subOpts are the options of one subscription that matter when a message
// is routed (retain handling only matters at SUBSCRIBE).
type subOpts struct {
	id      uint32 // subscription identifier; 0: none
	qos     byte   // granted QoS
	noLocal bool   // MQTT 5: not to the publisher's own session
	rap     bool   // MQTT 5: retain as published
}

// entry is one session's subscription at a node.
type entry struct {
	s *session
	subOpts
}

// hit is a subscription that matched a topic.
type hit struct {
	s *session
	subOpts
	shared bool
}

// node is one level of the subscription trie. Wildcard children are kept
// apart from the literal ones, so a match walks at most three children per
// level: the literal, '+' and '#'.
type node struct {
	parent   *node
	key      string // level, as in the parent's children ("+" and "#" for wildcards)
	one      *node  // the only literal child, until a second one comes
	children map[string]*node
	plus     *node
	hash     *node
	subs     []entry
	groups   []*group // shared subscriptions on this filter, by share name
}

// group is a shared subscription ($share/name/filter): each message goes
// to one member, chosen round robin among the connected ones.
type group struct {
	name    string
	members []entry
	next    atomic.Uint32
}

// pick chooses the member for the next message: round robin, skipping
// members whose session is offline unless all are.
func (g *group) pick() *entry {
	n := uint32(len(g.members))
	if n == 0 {
		return nil
	}
	start := (g.next.Add(1) - 1) % n
	for i := uint32(0); i < n; i++ {
		if e := &g.members[(start+i)%n]; e.s.online.Load() {
			return e
		}
	}
	return &g.members[start]
}

func (n *node) empty() bool {
	return n.one == nil && len(n.children) == 0 && n.plus == nil && n.hash == nil && len(n.subs) == 0 && len(n.groups) == 0
}

// literal returns the literal child for level, or nil.
func (n *node) literal(level string) *node {
	if n.one != nil {
		if n.one.key == level {
			return n.one
		}
		return nil
	}
	return n.children[level]
}

// child returns the child for level, creating it when create is set. key
// must be owned (it is kept as the map key).
func (n *node) child(level string, create bool) *node {
	var slot **node
	switch level {
	case "+":
		slot = &n.plus
	case "#":
		slot = &n.hash
	default:
		c := n.literal(level)
		if c != nil || !create {
			return c
		}
		c = &node{parent: n, key: level}
		switch {
		case n.one == nil && n.children == nil:
			n.one = c // most nodes of device topics have one child: no map
		default:
			if n.children == nil {
				n.children = map[string]*node{n.one.key: n.one}
				n.one = nil
			}
			n.children[level] = c
		}
		return c
	}
	if *slot == nil && create {
		*slot = &node{parent: n, key: level}
	}
	return *slot
}

// prune removes n and its ancestors while they are empty.
func (n *node) prune() {
	for n.parent != nil && n.empty() {
		p := n.parent
		switch n.key {
		case "+":
			p.plus = nil
		case "#":
			p.hash = nil
		default:
			if p.one == n {
				p.one = nil
			} else {
				delete(p.children, n.key)
			}
		}
		n.parent = nil
		n = p
	}
}

// index is the subscription trie shared by every event loop. Matching
// takes the read lock and never allocates (the caller passes the result
// slice); subscribing and unsubscribing take the write lock briefly.
type index struct {
	mu    sync.RWMutex
	root  node
	count int // subscriptions, for metrics
}

// subscribe adds or replaces session s's subscription to filter (shared
// in group when group != ""). The strings must be owned by the caller for
// good: pieces of them become keys. It reports whether the subscription
// existed (MQTT 5 retain handling 1).
func (x *index) subscribe(s *session, share, filter string, o subOpts) (existed bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := &x.root
	for rest, last := filter, false; !last; {
		var level string
		level, rest, last = nextLevel(rest)
		n = n.child(level, true)
	}
	list := &n.subs
	if share != "" {
		var g *group
		for _, gg := range n.groups {
			if gg.name == share {
				g = gg
				break
			}
		}
		if g == nil {
			g = &group{name: share}
			n.groups = append(n.groups, g)
		}
		list = &g.members
	}
	for i := range *list {
		if (*list)[i].s == s {
			(*list)[i].subOpts = o // [MQTT-3.8.4-3] replace
			return true
		}
	}
	*list = append(*list, entry{s: s, subOpts: o})
	x.count++
	return false
}

// unsubscribe removes session s's subscription to filter (in group) and
// reports whether it existed.
func (x *index) unsubscribe(s *session, share, filter string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	n := &x.root
	for rest, last := filter, false; !last; {
		var level string
		level, rest, last = nextLevel(rest)
		if n = n.child(level, false); n == nil {
			return false
		}
	}
	list := &n.subs
	gi := -1
	if share != "" {
		for i, g := range n.groups {
			if g.name == share {
				gi, list = i, &g.members
				break
			}
		}
		if gi < 0 {
			return false
		}
	}
	for i := range *list {
		if (*list)[i].s != s {
			continue
		}
		last := len(*list) - 1
		(*list)[i] = (*list)[last]
		(*list)[last] = entry{}
		*list = (*list)[:last]
		if last == 0 {
			*list = nil
		}
		x.count--
		if gi >= 0 && len(n.groups[gi].members) == 0 {
			n.groups = append(n.groups[:gi], n.groups[gi+1:]...)
			if len(n.groups) == 0 {
				n.groups = nil
			}
		}
		n.prune()
		return true
	}
	return false
}

// match appends to dst every subscription matching topic: non-shared ones
// as they are, one member of each shared group. Topics starting with '$'
// are not matched by filters starting with a wildcard [MQTT-4.7.2-1].
func (x *index) match(topic string, dst []hit) []hit {
	x.mu.RLock()
	dst = x.root.match(topic, len(topic) > 0 && topic[0] == '$', dst)
	x.mu.RUnlock()
	return dst
}

// size is the number of subscriptions.
func (x *index) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.count
}

func (n *node) match(topic string, dollar bool, dst []hit) []hit {
	level, rest, last := nextLevel(topic)
	if !dollar {
		if n.hash != nil {
			dst = n.hash.collect(dst) // [MQTT-4.7.1-2] '#' matches every remaining level
		}
		if n.plus != nil {
			dst = n.plus.step(rest, last, dst) // [MQTT-4.7.1-3] '+' matches one level
		}
	}
	if c := n.literal(level); c != nil {
		dst = c.step(rest, last, dst)
	}
	return dst
}

func (n *node) step(rest string, last bool, dst []hit) []hit {
	if !last {
		return n.match(rest, false, dst)
	}
	dst = n.collect(dst)
	if n.hash != nil {
		dst = n.hash.collect(dst) // "a/#" also matches "a" [MQTT-4.7.1-2]
	}
	return dst
}

func (n *node) collect(dst []hit) []hit {
	for i := range n.subs {
		dst = append(dst, hit{s: n.subs[i].s, subOpts: n.subs[i].subOpts})
	}
	for _, g := range n.groups {
		if e := g.pick(); e != nil {
			dst = append(dst, hit{s: e.s, subOpts: e.subOpts, shared: true})
		}
	}
	return dst
}
