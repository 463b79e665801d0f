// Package client is the bench's connection engine: many client
// connections on a few gnet event loops, speaking Kefu's binary frames,
// WebSocket (JSON text frames or protobuf binary frames) or MQTT 3.1.1 and
// 5 over TCP, with no goroutine per connection.
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
//     upgrade request/response for WebSocket. MQTT packets are the
//     project's codec/mqtt (mochi's packets.Packet values): Decode frames
//     and validates every packet the server sends, AppendPacket /
//     AppendAck encode ours; publishing and answering do not allocate.
//   - MQTT's protocol state (mqtt.go): the QoS 1 and 2 flows in both
//     directions, answered by the connection itself (PUBACK, PUBREC,
//     PUBREL, PUBCOMP), a QoS 2 message received once per packet
//     identifier until its PUBREL, the packet identifiers in flight in a
//     power-of-two table (one probe per acknowledgement), the server's
//     Receive Maximum and Server Keep Alive, PINGREQ as the heartbeat.
//
// The handshakes:
//
//	WebSocket: dial → GET /ws (Sec-WebSocket-Key) → 101, Accept checked → HELLO → WELCOME → ready
//	frame:     dial → HELLO (the first frame is the preface)             → WELCOME → ready
//	MQTT:      dial → CONNECT (keep alive 1.5 × Heartbeat)               → CONNACK 0 → ready
//
// An MQTT exchange that takes a packet identifier, as the client sees it:
//
//	Publish QoS 1:  PUBLISH →            ← PUBACK              Acked(Puback)
//	Publish QoS 2:  PUBLISH → ← PUBREC   PUBREL → ← PUBCOMP    Acked(Pubcomp)
//	Subscribe:      SUBSCRIBE →          ← SUBACK              Acked(Suback)
//	received QoS 1: ← PUBLISH  PUBACK →                        Received
//	received QoS 2: ← PUBLISH  PUBREC →  ← PUBREL  PUBCOMP →   Received (once)
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
// A Msg handed to Handler.Message, and a Publish handed to
// MQTTHandler.Received, alias the connection's inbound bytes (and the loop
// reuses them): copy what must outlive the call. Publish and Subscribe
// copy their topic and payload into the loop's scratch buffer before they
// return.
//
// # Close reasons
//
// Closed reports one label per connection: client_close (ours),
// handshake_timeout, idle_timeout, eof (the server closed), goaway (closed
// after a GOAWAY), reset, io_error, write_error, upgrade_<status>,
// upgrade_accept, upgrade_bad, hello_<code> (ERROR reply to HELLO),
// ws_close_<code> (close frame from the server), ws_protocol,
// frame_protocol, bad_payload; MQTT: connack_0xNN (a refused CONNECT:
// 0x04/0x86 credentials, 0x05/0x87 not authorized, …), disconnect_0xNN
// (an MQTT 5 DISCONNECT from the server), mqtt_<reason> (a malformed
// packet, with codec/mqtt's metric label), mqtt_protocol (a packet a
// server must not send). Dial errors are labelled by DialReason.
package client
