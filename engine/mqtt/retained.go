package mqtt

import (
	"strings"
	"sync"
)

// rnode is one level of the retained-message trie.
type rnode struct {
	parent   *rnode
	key      string
	one      *rnode // the only child, until a second one comes
	children map[string]*rnode
	msg      *Message
}

func (n *rnode) child(level string) *rnode {
	if n.one != nil {
		if n.one.key == level {
			return n.one
		}
		return nil
	}
	return n.children[level]
}

func (n *rnode) add(c *rnode) {
	switch {
	case n.one == nil && n.children == nil:
		n.one = c
	default:
		if n.children == nil {
			n.children = map[string]*rnode{n.one.key: n.one}
			n.one = nil
		}
		n.children[c.key] = c
	}
}

func (n *rnode) remove(c *rnode) {
	if n.one == c {
		n.one = nil
	} else {
		delete(n.children, c.key)
	}
}

// kids calls fn for every child, skipping '$' topics when top is set
// [MQTT-4.7.2-1].
func (n *rnode) kids(top bool, dst []*Message, fn func(*rnode, []*Message) []*Message) []*Message {
	if n.one != nil {
		if !top || !strings.HasPrefix(n.one.key, "$") {
			dst = fn(n.one, dst)
		}
		return dst
	}
	for k, c := range n.children {
		if !top || !strings.HasPrefix(k, "$") {
			dst = fn(c, dst)
		}
	}
	return dst
}

// retainedStore holds the last retained message of every topic, in a trie
// so that a new subscription's filter finds them without a scan. Shared by
// every event loop behind a read-write lock.
type retainedStore struct {
	mu    sync.RWMutex
	root  rnode
	count int
}

// set stores m as the retained message of its topic, or deletes the
// topic's retained message when m's payload is empty [MQTT-3.3.1-6]
// [MQTT-3.3.1-7]. A new topic is not stored when limit messages are
// retained already. It returns the change in count and whether m was
// stored (or the delete done).
func (r *retainedStore) set(m *Message, limit int) (delta int, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	del := len(m.Payload) == 0
	n := &r.root
	for rest, last := m.Topic, false; !last; {
		var level string
		level, rest, last = nextLevel(rest)
		c := n.child(level)
		if c == nil {
			if del {
				return 0, true // nothing retained there
			}
			c = &rnode{parent: n, key: level}
			n.add(c)
		}
		n = c
	}
	switch {
	case del && n.msg != nil:
		n.msg = nil
		r.count--
		delta = -1
	case del:
	case n.msg == nil && r.count >= limit:
		n.prune()
		return 0, false
	case n.msg == nil:
		n.msg = m
		r.count++
		delta = 1
	default:
		n.msg = m // replace
	}
	n.prune()
	return delta, true
}

func (n *rnode) prune() {
	for n.parent != nil && n.msg == nil && n.one == nil && len(n.children) == 0 {
		n.parent.remove(n)
		n, n.parent = n.parent, nil
	}
}

// match appends the retained messages whose topic matches filter.
// Topics starting with '$' are not matched by a first-level wildcard
// [MQTT-4.7.2-1].
func (r *retainedStore) match(filter string, dst []*Message) []*Message {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.root.match(filter, true, dst)
}

func (n *rnode) match(filter string, top bool, dst []*Message) []*Message {
	level, rest, last := nextLevel(filter)
	switch level {
	case "#":
		if !top && n.msg != nil {
			dst = append(dst, n.msg) // "a/#" matches "a" [MQTT-4.7.1-2]
		}
		dst = n.kids(top, dst, (*rnode).all)
	case "+":
		dst = n.kids(top, dst, func(c *rnode, dst []*Message) []*Message { return c.step(rest, last, dst) })
	default:
		if c := n.child(level); c != nil {
			dst = c.step(rest, last, dst)
		}
	}
	return dst
}

func (n *rnode) step(rest string, last bool, dst []*Message) []*Message {
	if last {
		if n.msg != nil {
			dst = append(dst, n.msg)
		}
		return dst
	}
	return n.match(rest, false, dst)
}

func (n *rnode) all(dst []*Message) []*Message {
	if n.msg != nil {
		dst = append(dst, n.msg)
	}
	return n.kids(false, dst, (*rnode).all)
}

// size is the number of retained messages.
func (r *retainedStore) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}
