// Package mqtt is the protocol core of Kefu's MQTT 3.1.1 and 5.0 broker,
// independent of the reactor: the per-connection state machine (Client)
// and the state shared by all connections (Broker: subscriptions, retained
// messages, sessions and their timers). The engine feeds it decoded
// packets (codec/mqtt) and writes what it returns; nothing here does I/O,
// starts a goroutine or blocks on another client.
//
//	engine loop A (publisher)                      engine loop B (subscriber)
//	─────────────────────────                      ──────────────────────────
//	bytes ─► codec.Decode ─► Client.HandlePacket
//	           PUBLISH ─► Broker.route ─► index.match (read lock, no allocation)
//	                         └─► session.enqueue (session lock; bounded) ─► Conn.Wake ──┐
//	           ◄─ Actions{Out: PUBACK}                                                 │
//	                                                   Client.Drain ◄──────────────────┘
//	                                                     in-flight window, packet ids,
//	                                                     topic aliases ─► Actions{Out: PUBLISH}
//
// # Concurrency
//
// A Client belongs to its connection's event loop: HandlePacket,
// DecodeError, Drain, Disconnect, Release and Closed are called by that
// loop only, one at a time. Its protocol state (topic aliases, keep alive,
// will, output buffer) is touched by nobody else. Goodbye, KeepAlive and
// Version may be called from any goroutine (the engine's ticker).
//
// Everything that outlives a connection or is reached from other loops is
// shared, behind small locks held for a few hundred nanoseconds and never
// across I/O or a call into the engine:
//
//   - the subscription index: a trie under a read-write lock; matching a
//     published topic takes the read lock and allocates nothing (the caller
//     lends the result slice); SUBSCRIBE and UNSUBSCRIBE take the write lock.
//   - retained messages: a second trie under its own read-write lock.
//   - each session: a mutex over its subscriptions, queued and in-flight
//     deliveries, inbound QoS 2 state and delayed will. The owning loop
//     holds it to send and acknowledge; other loops hold it to enqueue.
//   - the session registry and the expiry timers: the Broker mutex, taken
//     on CONNECT, on close and by Tick.
//
// Lock order is Broker.mu, then a session's mutex, then the index or the
// retained store; route matches under the index lock, releases it, then
// enqueues session by session. Conn.Wake, the Store and the
// Authenticator/Authorizer are called without a lock held (except Store
// writes of snapshots, made after the locks are released).
//
// Delivery to another client never blocks its publisher: enqueue appends to
// the session's queue (bounded by Options.MaxQueued) and wakes the owner's
// loop once until it drains. A connected client whose queue is full is
// kicked as a slow consumer (MQTT 5: DISCONNECT 0x97); an offline session
// drops what does not fit and QoS 0 altogether. There is no other queue and
// no goroutine: the only time-driven work (delayed wills, session expiry)
// runs in Broker.Tick, called by the engine's ticker.
//
// # Protocol
//
// MQTT 3.1.1 (level 4) and 5.0 (level 5): QoS 0, 1 and 2 both ways with
// packet identifier allocation, in-flight windows (the client's Receive
// Maximum, Options.MaxInflight), resend with DUP and PUBREL resend on
// resumption, QoS 2 receiver state (method B: deliver on PUBLISH, remember
// the id until PUBREL) that survives a disconnect; retained messages (set,
// replace, delete with an empty payload; retain handling 0/1/2; retain as
// published); wills with the MQTT 5 will delay; session takeover (0x8E);
// persistent sessions (clean session 0, session expiry) with a bounded
// queue; '+' and '#' wildcards, '$' topics kept from leading wildcards,
// shared subscriptions ($share/group/filter, round robin over connected
// members), no local, subscription identifiers; topic aliases both ways;
// message expiry; maximum packet size both ways; user properties, content
// type, response topic and correlation data passed through. Enhanced
// authentication (AUTH) is not supported: a CONNECT with an authentication
// method is refused with 0x8C.
//
// Authentication and authorization are the Authenticator and Authorizer
// interfaces declared here; persistence is the Store interface
// (MemoryStore for tests; PebbleStore, pebble_store.go, in the server).
//
// # Bridge
//
// Options.Bridge (engine/bridge: devices in conversations) claims the
// PUBLISHes of some topics: they are neither routed nor retained, and the
// bridge decides their acknowledgement. A QoS 1 or 2 one is held: the
// Client records it in the session (packet id, payload checksum, a ticket
// number) before calling Bridge.Take, which may acknowledge at once or
// keep the Ticket and call Ticket.Ack later from any goroutine (a shard
// worker, after the commit). Ack marks the held entry and wakes the loop
// of the connection the PUBLISH arrived on; Drain writes the PUBACK, or
// the PUBREC after which the packet id waits for PUBREL as usual. A
// resend of a held packet (same id and payload) is never taken twice: it
// moves the pending acknowledgement to its connection, or is answered at
// once when the bridge has acknowledged already; the last QoS 1
// acknowledgements are remembered so that a DUP resend after a lost
// PUBACK is answered too. Held PUBLISHes count towards the Receive
// Maximum of MQTT 5 clients, and end with the session. Bridge.Active
// tells the bridge of accepted CONNECTs and granted SUBSCRIBEs. The
// bridge's methods run on the client's loop with no broker lock held;
// Ticket.Ack takes the session's mutex, so a bridge may call it under its
// own locks.
//
// # Buffer ownership
//
// The packet given to HandlePacket aliases the connection's read buffer:
// the Client copies what it keeps (a Message's topic, payload and
// properties, subscription filters, the will, the client identifier) and
// keeps nothing else. Actions.Out is the Client's output buffer, borrowed
// from Options.Pool: valid until the next call on the Client; Release
// hands it back so that an idle connection holds none. Messages are
// immutable once routed and shared by every session they reach.
package mqtt
