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
	// Trust is how a visitor proved its id (TrustAnonymous, TrustVerified,
	// TrustDevice); a conversation is its visitor's only at the same trust.
	Trust uint8
}

// Visitor trust levels (proto.Conversation.visitor_trust).
const (
	TrustAnonymous uint8 = iota // an id the client keeps; anyone may claim it
	TrustVerified               // signed by the site's backend (HMAC token)
	TrustDevice                 // an MQTT device authenticated by its token
)

// WithTrust returns a copy of id with the given visitor trust.
func (id *Identity) WithTrust(t uint8) *Identity {
	c := *id
	c.Trust = t
	return &c
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
	// OpClose closes a conversation (visitor or agent), on its shard.
	OpClose
	// OpRate rates a closed conversation (its visitor), on its shard.
	OpRate
	// OpRouted applies a routing decision to a conversation, on its shard
	// (sent by the desk): Env.Event is "assigned", "queued", "position",
	// "restored" or "refused"; Env.Agent, Env.Group, Env.Position,
	// Env.Sender (the agent it was transferred from), Env.Body (the
	// agent's display name) and Env.Status (the routing reason) describe it.
	OpRouted

	// Desk ops (Router.SubmitDesk).

	// OpConnect: an agent's connection said HELLO (presence).
	OpConnect
	// OpDisconnect: an agent's connection is gone.
	OpDisconnect
	// OpStatus: an agent sets its status (Env.Status).
	OpStatus
	// OpClaim: an agent takes Env.Conversation, or the longest waiting
	// conversation of its groups when empty.
	OpClaim
	// OpTransfer: move Env.Conversation to Env.Agent or Env.Group.
	OpTransfer
	// OpRoute: a created conversation asks for an agent (from its shard,
	// after the commit): Who is the visitor, Env.Tags its tags.
	OpRoute
	// OpClosed: a conversation was closed (from its shard, after the
	// commit): its agent's place frees.
	OpClosed
	// OpFunc runs Fn on the desk goroutine.
	OpFunc
)

// Request travels through a shard's ring. Env is owned by the worker once
// submitted.
type Request struct {
	Op   Op
	Sink Sink
	Who  *Identity
	Env  *proto.Envelope
	// Fn is OpFunc's work.
	Fn func(*Desk)
}
