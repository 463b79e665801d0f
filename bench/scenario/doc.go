// Package scenario is what the bench's connections do, in one process:
//
//   - conn: open Conns visitors (at ConnRate, at most MaxHandshakes in
//     flight), optionally each with an open conversation, and hold them
//     with heartbeats for Hold. Measures connect latency (dial to WELCOME,
//     and to TCP established) and failures by reason.
//   - relay: Pairs visitor/agent pairs, each in its own conversation (the
//     visitor OPENs it, the agent JOINs it); both sides SEND, open loop at
//     MsgRate in all (a Schedule per loop, slots at fixed times so that a
//     stall shows as latency) or closed loop (Window unacknowledged SENDs
//     per connection). Warm-up, measured window, drain.
//   - storm: connect, get welcomed, close, over and over for Duration, at
//     most Conns open at once.
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
// # Goroutines and state
//
// Setup, Run and Close run on the caller's goroutine; the dialers are a
// fixed set of goroutines (Dialers); everything a connection does runs on
// its event loop (client.Handler), and per-connection state (indexed by
// Conn.Tag) is touched only there. Counters and histograms are per loop,
// atomic, and summed by Snapshot from any goroutine.
package scenario
