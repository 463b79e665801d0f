// Package scenario is what the bench's connections do, in one process:
//
//   - conn: open Conns visitors (at ConnRate, at most MaxHandshakes in
//     flight), optionally each with an open conversation, and hold them
//     with heartbeats for Hold, closing and dialing again Reconnect of
//     them per second. Measures connect latency (dial to WELCOME, and to
//     TCP established) and failures by reason.
//   - relay: Pairs visitor/agent pairs, each in its own conversation (the
//     visitor OPENs it, the agent JOINs it); both sides SEND, open loop at
//     MsgRate in all (a Schedule per loop, slots at fixed times so that a
//     stall shows as latency) or closed loop (Window unacknowledged SENDs
//     per connection). Warm-up, measured window, drain.
//   - storm: connect, get welcomed, close, over and over for Duration, at
//     most Conns open at once.
//   - mqtt: Pairs topics "kefu/<site>/<device>/t", each with a publisher
//     and Fanout subscribers, all client ids of one device
//     ("<site>/<device>/pub", "<site>/<device>/sub", "…/sub-2", …) so that
//     Kefu's per-device ACL lets them talk (device tokens signed with
//     Secret; the baselines get the same names and no password). QoS 0, 1
//     or 2, retained or not, open loop at MsgRate or closed loop (Window
//     per publisher). A topic's connections share a loop.
//   - mixed: Conns idle visitors (Reconnect of them per second closing and
//     coming back) beside Pairs chatting visitor/agent pairs whose agents
//     answer every message: a conn and a relay scenario side by side.
//
// conn and storm speak MQTT too (Transport mqtt): each connection is a
// device; conn's Open subscribes it to its topics.
//
// # Measuring a message
//
// A SEND's client_msg_id is "<tag>-<k>-<t>": the sender's tag (so that
// the two senders of a conversation never share an id), its message
// number and the intended send time in pool nanoseconds (both sides of a
// pair live in one process, so one clock serves). The ACK and the peer's
// MESSAGE carry
// it back: ack latency and end-to-end latency need no per-message state. A
// message counts when t falls in the measured window. Duplicates are
// MESSAGEs whose seq is not above the highest seen on that connection;
// reordering is a sender number below the highest seen; lost is acked
// minus delivered at the end of the drain.
//
// MQTT carries the same two numbers in the payload's first 16 bytes (the
// message number and the intended send time, big-endian); duplicates and
// reordering are judged by the number, in a window of the last 64. QoS 0
// has no acknowledgement: a PUBLISH counts as acknowledged once written,
// without ack latency. A message is due once to every subscriber of its
// topic (the expected counter); lost = due − delivered.
//
// At the end of the measured window every loop serves what is still due
// and stops sending (stopSending) before the drain counts what is
// outstanding.
//
// # Goroutines and state
//
// Setup, Run and Close run on the caller's goroutine; the dialers are a
// fixed set of goroutines (Dialers); everything a connection does runs on
// its event loop (client.Handler), and per-connection state (indexed by
// Conn.Tag) is touched only there. Counters and histograms are per loop,
// atomic, and summed by Snapshot from any goroutine.
package scenario
