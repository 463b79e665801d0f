// Package engine is the reactor: it owns every client connection, on a few
// gnet event loops, with no goroutine per connection.
//
//	accept ─► OnOpen: small *conn as the gnet context, deadline in the wheel
//	bytes  ─► OnTraffic: Peek(-1) ─► sniff (auto) ─► ws upgrade | ws decode | frame decode | mqtt decode
//	                     ─► envelope ─► HELLO: authenticate on the loop
//	                                  ─► others: Router.SubmitTo(shard)  (never blocks;
//	                                     a full ring is answered BUSY)
//	                     ─► MQTT packet ─► mqtt.Client.HandlePacket ─► write Actions.Out, close?
//	                     ─► Discard(consumed)  (every complete frame, every time)
//	workers ─► conn.Write ─► AsyncWrite/AsyncWritev (outbound limit ─► slow-consumer close)
//	broker  ─► conn.Wake ─► OnTraffic (empty) ─► mqtt.Client.Drain ─► write on the loop
//	ticker  ─► OnTick: timing wheel ─► handshake timeout, ping, idle timeout / MQTT keep
//	           alive, drain goodbyes; mqtt.Broker.Tick about once a second
//
// Goroutines and ownership:
//   - Event loops own a conn's protocol state (state, decoder, identity,
//     shard mask). Bytes from Peek are valid until Discard; decoders alias
//     them and the envelope decoders copy what outlives the call.
//   - Workers and the ticker only call conn.Write, conn.Closed and the
//     close helpers, which use gnet's concurrency-safe AsyncWrite and Close.
//   - The ticker goroutine (gnet's OnTick) owns the timing wheel. Event
//     loops register connections through the wheel's lock-free queue;
//     activity is an atomic timestamp, so deadlines are checked lazily.
//
// The engine must never block an event loop (no disk, no locks held across
// I/O, no channel send that can wait) and must keep no buffer for an idle
// connection. Every close is counted by reason; a panic while handling one
// connection closes that connection only.
//
// MQTT (conn_mqtt.go, traffic_mqtt.go; docs/protocol-mqtt.md): an MQTT
// connection (sniffed 0x10, an mqtt listener, or WebSocket with subprotocol
// "mqtt" or path /mqtt) carries a *mqtt.Client, owned by its loop. The loop
// decodes packets with codec/mqtt, hands them to the Client and writes what
// it returns with gnet's on-loop Write (over WebSocket, one binary message
// per Out), releasing the Client's output buffer at once; other goroutines
// reach the connection only through conn.Wake, coalesced behind an atomic
// flag. Goodbyes (MQTT 5 DISCONNECT 0x8B, 0x8D, 0x97) are written on the
// loop like every other goodbye.
//
// The HTTP side (HTTPServer) serves /metrics, /livez, /readyz and, when
// enabled, /debug/pprof on its own port with net/http.
package engine
