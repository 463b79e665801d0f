package storage

import (
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// Batch stages writes for one atomic Commit. It is owned by one goroutine
// (a shard's routing worker) and reused across commits: Commit resets it, and
// the staging buffer is kept, so staging into a warmed batch does not
// allocate. Pebble drops a buffer that grew past 1 MiB at the next reset, so
// one huge drain does not pin memory.
//
// Staging methods copy their arguments; the caller may reuse them at once.
// A staging method that returns an error stages nothing, and the batch stays
// usable.
type Batch struct {
	s  *Store
	pb *pebble.Batch
}

// NewBatch returns an empty batch bound to s. Call Close when the owner stops
// using it.
func (s *Store) NewBatch() *Batch {
	return &Batch{s: s, pb: s.db.NewBatch()}
}

// PutMessage stages message conv/seq with value (the encoded message).
func (b *Batch) PutMessage(conv string, seq uint64, value []byte) error {
	if err := ValidConversationID(conv); err != nil {
		return err
	}
	if seq == 0 {
		return ErrSeq
	}
	op := b.pb.SetDeferred(1+convComponentLen(conv)+8, len(value))
	mustFill(op.Key, AppendMessageKey(op.Key[:0], conv, seq))
	copy(op.Value, value)
	return op.Finish()
}

// PutDedup stages the dedup entry (conv, clientMsgID) → seq, which
// Store.Dedup answers. Stage it in the same batch as the message so both
// become visible, and durable, together.
func (b *Batch) PutDedup(conv, clientMsgID string, seq uint64) error {
	if err := ValidConversationID(conv); err != nil {
		return err
	}
	if err := ValidClientMsgID(clientMsgID); err != nil {
		return err
	}
	op := b.pb.SetDeferred(1+convComponentLen(conv)+len(clientMsgID), 8)
	mustFill(op.Key, AppendDedupKey(op.Key[:0], conv, clientMsgID))
	binary.BigEndian.PutUint64(op.Value, seq)
	return op.Finish()
}

// PutConversation stages conv's metadata record (opaque to this package).
func (b *Batch) PutConversation(conv string, value []byte) error {
	if err := ValidConversationID(conv); err != nil {
		return err
	}
	op := b.pb.SetDeferred(1+convComponentLen(conv), len(value))
	mustFill(op.Key, AppendConversationKey(op.Key[:0], conv))
	copy(op.Value, value)
	return op.Finish()
}

// Put stages a generic write. key must start with a writable table prefix
// documented in the package doc (ErrKey otherwise); later features (MQTT
// sessions, retained messages, the outbox, sites) write their own tables
// through it.
func (b *Batch) Put(key, value []byte) error {
	if len(key) == 0 || !tableWritable(key[0]) {
		return ErrKey
	}
	return b.pb.Set(key, value, nil)
}

// Delete stages the deletion of key, with the same key rules as Put.
func (b *Batch) Delete(key []byte) error {
	if len(key) == 0 || !tableWritable(key[0]) {
		return ErrKey
	}
	return b.pb.Delete(key, nil)
}

// Len returns the number of staged operations.
func (b *Batch) Len() int { return int(b.pb.Count()) }

// Size returns the encoded size of the staged operations in bytes, for
// owners that bound a drain by bytes as well as by count.
func (b *Batch) Size() int { return b.pb.Len() }

// Reset discards the staged operations, keeping the buffer.
func (b *Batch) Reset() { b.pb.Reset() }

// Commit applies the staged operations atomically with the store's
// durability (with DurabilitySync they are fsync'd when Commit returns nil)
// and resets the batch for reuse. An empty batch commits nothing and costs
// nothing. On error the staged operations are discarded as well: nothing of
// them may be acknowledged.
func (b *Batch) Commit() error {
	n := b.pb.Count()
	if n == 0 {
		return nil
	}
	s := b.s
	if err := s.enter(); err != nil {
		b.pb.Reset()
		return err
	}
	start := s.m.now()
	err := s.db.Apply(b.pb, s.wo)
	s.exit()
	if s.stopSync != nil && err == nil && !s.unsynced.Load() {
		s.unsynced.Store(true)
	}
	b.pb.Reset()
	s.m.commitDone(start, n, err)
	return err
}

// Close discards the staged operations and releases the batch's buffer. The
// batch must not be used afterwards.
func (b *Batch) Close() error {
	return b.pb.Close()
}

// mustFill checks that a key builder wrote exactly the bytes reserved for
// the key by SetDeferred.
func mustFill(reserved, written []byte) {
	if len(written) != len(reserved) {
		panic("BUG: storage: key length mismatch")
	}
}
