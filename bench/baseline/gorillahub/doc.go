// Package gorillahub is the baseline Kefu is measured against: a
// WebSocket relay in the goroutine-per-connection style of
// gorilla/websocket's chat example, speaking the same JSON protocol subset
// the bench uses (HELLO/WELCOME, OPEN/JOINED, JOIN/JOINED,
// SEND/ACK/MESSAGE), in memory, without persistence.
//
//	            ┌──────────── per connection ────────────┐
//	socket ──►  │ readPump goroutine: ReadMessage, decode │ ──► hub.inbound ─┐
//	            └─────────────────────────────────────────┘                  │
//	                                                         hub goroutine ◄─┘
//	                                                         (conversations,
//	                                                          seq, fan-out)
//	            ┌─────────────────────────────────────────┐                  │
//	socket ◄──  │ writePump goroutine: WriteMessage, ping │ ◄── client.send ◄┘
//	            └─────────────────────────────────────────┘   (buffered chan)
//
// Each connection costs two goroutines, gorilla's read and write buffers
// and a buffered channel; one hub goroutine owns every conversation, so
// there are no locks. A client whose send channel is full is dropped, as
// in the example. Envelopes are decoded and encoded with the project's
// JSON codec (proto.UnmarshalJSON, proto.AppendJSON), so that a comparison
// with Kefu measures the architecture, not the codec. It checks no token
// and stores nothing: an acknowledged message lives only as long as the
// process.
//
// Goroutines: Start runs the HTTP server and the hub; every other method
// is safe for concurrent use.
package gorillahub
