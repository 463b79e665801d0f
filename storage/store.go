package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// Store is the durable message log: one Pebble database. All methods are
// safe for concurrent use. Writes go through a Batch, one per writing
// goroutine.
type Store struct {
	db  *pebble.DB
	wo  *pebble.WriteOptions
	log *slog.Logger
	m   *metrics // nil without a Registerer

	// inflight counts calls inside the database; closed is set first by
	// Close, which then waits for inflight to drain, so no call ever reaches
	// a closed Pebble (which would panic).
	inflight atomic.Int64
	closed   atomic.Bool

	// unsynced is set by async commits and cleared by the sync loop, which
	// runs only with DurabilityAsync and a positive SyncInterval.
	unsynced atomic.Bool
	stopSync chan struct{} // closed by Close; nil without a sync loop
	syncDone chan struct{} // closed by the sync loop when it returns
}

// Open opens (creating if needed) the store in opts.Dir. It applies
// EnsureDefaults to its copy of opts and fails on Validate errors, on a
// directory that holds something other than a Kefu store (ErrFormat), and on
// metric registration conflicts.
func Open(opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cache := pebble.NewCache(opts.CacheSize)
	defer cache.Unref() // the DB holds its own reference
	po := &pebble.Options{
		Cache:              cache,
		MemTableSize:       opts.MemTableSize,
		Logger:             pebbleLogger{l: opts.Logger.With("component", "pebble")},
		FormatMajorVersion: pebble.FormatNewest,
	}
	// Bloom filters make the point lookups (dedup, conversation) that miss
	// cheap; levels below L0 inherit the policy.
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", opts.Dir, err)
	}
	s := &Store{db: db, log: opts.Logger}
	switch opts.Durability {
	case DurabilitySync:
		s.wo = pebble.Sync
	default:
		s.wo = pebble.NoSync
	}
	if err := s.checkFormat(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if opts.Registerer != nil {
		if s.m, err = newMetrics(opts.Registerer, s); err != nil {
			return nil, errors.Join(err, db.Close())
		}
	}
	if opts.Durability == DurabilityAsync && opts.SyncInterval > 0 {
		s.stopSync, s.syncDone = make(chan struct{}), make(chan struct{})
		go s.syncLoop(opts.SyncInterval)
	}
	s.log.Debug("storage opened", "dir", opts.Dir, "durability", opts.Durability.String())
	return s, nil
}

// syncLoop fsyncs the WAL every interval while async commits are pending.
func (s *Store) syncLoop(interval time.Duration) {
	defer close(s.syncDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stopSync:
			return
		case <-t.C:
			if !s.unsynced.Swap(false) {
				continue
			}
			if err := s.Sync(); err != nil && !errors.Is(err, ErrClosed) {
				s.unsynced.Store(true)
				s.log.Warn("storage: periodic WAL sync failed", "err", err)
			}
		}
	}
}

// Sync writes and fsyncs everything committed so far to the WAL. With
// DurabilitySync there is never anything to do; with DurabilityAsync it
// makes the acknowledged commits durable now (for example at the end of a
// graceful drain) instead of at the next SyncInterval tick.
func (s *Store) Sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	return s.db.LogData(nil, pebble.Sync)
}

// checkFormat writes the format record into a new, empty store and checks it
// in an existing one.
func (s *Store) checkFormat() error {
	v, closer, err := s.db.Get([]byte(formatKey))
	switch {
	case err == nil:
		ver, n := binary.Uvarint(v)
		closer.Close()
		if n <= 0 || n != len(v) || ver != formatVersion {
			return fmt.Errorf("%w: format record %x, want version %d", ErrFormat, v, formatVersion)
		}
		return nil
	case !errors.Is(err, pebble.ErrNotFound):
		return err
	}
	it, err := s.db.NewIter(nil)
	if err != nil {
		return err
	}
	nonEmpty := it.First()
	if err := errors.Join(it.Error(), it.Close()); err != nil {
		return err
	}
	if nonEmpty {
		return fmt.Errorf("%w: database has data but no format record", ErrFormat)
	}
	return s.db.Set([]byte(formatKey), binary.AppendUvarint(nil, formatVersion), pebble.Sync)
}

// enter admits one call into the database, or returns ErrClosed.
func (s *Store) enter() error {
	s.inflight.Add(1)
	if s.closed.Load() {
		s.inflight.Add(-1)
		return ErrClosed
	}
	return nil
}

func (s *Store) exit() { s.inflight.Add(-1) }

// Close waits for calls in progress (including History and ScanPrefix
// callbacks, which must therefore return), flushes the memtables to disk and
// closes Pebble. Batches need not be closed first, but none may commit
// afterwards (they get ErrClosed). A second Close returns ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	if s.stopSync != nil {
		close(s.stopSync)
		<-s.syncDone
	}
	for s.inflight.Load() != 0 {
		time.Sleep(50 * time.Microsecond)
	}
	s.m.unregister()
	ferr := s.db.Flush()
	cerr := s.db.Close()
	s.log.Debug("storage closed")
	return errors.Join(ferr, cerr)
}

// Conversation returns a copy of conv's metadata record.
func (s *Store) Conversation(conv string) (value []byte, ok bool, err error) {
	if err := ValidConversationID(conv); err != nil {
		return nil, false, err
	}
	var buf [2 + MaxConversationIDLen]byte
	return s.get(readConversation, AppendConversationKey(buf[:0], conv))
}

// Get returns a copy of the value stored under key. key must be non-empty.
func (s *Store) Get(key []byte) (value []byte, ok bool, err error) {
	if len(key) == 0 {
		return nil, false, ErrKey
	}
	return s.get(readGet, key)
}

func (s *Store) get(op readOp, key []byte) ([]byte, bool, error) {
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.exit()
	start := s.m.now()
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		s.m.readDone(op, start)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append(make([]byte, 0, len(v)), v...)
	closer.Close()
	s.m.readDone(op, start)
	return out, true, nil
}

// Dedup returns the seq stored for (conv, clientMsgID) by Batch.PutDedup.
func (s *Store) Dedup(conv, clientMsgID string) (seq uint64, ok bool, err error) {
	if err := ValidConversationID(conv); err != nil {
		return 0, false, err
	}
	if err := ValidClientMsgID(clientMsgID); err != nil {
		return 0, false, err
	}
	if err := s.enter(); err != nil {
		return 0, false, err
	}
	defer s.exit()
	start := s.m.now()
	var buf [MaxDedupKeyLen]byte
	v, closer, err := s.db.Get(AppendDedupKey(buf[:0], conv, clientMsgID))
	if errors.Is(err, pebble.ErrNotFound) {
		s.m.readDone(readDedup, start)
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, false, fmt.Errorf("%w: dedup value of %d bytes", ErrCorrupt, len(v))
	}
	s.m.readDone(readDedup, start)
	return binary.BigEndian.Uint64(v), true, nil
}

// LastSeq returns the highest seq stored for conv, or 0 if it has no
// messages: one reverse seek. Shard workers call it to recover a
// conversation's seq counter after a restart.
func (s *Store) LastSeq(conv string) (uint64, error) {
	if err := ValidConversationID(conv); err != nil {
		return 0, err
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.exit()
	start := s.m.now()
	var seq uint64
	found := func(q uint64, _ []byte) error { seq = q; return nil }
	var buf [2 * MaxMessageKeyLen]byte
	lower := AppendMessagePrefix(buf[:0], conv)
	upper, _ := appendPrefixEnd(lower[len(lower):], lower)
	if _, err := s.scanMessages(len(lower), lower, upper, true, 1, found); err != nil {
		return 0, err
	}
	s.m.readDone(readLastSeq, start)
	return seq, nil
}

// History calls fn for conv's messages with seq > afterSeq in ascending
// order, at most limit of them (limit > 0). value is valid only during fn
// and must not be modified. more reports whether messages after the last one
// passed to fn exist. An error from fn stops the walk and is returned.
func (s *Store) History(conv string, afterSeq uint64, limit int,
	fn func(seq uint64, value []byte) error) (more bool, err error) {
	if err := ValidConversationID(conv); err != nil {
		return false, err
	}
	if limit <= 0 {
		return false, ErrLimit
	}
	if afterSeq == math.MaxUint64 {
		return false, nil
	}
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.exit()
	start := s.m.now()
	var buf [2 * MaxMessageKeyLen]byte
	lower := AppendMessageKey(buf[:0], conv, afterSeq+1)
	prefixLen := len(lower) - 8
	upper, _ := appendPrefixEnd(lower[len(lower):], lower[:prefixLen])
	more, err = s.scanMessages(prefixLen, lower, upper, false, limit, fn)
	if err == nil {
		s.m.readDone(readHistory, start)
	}
	return more, err
}

// HistoryBefore is the "scroll back" page: it calls fn for conv's messages
// with seq < beforeSeq in descending order, at most limit of them. beforeSeq
// 0 means "from the newest message" (seqs start at 1). more reports whether
// older messages exist; the next page passes the last seq seen as beforeSeq.
func (s *Store) HistoryBefore(conv string, beforeSeq uint64, limit int,
	fn func(seq uint64, value []byte) error) (more bool, err error) {
	if err := ValidConversationID(conv); err != nil {
		return false, err
	}
	if limit <= 0 {
		return false, ErrLimit
	}
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.exit()
	start := s.m.now()
	var buf [2 * MaxMessageKeyLen]byte
	lower := AppendMessagePrefix(buf[:0], conv)
	var upper []byte
	if beforeSeq == 0 {
		upper, _ = appendPrefixEnd(lower[len(lower):], lower)
	} else {
		upper = binary.BigEndian.AppendUint64(append(lower[len(lower):], lower...), beforeSeq)
	}
	more, err = s.scanMessages(len(lower), lower, upper, true, limit, fn)
	if err == nil {
		s.m.readDone(readHistoryBefore, start)
	}
	return more, err
}

// scanMessages walks message keys in [lower, upper), forwards or backwards,
// calling fn for at most limit of them; more reports whether one more key
// was in range. Every key must be prefixLen+8 bytes long.
func (s *Store) scanMessages(prefixLen int, lower, upper []byte, reverse bool, limit int,
	fn func(seq uint64, value []byte) error) (more bool, err error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return false, err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	var valid bool
	if reverse {
		valid = it.Last()
	} else {
		valid = it.First()
	}
	for n := 0; valid; n++ {
		if n == limit {
			return true, nil
		}
		key := it.Key()
		if len(key) != prefixLen+8 {
			return false, fmt.Errorf("%w: message key of %d bytes", ErrCorrupt, len(key))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return false, err
		}
		if err := fn(binary.BigEndian.Uint64(key[prefixLen:]), v); err != nil {
			return false, err
		}
		if reverse {
			valid = it.Prev()
		} else {
			valid = it.Next()
		}
	}
	return false, it.Error()
}

// ScanPrefix calls fn for every key starting with prefix, in ascending key
// order (an empty prefix scans the whole store). key and value are valid only
// during fn and must not be modified. fn may return ErrStop to end the scan
// early; any other error stops it and is returned. Use it for listings and
// recovery, e.g. ScanPrefix([]byte{TableConversations}, ...) with
// ParseConversationKey.
func (s *Store) ScanPrefix(prefix []byte, fn func(key, value []byte) error) (err error) {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	start := s.m.now()
	o := &pebble.IterOptions{}
	if len(prefix) > 0 {
		o.LowerBound = prefix
		if upper, ok := appendPrefixEnd(nil, prefix); ok {
			o.UpperBound = upper
		}
	}
	it, err := s.db.NewIter(o)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := it.Close(); err == nil {
			err = cerr
		}
	}()
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			if errors.Is(err, ErrStop) {
				break
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	s.m.readDone(readScan, start)
	return nil
}

// Summary is a cheap snapshot of Pebble's state, for health pages and logs.
type Summary struct {
	DiskUsageBytes   uint64 // sstables, WAL, manifest and blob files
	WALBytes         uint64 // live WAL data
	MemTableBytes    uint64 // memtables and large (flushable) batches
	MemTables        int64
	Flushes          int64 // memtable flushes since Open
	Compactions      int64 // compactions since Open
	ReadAmp          int   // sublevels in L0 plus non-empty lower levels
	BlockCacheBytes  int64
	BlockCacheHits   int64
	BlockCacheMisses int64
}

// Metrics returns a Summary of Pebble's metrics.
func (s *Store) Metrics() (Summary, error) {
	if err := s.enter(); err != nil {
		return Summary{}, err
	}
	defer s.exit()
	m := s.db.Metrics()
	return Summary{
		DiskUsageBytes:   m.DiskSpaceUsage(),
		WALBytes:         m.WAL.Size,
		MemTableBytes:    m.MemTable.Size,
		MemTables:        m.MemTable.Count,
		Flushes:          m.Flush.Count,
		Compactions:      m.Compact.Count,
		ReadAmp:          m.ReadAmp(),
		BlockCacheBytes:  m.BlockCache.Size,
		BlockCacheHits:   m.BlockCache.Hits,
		BlockCacheMisses: m.BlockCache.Misses,
	}, nil
}
