package shard

import (
	"slices"

	"github.com/kefu-im/kefu/proto"
)

// conv is a conversation loaded on its shard. Only its worker touches it.
type conv struct {
	id        string
	meta      *proto.Conversation
	last      uint64 // highest seq staged (equal to committed between drains)
	committed uint64 // highest seq committed
	subs      []Sink
	dedup     dedupWindow
	touched   int64               // unix nanos of the last request
	position  uint32              // place in its queue while queued (from the desk)
	prev      *proto.Conversation // the record before this drain's changes, for rollback; nil = unchanged
}

func (c *conv) subscribe(s Sink) bool {
	for _, x := range c.subs {
		if x.ID() == s.ID() {
			return false
		}
	}
	c.subs = append(c.subs, s)
	return true
}

func (c *conv) unsubscribe(id uint64) {
	c.subs = slices.DeleteFunc(c.subs, func(s Sink) bool { return s.ID() == id })
}

// mayRead reports whether who may read and subscribe to the conversation.
func (c *conv) mayRead(who *Identity) bool {
	if who.Site != c.meta.Site {
		return false
	}
	switch who.Role {
	case proto.Role_ROLE_VISITOR:
		return who.User == c.meta.Visitor && uint32(who.Trust) == c.meta.VisitorTrust
	case proto.Role_ROLE_AGENT:
		return true
	}
	return false
}

// mayWrite reports whether who may send: the visitor, or an agent who joined.
func (c *conv) mayWrite(who *Identity) bool {
	if who.Site != c.meta.Site {
		return false
	}
	switch who.Role {
	case proto.Role_ROLE_VISITOR:
		return who.User == c.meta.Visitor && uint32(who.Trust) == c.meta.VisitorTrust
	case proto.Role_ROLE_AGENT:
		return slices.Contains(c.meta.Agents, who.User)
	}
	return false
}

// dedupWindow remembers the last n client_msg_ids of a conversation and the
// seq each got, in a map bounded by a ring of keys.
type dedupWindow struct {
	seqs map[string]uint64
	keys []string
	next int
}

func (d *dedupWindow) get(id string) (uint64, bool) {
	s, ok := d.seqs[id]
	return s, ok
}

func (d *dedupWindow) put(id string, seq uint64, size int) {
	if d.seqs == nil {
		d.seqs = make(map[string]uint64, min(size, 16))
	}
	if _, ok := d.seqs[id]; ok {
		return
	}
	if len(d.keys) < size {
		d.keys = append(d.keys, id)
	} else {
		delete(d.seqs, d.keys[d.next])
		d.keys[d.next] = id
		d.next = (d.next + 1) % size
	}
	d.seqs[id] = seq
}
