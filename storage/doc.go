// Package storage is Kefu's durable message log: one Pebble database holding
// messages, conversation records and the client_msg_id dedup index, with
// tables reserved for sites, MQTT sessions, retained messages and the webhook
// outbox. Values are opaque bytes (the proto package encodes them); this
// package never decodes a value.
//
// # Goroutines
//
// A *Store is safe for concurrent use. Each shard's routing worker owns one
// *Batch and is the only goroutine touching it: it stages every write of one
// drain of its queue, calls Commit once (one fsync with DurabilitySync), and
// acknowledges the senders only after Commit returns nil. Commits from
// several shards that overlap share fsyncs in Pebble's commit pipeline.
// Reads (History, HistoryBefore, LastSeq, Dedup, Conversation, Get,
// ScanPrefix) may come from any goroutine: shard workers, HTTP handlers.
//
// With DurabilityAsync, Commit returns once the batch is in Pebble's WAL
// buffer, which Pebble writes out only when a block fills or a sync is
// requested; the store runs one goroutine that fsyncs the WAL every
// Options.SyncInterval (100ms) while async commits are pending, bounding the
// loss window of a crash. Store.Sync does the same on demand.
//
// Close stops that goroutine, waits for calls in progress, flushes and closes
// Pebble; afterwards every method returns ErrClosed (Pebble itself would
// panic).
//
// # Buffers
//
// Staging methods copy keys and values into the batch; the caller keeps its
// slices. A staging method that rejects its arguments (ErrConversationID,
// ErrClientMsgID, ErrSeq, ErrKey) stages nothing and leaves the rest of the
// drain intact, so a worker can refuse one message and commit the others. Commit resets the batch and keeps its buffer (up to 1 MiB), so
// staging into a warmed batch allocates nothing. Conversation and Get return
// copies. History, HistoryBefore and ScanPrefix lend Pebble's bytes to the
// callback: they are valid only until it returns and must not be modified;
// copy what outlives it. Parse* helpers return slices aliasing their input.
//
// # Key layout (the contract)
//
// Every key is a one-byte table prefix followed by components. A string
// component is length-prefixed:
//
//	comp(s) = uvarint(len(s)) | s
//
// Conversation ids are 1..64 bytes (ErrConversationID), so comp(conv) is one
// length byte (0x01..0x40) and the id. Integers are fixed-width big-endian,
// so byte order equals numeric order.
//
//	messages         'm' | comp(conv) | seq            → message (encoded by proto)
//	                 +----+-----+------------+-----------------------+
//	                 | 6d | len | conv bytes | seq, u64 big-endian   |
//	                 +----+-----+------------+-----------------------+
//	                   1     1    1..64          8 bytes
//
//	conversations    'c' | comp(conv)                  → conversation record
//	                 +----+-----+------------+
//	                 | 63 | len | conv bytes |
//	                 +----+-----+------------+
//
//	dedup            'd' | comp(conv) | client_msg_id  → seq, u64 big-endian (8 bytes)
//	                 +----+-----+------------+------------------+
//	                 | 64 | len | conv bytes | client_msg_id    |
//	                 +----+-----+------------+------------------+
//	                                            1..128 bytes, last, so unprefixed
//
//	meta             '!' | name                        → store-owned records
//	                 "!format" → uvarint(1), the layout version; Open refuses
//	                 a database with data but no record, or another version.
//
// Reserved tables (written through Batch.Put/Delete; the issue that brings
// each feature fixes its components here before writing them):
//
//	'b'  MQTT devices in conversations      see engine/bridge: 'b' | comp(site) | comp(device)
//	                                         → 0x01 | comp(conversation) | uvarint(last seq forwarded)
//	's'  sites, agents, sessions            see internal/accounts: 's' | comp(site) | kind byte | comp(id)
//	'q'  MQTT sessions                       see engine/mqtt PebbleStore: 'q' | comp(client id) → session record, version byte first
//	'r'  MQTT retained messages              see engine/mqtt PebbleStore: 'r' | topic (last, unprefixed) → retained record
//	'o'  webhook outbox                      see engine/webhook: 'o' | 'p' | due | comp(site) | comp(event) | comp(endpoint)
//	'x'  conversations of a site (index.go)  'x' | comp(site) | created u64 BE (unix ms) | comp(conv) → empty
//	'v'  conversations of a visitor          'v' | comp(site) | comp(visitor) | created u64 BE | comp(conv) → empty
//
// The two indexes are written by Batch.PutConversationIndex in the batch
// that creates the conversation record, and read newest first (a reverse
// iteration) by SiteConversations, VisitorConversations and the Walk*
// functions. Their cursors are base64url(created u64 BE | comp(conv)), the
// key suffix of the last entry returned; site and visitor ids are 1..128
// bytes (ErrIndexID).
//
// Batch.Put and Batch.Delete accept only keys starting with a documented,
// writable table byte (ErrKey otherwise); '!' is store-owned.
//
// # Why a length prefix and not a terminator
//
// Ids are opaque bytes, so a 0x00 terminator would need escaping (and
// unescaping when parsing keys). A length prefix needs neither, costs the
// same one byte, and is prefix-free: for conversations A ≠ B, 'm'|comp(A) is
// never a prefix of 'm'|comp(B) — equal lengths differ in the id bytes,
// different lengths differ in the length byte. Hence:
//
//   - one conversation's messages are one contiguous key range,
//     ['m'|comp(conv), end of that prefix), in seq order, and no other
//     conversation's key falls inside it (ids "a" and "ab" give prefixes
//     6d 01 61 and 6d 02 61 62);
//   - History is one seek plus Next, HistoryBefore and LastSeq one reverse
//     seek, with iterator bounds on the prefix;
//   - every key parses back without ambiguity (ParseMessageKey,
//     ParseConversationKey, ParseDedupKey).
//
// What it gives up: conversations are ordered by id length, then id bytes,
// not lexicographically by id. Nothing here needs a sorted listing across
// conversations.
//
// Sequence numbers start at 1 (ErrSeq for 0): LastSeq returns 0 for "no
// messages" and HistoryBefore takes beforeSeq 0 as "from the newest".
//
// Dedup entries are never expired by this package; a retention policy that
// deletes old messages should delete the conversation's dedup range
// ('d'|comp(conv), AppendDedupPrefix) with them.
//
// # Metrics
//
// With Options.Registerer set: kefu_storage_commits_total,
// kefu_storage_commit_errors_total, kefu_storage_committed_ops_total,
// kefu_storage_commit_duration_seconds (50µs..100ms buckets),
// kefu_storage_batch_ops (ops per commit), kefu_storage_read_duration_seconds
// {op}, and scrape-time Pebble figures: kefu_storage_disk_usage_bytes,
// kefu_storage_wal_bytes, kefu_storage_memtable_bytes,
// kefu_storage_read_amplification, kefu_storage_flushes_total,
// kefu_storage_compactions_total, kefu_storage_block_cache_{hits,misses}_total.
// Close unregisters them.
package storage
