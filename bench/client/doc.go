// Package client is the bench's connection engine: many client
// connections on a few gnet event loops, speaking Kefu's binary frames or
// WebSocket (JSON text frames or protobuf binary frames), with no goroutine
// per connection.
//
// # What it owns
//
//   - Pool: one gnet client per event loop (so a connection's loop is known
//     when it is dialed), the dialers (one net.Dialer per source address,
//     with IP_BIND_ADDRESS_NO_PORT so that each 127.0.0.x source brings its
//     own ephemeral port range), and a ticker per loop.
//   - Conn: the handshake state machine (below), heartbeats (a ping after
//     Options.Heartbeat of silence; pings from the server are answered),
//     client-side timeouts (handshake, idle), and a close reason for every
//     connection.
//   - The codecs, each an append-style encoder or an incremental decoder:
//     AppendEnvelope / AppendProto / AppendJSON for requests, ParseProto /
//     ParseJSON for the server's envelopes (they read only what the bench
//     needs, without allocating), AppendMasked / DecodeServerFrame and the
//     upgrade request/response for WebSocket.
//
// The handshakes:
//
//	WebSocket: dial → GET /ws (Sec-WebSocket-Key) → 101, Accept checked → HELLO → WELCOME → ready
//	frame:     dial → HELLO (the first frame is the preface)             → WELCOME → ready
//
// A client frame (RFC 6455 §5.2) is always masked:
//
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|0|0|0| opcode|1| Payload len |  extended length (0/16/64)   |
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|  masking key (4 bytes)        |  payload XOR key (cycled)     |
//	+-------------------------------+-------------------------------+
//
// Requests are encoded after MaxClientHeader reserved bytes, then the real
// header is written in place and the payload moved left once and masked,
// so a request is encoded once.
//
// # Goroutines
//
// Every Handler method runs on the event loop that owns the connection,
// and so do functions given to Loop.Exec. Conn methods (Send, Close, …)
// may only be called there. Pool.Dial runs on any goroutine; it blocks for
// the TCP connect and hands the connection to its loop. Pool.Close runs
// once, after the dials have returned.
//
// # Who owns which bytes
//
// Each loop has one scratch buffer for outbound frames: gnet's Conn.Write
// copies what it cannot send at once, so the buffer is reused right away.
// A Msg handed to Handler.Message aliases the connection's inbound bytes
// (and the loop reuses the Msg): copy what must outlive the call.
//
// # Close reasons
//
// Closed reports one label per connection: client_close (ours),
// handshake_timeout, idle_timeout, eof (the server closed), goaway (closed
// after a GOAWAY), reset, io_error, write_error, upgrade_<status>,
// upgrade_accept, upgrade_bad, hello_<code> (ERROR reply to HELLO),
// ws_close_<code> (close frame from the server), ws_protocol,
// frame_protocol, bad_payload. Dial errors are labelled by DialReason.
package client
