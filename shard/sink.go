package shard

import (
	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/proto"
)

// Sink is a live connection as a worker sees it. Implementations must be
// safe for use from several workers at once and must never block.
type Sink interface {
	// ID is unique among the process's connections.
	ID() uint64
	// Format is the wire encoding the connection wants.
	Format() wire.Format
	// Write queues encoded frames for the connection, in order. It returns
	// false once the connection is gone or was closed for falling behind;
	// the worker then forgets it. Write must not retain bufs itself.
	Write(bufs [][]byte) bool
	// Closed reports whether the connection has gone.
	Closed() bool
}

// Identity is who speaks on a connection, fixed by its HELLO. It is
// immutable once built and shared by reference.
type Identity struct {
	Site   string
	User   string
	Role   proto.Role
	Sender string // "v:<user>" or "a:<user>": the sender stored on messages
}

// NewIdentity builds an Identity and its sender string.
func NewIdentity(site, user string, role proto.Role) *Identity {
	p := "v:"
	if role == proto.Role_ROLE_AGENT {
		p = "a:"
	}
	return &Identity{Site: site, User: user, Role: role, Sender: p + user}
}

// Op is what a Request asks of a worker.
type Op uint8

// Ops.
const (
	// OpCreate makes a new conversation for a visitor; Env.Conversation
	// holds the id the caller generated.
	OpCreate Op = iota + 1
	// OpJoin subscribes the connection (OPEN with an id, JOIN, HELLO cursors).
	OpJoin
	// OpSend stores and relays a message.
	OpSend
	// OpReplay sends a page of history.
	OpReplay
	// OpEvent relays an ephemeral event.
	OpEvent
	// OpLeave unsubscribes the connection from one conversation.
	OpLeave
	// OpDrop forgets a closed connection everywhere on the shard.
	OpDrop
)

// Request travels through a shard's ring. Env is owned by the worker once
// submitted.
type Request struct {
	Op   Op
	Sink Sink
	Who  *Identity
	Env  *proto.Envelope
}
