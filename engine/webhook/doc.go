// Package webhook is Kefu's durable webhook outbox: per-site endpoints
// subscribed to event types, events staged in the same storage batch as the
// change that caused them, and one delivery worker that POSTs signed JSON
// with retries, exponential backoff with jitter, and a dead-letter table.
//
// # Flow
//
//	caller (shard worker, HTTP handler)        worker goroutine      N senders
//	  Enqueue(batch, ev) ── stages 'o'|'p' records
//	  batch.Commit()      ── durable with the change
//	  Notify() ─────────────────────────────▶ scan due records ──jobs──▶ POST
//	                                          (bounded: ≤ 2N in flight)  │
//	                         delete / reschedule / dead-letter ◀─results─┘
//
// Delivery is at least once: an event is retried until a 2xx answer is
// recorded, so a receiver may see an event id twice (for instance when the
// process stops between the receiver's answer and the commit that deletes
// the record) and must de-duplicate on Kefu-Event-Id.
//
// # Goroutines
//
// An *Outbox is safe for concurrent use. SetEndpoints, Endpoints, Enqueue
// (with the caller's own batch), Notify, DeadLetters and Retry may be called
// from any goroutine, before Start and after Stop too. Start runs one
// worker goroutine and Options.Concurrency sender goroutines; there is no
// goroutine per delivery. The worker alone scans the pending table and
// writes delivery outcomes, through one *storage.Batch it owns; senders only
// make HTTP requests and hand results back over a channel sized so they
// never block. Retry writes through its own batch under a mutex. Stop
// cancels requests in flight (a cancelled attempt does not count), waits for
// every goroutine and must come before the store's Close.
//
// # Buffers
//
// Enqueue marshals ev.Data at once and copies everything into the batch;
// the caller keeps its values. Endpoints are copied in and out. DeadLetter
// values are the caller's.
//
// # Key layout (under storage.TableOutbox, 'o')
//
// A string component is storage.AppendComponent: uvarint(len) | bytes.
// Site keys and event ids are 1..64 bytes, endpoint ids 1..64 bytes.
//
//	pending    'o' | 'p' | due | comp(site) | comp(event id) | comp(endpoint id)
//	           +----+----+----------------------+------------+-----------+-----------+
//	           | 6f | 70 | due, u64 big-endian  | len | site | len | id  | len | ep  |
//	           +----+----+----------------------+------------+-----------+-----------+
//	             1    1    8 (Unix nanoseconds)
//
//	dead       'o' | 'd' | comp(site) | comp(event id) | comp(endpoint id)
//	           +----+----+------------+-----------+-----------+
//	           | 6f | 64 | len | site | len | id  | len | ep  |
//	           +----+----+------------+-----------+-----------+
//
// Pending keys sort by due time, so a scan from 'o'|'p' meets due records
// first; one event enqueued for two endpoints is two records with the same
// event id. Dead letters of a site are one contiguous range ('o'|'d'|
// comp(site)), of one event a sub-range, which DeadLetters and Retry scan.
// A retry moves a record from one key to another in one atomic batch
// (delete old, put new), so a record is always in exactly one place. The
// value of both is a JSON record: site, event id, endpoint id, type,
// created, attempts, last attempt/status/error, and the exact body.
//
// # Wire format of a delivery
//
//	POST <endpoint URL>
//	Content-Type: application/json
//	Kefu-Event-Id: evt_5f0c…            same on every attempt and endpoint
//	Kefu-Event-Type: message.created
//	Kefu-Timestamp: 1767323045          Unix seconds of this attempt
//	Kefu-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>
//
//	{"id":"evt_5f0c…","type":"message.created","site":"acme",
//	 "created_at":"2026-01-02T03:04:05Z","data":{…}}
//
// The body bytes are fixed at Enqueue; only the timestamp and signature
// change between attempts.
//
// # Verifying a delivery (receiver side)
//
//  1. Read the raw body bytes, before any JSON parsing.
//  2. Reject the request if Kefu-Timestamp is more than 5 minutes from your
//     clock (replay protection).
//  3. Compute hex(HMAC-SHA256(secret, Kefu-Timestamp + "." + body)) with the
//     timestamp header exactly as received, prefix "v1=", and compare it with
//     Kefu-Signature in constant time (hmac.Equal, crypto.timingSafeEqual,
//     hash_equals, secrets.compare_digest).
//  4. Skip the event if Kefu-Event-Id was already processed; answer 2xx.
//
// Verify implements steps 2 and 3 for Go receivers.
//
// # Retries
//
// Any answer other than 2xx, a transport error or the per-attempt timeout
// (Options.Timeout, 10s) is a failure. After the n-th failure the record is
// due again after a delay drawn from [d/2, d) with d = min(BackoffMax,
// BackoffBase·2^(n-1)) (defaults 1s and 10m); after MaxAttempts (8) failures
// it moves to the dead letters, where DeadLetters lists it and Retry moves it
// back to pending with a fresh budget. A redirect is followed only to the
// same scheme and host, at most 3 times; a redirect elsewhere is the
// attempt's (failed) answer. Deliveries for an endpoint id that is no longer
// configured fail the same way. Nothing here blocks requests to private
// addresses: endpoints are set by site admins, and a deployment that must
// prevent server-side request forgery filters at the network layer.
//
// # Restart
//
// Pending records are the only state. A new Outbox over the same store, once
// its endpoints are set and it is started, picks up every pending record,
// with its attempt count and due time, on its first scan.
//
// # Metrics
//
// With Options.Registerer set: kefu_webhook_deliveries_total{result="ok",
// "retry","dead"}, kefu_webhook_delivery_duration_seconds (5ms..10s), and
// kefu_webhook_pending (records in the outbox at the last scan). Stop
// unregisters them.
package webhook
