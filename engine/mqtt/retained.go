package mqtt

import "sync"

// rnode is one level of the retained-message trie.
type rnode struct {
	parent   *rnode
	key      string
	children map[string]*rnode
	msg      *Message
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
		c := n.children[level]
		if c == nil {
			if del {
				return 0, true // nothing retained there
			}
			if n.children == nil {
				n.children = make(map[string]*rnode)
			}
			c = &rnode{parent: n, key: level}
			n.children[level] = c
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
	for n.parent != nil && n.msg == nil && len(n.children) == 0 {
		delete(n.parent.children, n.key)
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
		for k, c := range n.children {
			if top && len(k) > 0 && k[0] == '$' {
				continue
			}
			dst = c.all(dst)
		}
	case "+":
		for k, c := range n.children {
			if top && len(k) > 0 && k[0] == '$' {
				continue
			}
			dst = c.step(rest, last, dst)
		}
	default:
		if c := n.children[level]; c != nil {
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
	for _, c := range n.children {
		dst = c.all(dst)
	}
	return dst
}

// size is the number of retained messages.
func (r *retainedStore) size() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count
}

// each calls fn for every retained message (for snapshots).
func (r *retainedStore) each(fn func(*Message)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, m := range r.root.all(nil) {
		fn(m)
	}
}
