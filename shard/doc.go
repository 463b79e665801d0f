// Package shard owns conversations: it orders their messages, assigns the
// gap-free seq, de-duplicates resends, commits to the log and fans committed
// messages out to every subscribed connection.
//
//	event loops ──Submit──► ring[hash(conversation) % N] ──► worker goroutine
//	(any number)            (bounded MPSC, never blocks)     (one per shard)
//	                                                            │ stage in a reused batch
//	                                                            │ commit once per drain (group commit)
//	                                                            ▼
//	                                       ACK to the sender, MESSAGE to subscribers,
//	                                       gathered per connection, one Sink.Write each
//
// Ownership and goroutines:
//   - Router.Submit may be called from any goroutine; it never blocks and
//     returns false when the shard's ring is full (the caller answers BUSY).
//   - Everything else in a worker (its conversations, their subscribers,
//     de-duplication windows, the storage batch) belongs to that worker's
//     goroutine alone; there are no locks on the message path.
//   - A conversation lives on exactly one shard, so its seq is assigned by
//     one goroutine: totally ordered and gap-free.
//   - A message is acknowledged only after the batch that holds it is
//     committed under the store's durability (sync: fsync'd).
//   - Bytes handed to Sink.Write are immutable and shared between
//     connections; a Sink may keep them until written, but not the [][]byte
//     slice that holds them, which the worker reuses.
//
// Customer service (routing enabled, the default):
//
//	visitor OPEN ──► shard: create (state queued) ──commit──► desk: Route
//	desk (one goroutine: shard/routing.Router, agent presence)
//	   ├─► shard OpRouted: state open/queued, stored system message,
//	   │   queue position EVENT ──► visitor
//	   └─► NOTICE / STATUS ──► the agent's connections
//	CLOSE ──► shard: closed + system message ──commit──► desk: Close
//	          (the agent's place frees; its groups' queues drain)
//	CLAIM / TRANSFER / STATUS / agent connect and disconnect ──► desk
//
// The desk is reached only through its ring (Router.SubmitDesk, Desk
// methods); shards tell it about committed changes after their writes, so
// a requester sees its reply before the notices its request caused. A
// conversation's record (state, agent, group, read cursors, rating) is
// rewritten in the same group commit as the change; messages do not
// rewrite it.
//
// The package must never block an event loop, never hold a lock across I/O
// and never keep a connection's read buffer.
package shard
