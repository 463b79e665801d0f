// Package longpoll is the HTTP long-poll transport (mounted at /lp/v1/ on
// the HTTP listener): for browsers and networks where WebSocket cannot get
// through. A session speaks the WebSocket JSON protocol
// (docs/protocol-ws.md) — same envelopes, cursors, acks, de-duplication and
// limits — one HTTP request at a time:
//
//	POST /lp/v1/connect   body: HELLO                 → 200 {"session":"<key>","envelopes":[welcome,…],"next":n}
//	                                                    401 {"envelopes":[error]} (refused HELLO)
//	POST /lp/v1/send      X-Kefu-Session: <key>
//	                      body: envelope | [envelope,…] → 202 {}      (replies come through poll)
//	GET  /lp/v1/poll?ack=<n>&wait=<s ≤ 30>
//	                      X-Kefu-Session: <key>       → 200 {"envelopes":[…],"next":n}
//	POST /lp/v1/close     X-Kefu-Session: <key>       → 200 {}
//	errors: 400 bad_request, 403 forbidden (Origin), 404 not_found (session),
//	        405, 413 too_large, 503 busy | draining:  {"error":{"code":"…","message":"…"}}
//
// The outbox. Envelopes queued for a session are numbered 1, 2, 3, … A
// poll with ack=n drops those up to n and answers with what follows (next
// = the number of the last one sent), at once when something is queued,
// else as soon as something is, else empty after wait. The client passes
// the next it last processed, so an answer lost in transit is sent again
// by the following poll; it de-duplicates by (conversation, seq) as on
// WebSocket. One poll per session at a time: a second one answers the
// first at once, empty. What connect answers counts as delivered.
//
//	Write (workers) / Reply (engine) ─► outbox [first … last] ─► wake the poll
//	poll ack=n ─► drop ≤ n ─► answer first … (≤ 1 MiB) ─► next
//
// Goroutines and ownership:
//   - net/http runs one goroutine per request; they call Server methods,
//     the engine's HandlePeer (which runs the envelope on that goroutine,
//     as a loop runs a connection's) and DropPeer.
//   - Shard workers and the routing desk call session.Write and Closed;
//     the engine calls Reply from the request goroutine. A mutex per
//     session guards the outbox; nothing blocks under it.
//   - A session is a shard.Sink of format wire.FormatJSON: each buffer
//     handed to Write is one bare JSON envelope, immutable and shared with
//     other sinks. The outbox keeps the buffers themselves (no copy) until
//     acknowledged; it never keeps the [][]byte. Reply encodes into a
//     fresh buffer that the outbox then owns.
//   - Request bodies and answers use pooled buffers owned by the request's
//     goroutine; envelopes decoded from a body do not alias it.
//   - One reaper goroutine (a ticker, every Options.Tick) ends the sessions
//     nobody polled for Options.SessionTimeout and the ones closed as slow
//     consumers: there is no timer per session. A waiting poll has its own
//     timer for its wait, on its request goroutine.
//
// Limits: a body of at most MaxBodyBytes (gateway.max_frame_bytes) and
// MaxBatch envelopes; MaxSessions sessions; a wait of at most 30 s; at
// most OutboundLimit unacknowledged bytes per session, past which it is
// closed as a slow consumer (a waiting poll gets GOAWAY busy, the next
// request 404). Every request with an Origin header is a browser's and
// must come from an origin allowed for the session's site (403 otherwise;
// preflights are answered for any origin, the request itself is checked);
// requests without Origin are native clients and allowed. Refusals are
// counted in kefu_longpoll_requests_rejected_total{reason}, polls in
// kefu_longpoll_polls_total{result}, open sessions in kefu_longpoll_sessions.
package longpoll
