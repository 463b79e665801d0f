// Package kefu is the Go client of a Kefu server, over the binary TCP frame
// protocol (docs/protocol-frame.md) or WebSocket (JSON text frames with
// subprotocol kefu.json, or protobuf binary frames with kefu.proto). The
// server's tests and the load generator (bench, cmd/kefu-bench) use it, and
// so can any Go program that chats with Kefu.
//
//	c, err := kefu.Dial(ctx, kefu.Options{Addr: "127.0.0.1:7100", Site: "demo", User: "v1"})
//	p, err := c.Open(ctx, "", 0)                     // new conversation
//	ack, err := c.Send(ctx, p.End.Conversation, "", "hello")
//	for m := range c.Messages() { ... }              // MESSAGE, EVENT, GOAWAY, ...
//
// # Requests, replies and pushes
//
// Every request carries a fresh request id (a u32 counter from 1 that skips
// 0, so that both transports carry it in full). The server echoes it in the
// reply (WELCOME, JOINED, ACK, REPLAY_END or ERROR; PONG for a frame PING),
// and replies are matched by id, so any number of requests may be in flight
// from any number of goroutines, answered in any order:
//
//	caller goroutines                    reader goroutine (one per Client)
//	  Send ─┐  register id 7 ─► pending{7,8,9}  ◄─ ACK id 8 ─┐
//	  Send ─┼─► write (mutex) ─► socket ─► server ─► socket ─┼─ MESSAGE ─► collector or push
//	  Join ─┘  register id 9 ─► collectors[c1]   ◄─ JOINED 9 ┘
//
// MESSAGEs always carry id 0. While an OPEN, JOIN or REPLAY of a named
// conversation is pending, the MESSAGEs of that conversation belong to the
// oldest such request and are returned in its Page (the server sends a
// page's MESSAGEs before its JOINED or REPLAY_END, in seq order); live
// messages arriving in that window are returned there too.
//
// Everything else the server sends is pushed, in arrival order, to
// Options.OnMessage or the Messages channel: MESSAGE and EVENT of
// subscribed conversations, GOAWAY, and replies whose id matches no pending
// request — the JOINED and ERROR answering HELLO cursors (they carry the
// HELLO's id, after WELCOME), ERRORs for Event and Leave, and replies that
// came after their request gave up. Pushed envelopes are new values the
// receiver owns.
//
// # Connection end
//
// The connection ends when Close is called, when the server closes it (TCP
// end, WebSocket close frame), when a read or write fails, or when the
// server violates the protocol. Then Done is closed, Err says why, every
// pending request fails with that error (SendAsync callbacks are called with
// it), new requests fail at once, and the Messages channel is closed. GOAWAY
// does not end the connection by itself: the server still answers what it
// has read, and refuses new requests with CODE_DRAINING, until it closes;
// Err then has ErrGoAway in its chain.
//
// Heartbeats are answered by the reader: a frame PING with a PONG carrying
// its id, a WebSocket ping with a pong carrying its data (RFC 6455 §5.5.2).
//
// # Goroutines and buffers
//
// A Client runs one reader goroutine, started by Dial and ended by the
// connection's end; Close returns after it has exited. Writes from all
// goroutines are serialized by a mutex and encoded into one reused buffer
// (frame header reserved in front of the protobuf payload; WebSocket header
// written in front of the masked payload), and the methods build their
// requests in a reused envelope, so a write does not allocate; a request
// allocates its call record (a synchronous one also its wait and result,
// and a generated client_msg_id its string). The
// reader decodes each frame from its read buffer into a new Envelope
// (strings copied), which is what callers receive. Buffers grown past
// 64 KiB by a big message are dropped after it.
//
// OnMessage and SendAsync callbacks run on the reader goroutine: they must
// not block for long nor wait for a reply of the same Client, which only
// the reader can deliver; they may call SendAsync, Event and Close. While
// the Messages channel is full the reader waits (back-pressure to the
// socket), and replies behind it wait too.
//
// Request timeouts: a request whose context has no deadline fails with
// ErrTimeout after Options.RequestTimeout; a SendAsync call is failed by a
// per-client sweep timer after the same time. Each write has a deadline of
// RequestTimeout; a write that fails ends the connection.
package kefu
