package storage

import "errors"

// ErrClosed is returned by every Store method, and by Batch.Commit, once
// Close has begun. Staging into a Batch does not touch the database and keeps
// working; only its Commit reports the closed store.
var ErrClosed = errors.New("storage: store closed")

// ErrConversationID is returned when a conversation id is empty or longer
// than MaxConversationIDLen bytes. Nothing is staged or read.
var ErrConversationID = errors.New("storage: conversation id must be 1..64 bytes")

// ErrClientMsgID is returned when a client_msg_id is empty or longer than
// MaxClientMsgIDLen bytes. An empty client_msg_id means "no de-duplication"
// and must not reach the dedup index.
var ErrClientMsgID = errors.New("storage: client_msg_id must be 1..128 bytes")

// ErrSeq is returned when a message is staged with seq 0. Sequence numbers
// start at 1; 0 is reserved to mean "no message" (see Store.LastSeq).
var ErrSeq = errors.New("storage: message seq must be > 0")

// ErrKey is returned by Batch.Put, Batch.Delete and Store.Get when a key is
// empty or does not start with one of the table prefixes documented in the
// package doc. Every table must be listed there before it is written.
var ErrKey = errors.New("storage: key must start with a documented table prefix")

// ErrLimit is returned by History and HistoryBefore when limit is not
// positive. Pages are always bounded.
var ErrLimit = errors.New("storage: page limit must be > 0")

// ErrCorrupt is returned when a stored key or value does not have the shape
// the key layout promises (for example a message key whose seq is not 8
// bytes, or a dedup value that is not 8 bytes).
var ErrCorrupt = errors.New("storage: corrupt record")

// ErrFormat is returned by Open when the directory holds a Pebble database
// that is not a Kefu store, or a Kefu store of an unknown format version.
var ErrFormat = errors.New("storage: unknown store format")

// ErrStop may be returned by a ScanPrefix callback to end the scan early;
// ScanPrefix then returns nil.
var ErrStop = errors.New("storage: stop scan")
