// Package bridge makes MQTT devices visitors in customer-service
// conversations (docs/protocol-mqtt.md, "The conversation bridge"). It
// owns, per device, the device's current conversation, the cursor of what
// was forwarded to it, the shard subscription that feeds it, and the
// device records in storage table 'b'.
//
//	device ── PUBLISH kefu/<site>/<device>/up ──► mqtt.Client (event loop)
//	                                               │ Bridge.Take: validate, OpCreate / OpSend
//	                                               ▼
//	                          shard ring ──► worker: commit ──► device.Write (worker goroutine)
//	                                                              │ ACK  ──► Ticket.Ack ──► Conn.Wake ──► PUBACK / PUBREC
//	                                                              │ MESSAGE from others ──► Broker.Publish .../down (QoS 1)
//	                                                              │ EVENT, JOINED ──► Broker.Publish .../events (QoS 0)
//	                                                              ▼
//	                                               writer goroutine: 'b' records (conversation, cursor)
//
// # Topics
//
//	kefu/<site>/<device>/up      device → Kefu   a message (UTF-8 text; MQTT 5 content type
//	                                             application/json: a JSON envelope)
//	kefu/<site>/<device>/down    Kefu → device   MESSAGEs of others (agents, system), JSON, QoS 1, seq order
//	kefu/<site>/<device>/events  both ways       EVENT envelopes (typing, read, queue), JSON, relayed
//
// The bridge claims up and events (and refuses device PUBLISHes to down
// with 0x87): they are not routed to MQTT subscribers. It publishes down
// and events through the Broker, so that every session subscribed to them
// gets them, and persistent sessions queue them while offline.
//
// # A device's conversation
//
// The first up opens a conversation (OpCreate, then the message, in the
// same ring: no round trip); the device's record (conversation, cursor) is
// written by the writer goroutine, and the acknowledgements of messages in
// a new conversation wait until the record is committed, so that an
// acknowledged message is always found again through the device. A SEND
// answered NOT_FOUND or FORBIDDEN (the conversation is gone or closed)
// opens a new conversation and is sent there, once.
//
// Each device is one shard.Sink (ID with the top bit set, apart from
// connection ids; Format wire.FormatJSON). It is subscribed to the current
// conversation while a device may listen: live. When a MESSAGE for down
// matches no subscription (Publish returns 0: no session of the device
// subscribes to down, e.g. a clean session went away) the sink leaves the
// conversation (idle) and the cursor stays where it was. The broker's
// Bridge.Active (an accepted CONNECT, a granted SUBSCRIBE) joins it again:
// JOINED says the last committed seq, and what lies between the cursor and
// it is replayed from the log, page by page (Options.ReplayPage), at most
// Options.MaxCatchUp messages (older ones are skipped and said so with an
// EVENT "skipped" on events, whose seq is the last one skipped).
//
// Forwarding is strictly in seq order: a MESSAGE is published only when
// its seq is cursor+1 (the device's own messages, whose ACK or replay
// advances the cursor, are not forwarded); a later one means a gap, which
// a REPLAY fills. The cursor is the last seq handed to the broker; it is
// persisted (coalesced, Options.FlushInterval) and survives restarts.
//
// # Acknowledgements
//
// A QoS 1 up is acknowledged with PUBACK after the message is committed
// (the shard's ACK); a QoS 2 one with PUBREC after the commit (PUBREL and
// PUBCOMP follow at once). Resends of a packet that is held or was just
// acknowledged are answered by engine/mqtt and never reach the bridge
// twice; every taken message carries a client_msg_id: the MQTT 5 user
// property client_msg_id or the envelope's when given, otherwise the
// broker's per-publication key, so that the shard de-duplicates a retry
// like any other client's. Refusals: 0x97 (body too large, server busy),
// 0x99 (invalid UTF-8, bad JSON envelope), 0x83 (bad client_msg_id), 0x87
// (the conversation refused the device), 0x80 (other failures); MQTT
// 3.1.1 devices get a plain acknowledgement and the refusal is counted
// (kefu_mqtt_bridge_rejected_total{reason}).
//
// # Goroutines and locks
//
// Claims, Take and Active run on event loops (the device's connection);
// Write runs on shard workers, possibly two at once (an old and a new
// conversation); the writer goroutine persists records. A device's state
// is guarded by its mutex, held for the bookkeeping of one call and never
// across I/O; the Router.Submit and Broker.Publish calls made under it
// never block. Lock order: device, then the broker's locks (Publish,
// Ticket.Ack), then the writer's. The device map has its own read-write
// lock, taken alone.
//
// # Buffers
//
// The Inbound of Take aliases the connection's read buffer: the body and
// ids are copied into the request's strings. The bytes a worker writes are
// immutable and shared: a MESSAGE or EVENT is published with its JSON as
// the payload, without a copy (mqtt.Message is immutable too). JOINED is
// decoded and re-encoded without its request id.
package bridge
