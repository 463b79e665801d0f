package mqtt

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrStoreClosed is returned by the PebbleStore's write methods once Close
// has begun; the broker logs it and carries on from memory.
var ErrStoreClosed = errors.New("mqtt: store closed")

// PebbleStoreOptions configure a PebbleStore. The zero value of every
// field is a sensible default, documented on the field.
type PebbleStoreOptions struct {
	// MaxQueued bounds the queued deliveries Load gives back per session:
	// pass the broker's Options.MaxQueued, so that a session stored under a
	// larger limit comes back within the current one (the oldest are kept,
	// as an offline session keeps them). Zero: 1000, the broker's default.
	MaxQueued int
	// Linger is how long the writer waits after a write arrives for more
	// to gather before it commits. Writes to the same session or topic in
	// that window collapse into one: a session saved on every state change
	// is written at most once per Linger. Zero: 10ms. Negative: commit at
	// once (each drain still commits together whatever has gathered).
	Linger time.Duration
	// MaxBatchBytes splits a drain into commits of about this many staged
	// bytes. Zero: 4 MiB.
	MaxBatchBytes int
	// Now returns the time in Unix nanoseconds, against which Load expires
	// sessions and messages; pass the broker's clock. Nil: time.Now.
	Now func() int64
	// Logger logs commit failures and the records Load skips. Nil:
	// slog.Default().
	Logger *slog.Logger
	// Registerer receives the store's metrics. Nil: not registered.
	Registerer prometheus.Registerer
}

// EnsureDefaults replaces zero values by their defaults.
func (o *PebbleStoreOptions) EnsureDefaults() {
	if o.MaxQueued == 0 {
		o.MaxQueued = 1000
	}
	if o.Linger == 0 {
		o.Linger = 10 * time.Millisecond
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = 4 << 20
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixNano() }
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports options out of range. Call it after EnsureDefaults.
func (o *PebbleStoreOptions) Validate() error {
	var errs []error
	if o.MaxQueued <= 0 {
		errs = append(errs, fmt.Errorf("mqtt: store MaxQueued %d must be positive", o.MaxQueued))
	}
	if o.MaxBatchBytes <= 0 {
		errs = append(errs, fmt.Errorf("mqtt: store MaxBatchBytes %d must be positive", o.MaxBatchBytes))
	}
	return errors.Join(errs...)
}

// PebbleStore is the Store that survives restarts: sessions in table 'q'
// and retained messages in table 'r' of Kefu's Pebble database, one record
// per session and per topic (formats in pebble_store_record.go), written
// with the database's durability.
//
// The write methods, called on event loops, only note the latest state of
// the session or topic in a map and start the writer goroutine if it is
// not running; they never touch the disk. The writer lingers
// (PebbleStoreOptions.Linger), swaps the map out, encodes every entry into
// one reused storage.Batch and commits once, then repeats until nothing is
// pending and exits. Saving a session twice before the writer takes it
// writes it once; a save followed by a delete writes only the delete. The
// pending map holds at most one entry per session and retained topic,
// which the broker bounds already.
//
// Commit failures are logged and counted; the writes are lost, the broker
// carries on from memory, and Flush or Close report the first failure.
// Load, called once by NewBroker, skips what must not come back: corrupt
// records (deleted), records of an unknown version (left alone), expired
// sessions without a will and expired retained messages (deleted), queued
// deliveries whose message expired or beyond MaxQueued (dropped).
//
// The PebbleStore does not own the storage.Store: call Close after
// Broker.Close and before closing the storage.
type PebbleStore struct {
	db   *storage.Store
	opts PebbleStoreOptions
	log  *slog.Logger
	m    *storeMetrics
	kick chan struct{} // cuts a linger short (Flush, Close); capacity 1

	// The writer's, kept across its runs so that a warmed batch and
	// buffers are reused: touched only by the goroutine running write (at
	// most one, see writing) and by Close once it has exited.
	batch    *storage.Batch
	key, val []byte

	mu       sync.Mutex
	idle     sync.Cond                // on mu: broadcast after every drain
	sessions map[string]*SessionState // pending by client id; nil: delete
	retained map[string]*Message      // pending by topic; nil: delete
	spareS   map[string]*SessionState // the maps of the previous drain, for reuse
	spareR   map[string]*Message
	queued   uint64 // writes noted so far
	done     uint64 // writes committed (or failed) so far
	writing  bool   // the writer goroutine is running
	closed   bool
	err      error // first commit failure since the last Flush
}

// NewPebbleStore returns a PebbleStore over db.
func NewPebbleStore(db *storage.Store, opts PebbleStoreOptions) (*PebbleStore, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := newStoreMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &PebbleStore{
		db: db, opts: opts, log: opts.Logger, m: m, kick: make(chan struct{}, 1),
		sessions: make(map[string]*SessionState), retained: make(map[string]*Message),
		spareS: make(map[string]*SessionState), spareR: make(map[string]*Message),
	}
	s.idle.L = &s.mu
	return s, nil
}

// SaveRetained implements Store. A message with an empty payload deletes
// the topic's retained message, as it does in the broker.
func (s *PebbleStore) SaveRetained(m *Message) error {
	if len(m.Payload) == 0 {
		return s.noteRetained(m.Topic, nil)
	}
	return s.noteRetained(m.Topic, m)
}

// DeleteRetained implements Store.
func (s *PebbleStore) DeleteRetained(topic string) error { return s.noteRetained(topic, nil) }

// SaveSession implements Store.
func (s *PebbleStore) SaveSession(st *SessionState) error { return s.noteSession(st.ClientID, st) }

// DeleteSession implements Store.
func (s *PebbleStore) DeleteSession(clientID string) error { return s.noteSession(clientID, nil) }

func (s *PebbleStore) noteSession(id string, st *SessionState) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrStoreClosed
	}
	if _, ok := s.sessions[id]; ok {
		s.m.coalesced.Inc()
	}
	s.sessions[id] = st
	s.noted()
	return nil
}

func (s *PebbleStore) noteRetained(topic string, m *Message) error {
	if topic == "" {
		return ErrInvalidMessage
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrStoreClosed
	}
	if _, ok := s.retained[topic]; ok {
		s.m.coalesced.Inc()
	}
	s.retained[topic] = m
	s.noted()
	return nil
}

// noted counts a write, starts the writer if needed and unlocks mu.
func (s *PebbleStore) noted() {
	s.queued++
	start := !s.writing
	s.writing = true
	s.mu.Unlock()
	if start {
		go s.write()
	}
}

// Flush waits until every write noted before the call is committed, and
// returns (then forgets) the first commit failure since the last Flush.
func (s *PebbleStore) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.queued
	for s.writing && s.done < want {
		select {
		case s.kick <- struct{}{}:
		default:
		}
		s.idle.Wait()
	}
	err := s.err
	s.err = nil
	return err
}

// Close refuses further writes (ErrStoreClosed), waits for the pending
// ones to be committed and the writer to exit, and unregisters the
// metrics. It returns the first
// commit failure since the last Flush. The storage.Store stays open.
func (s *PebbleStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrStoreClosed
	}
	s.closed = true
	for s.writing {
		select {
		case s.kick <- struct{}{}:
		default:
		}
		s.idle.Wait()
	}
	err := s.err
	s.err = nil
	if s.batch != nil {
		err = errors.Join(err, s.batch.Close())
		s.batch = nil
	}
	s.mu.Unlock()
	s.m.unregister()
	return err
}

// write is the writer goroutine: it drains the pending maps until they
// are empty, then exits.
func (s *PebbleStore) write() {
	if s.batch == nil {
		s.batch = s.db.NewBatch()
	}
	b, key, val := s.batch, s.key, s.val
	var timer *time.Timer
	if s.opts.Linger > 0 {
		timer = time.NewTimer(s.opts.Linger)
		defer timer.Stop()
	}
	for first := true; ; first = false {
		s.mu.Lock()
		if len(s.sessions) == 0 && len(s.retained) == 0 {
			s.key, s.val = key, val
			s.writing = false
			s.idle.Broadcast()
			s.mu.Unlock()
			return
		}
		closing := s.closed
		s.mu.Unlock()
		if timer != nil && !closing {
			if !first {
				timer.Reset(s.opts.Linger)
			}
			select {
			case <-timer.C:
			case <-s.kick:
			}
		}

		s.mu.Lock()
		sessions, retained, upTo := s.sessions, s.retained, s.queued
		s.sessions, s.retained = s.spareS, s.spareR
		s.mu.Unlock()
		nSessions, nRetained := len(sessions), len(retained)

		var errs []error
		commit := func() {
			n, size := b.Len(), b.Size()
			if err := b.Commit(); err != nil {
				errs = append(errs, err)
				s.m.commitErrors.Inc()
				return
			}
			s.m.commits.Inc()
			s.m.records.Add(float64(n))
			s.m.bytes.Add(float64(size))
		}
		stage := func(err error) {
			if err != nil {
				errs = append(errs, err)
			}
			if b.Size() >= s.opts.MaxBatchBytes {
				commit()
			}
		}
		for id, st := range sessions {
			key = appendSessionKey(key[:0], id)
			if st == nil {
				stage(b.Delete(key))
				continue
			}
			val = AppendSessionRecord(val[:0], st)
			stage(b.Put(key, val))
		}
		for topic, m := range retained {
			key = appendRetainedKey(key[:0], topic)
			if m == nil {
				stage(b.Delete(key))
				continue
			}
			val = AppendRetainedRecord(val[:0], m)
			stage(b.Put(key, val))
		}
		commit()
		if cap(val) > 1<<20 {
			val = nil // one huge session does not pin its buffer
		}
		// Maps do not shrink: after a large drain, start small again.
		if nSessions > 1024 {
			sessions = make(map[string]*SessionState)
		}
		if nRetained > 1024 {
			retained = make(map[string]*Message)
		}
		clear(sessions)
		clear(retained)

		err := errors.Join(errs...)
		if err != nil {
			s.log.Error("mqtt store: commit failed, writes lost", "sessions", nSessions, "retained", nRetained, "err", err)
		}
		s.mu.Lock()
		s.spareS, s.spareR = sessions, retained
		s.done = upTo
		if err != nil && s.err == nil {
			s.err = err
		}
		s.idle.Broadcast()
		s.mu.Unlock()
	}
}

// appendSessionKey appends 'q' | comp(client id).
func appendSessionKey(dst []byte, clientID string) []byte {
	return storage.AppendComponent(append(dst, storage.TableMQTTSessions), clientID)
}

// appendRetainedKey appends 'r' | topic (last, so unprefixed).
func appendRetainedKey(dst []byte, topic string) []byte {
	return append(append(dst, storage.TableRetained), topic...)
}

// maxLoggedSkips is how many skipped records Load logs one by one.
const maxLoggedSkips = 16

// loader is the state of one Load.
type loader struct {
	s       *PebbleStore
	now     int64
	del     *storage.Batch // deletions of corrupt and expired records
	skipped int
}

// Load implements Store: retained messages in topic order, then sessions,
// then one commit deleting what it dropped.
func (s *PebbleStore) Load(retained func(*Message), session func(*SessionState)) error {
	l := &loader{s: s, now: s.opts.Now(), del: s.db.NewBatch()}
	defer l.del.Close()
	err := s.db.ScanPrefix([]byte{storage.TableRetained}, func(k, v []byte) error {
		m, err := DecodeRetainedRecord(v)
		switch {
		case err == nil && m.Topic != string(k[1:]):
			err = fmt.Errorf("%w: topic %q under key %q", ErrCorruptRecord, m.Topic, k[1:])
		case err == nil && m.expired(l.now):
			s.m.dropped[dropStoreExpiredRetained].Inc()
			return l.delete(k)
		}
		if err != nil {
			return l.skip(k, err)
		}
		retained(m)
		return nil
	})
	if err == nil {
		err = s.db.ScanPrefix([]byte{storage.TableMQTTSessions}, func(k, v []byte) error {
			st, err := l.session(k, v)
			if st != nil {
				session(st)
			}
			return err
		})
	}
	if l.skipped > maxLoggedSkips {
		s.log.Error("mqtt store: records skipped at load", "count", l.skipped)
	}
	return errors.Join(err, l.del.Commit())
}

// session decodes one session record; nil when it is not to be restored.
func (l *loader) session(k, v []byte) (*SessionState, error) {
	s := l.s
	id, rest, ok := storage.ParseComponent(k[1:])
	if !ok || len(rest) != 0 {
		return nil, l.skip(k, fmt.Errorf("%w: session key", ErrCorruptRecord))
	}
	expiresAt, will, err := sessionRecordExpiry(v)
	if err != nil {
		return nil, l.skip(k, err)
	}
	if expiresAt != 0 && expiresAt <= l.now && !will {
		// Expired while the server was down. One with a delayed will goes
		// to the broker, which publishes the will and deletes it.
		s.m.dropped[dropStoreExpiredSession].Inc()
		return nil, l.delete(k)
	}
	st, err := DecodeSessionRecord(string(id), v)
	if err != nil {
		return nil, l.skip(k, err)
	}
	n := 0
	for _, d := range st.Queued {
		if d.Message.expired(l.now) {
			s.m.dropped[dropStoreExpiredQueued].Inc()
			continue
		}
		st.Queued[n] = d
		n++
	}
	if n > s.opts.MaxQueued {
		s.m.dropped[dropStoreQueueFull].Add(float64(n - s.opts.MaxQueued))
		n = s.opts.MaxQueued
	}
	clear(st.Queued[n:])
	st.Queued = st.Queued[:n]
	return st, nil
}

func (l *loader) delete(k []byte) error { return l.del.Delete(k) }

// skip logs and counts a record Load cannot use; a corrupt one is deleted,
// one of another version left for the Kefu that wrote it.
func (l *loader) skip(k []byte, err error) error {
	s := l.s
	l.skipped++
	version := errors.Is(err, ErrRecordVersion)
	if version {
		s.m.dropped[dropStoreVersion].Inc()
	} else {
		s.m.dropped[dropStoreCorrupt].Inc()
	}
	if l.skipped <= maxLoggedSkips {
		shown := k
		if len(shown) > 80 {
			shown = shown[:80]
		}
		s.log.Error("mqtt store: record skipped at load", "key", fmt.Sprintf("%q", shown), "deleted", !version, "err", err)
	}
	if version {
		return nil
	}
	return l.delete(k)
}

// Reasons of kefu_mqtt_store_load_dropped_total.
const (
	dropStoreCorrupt = iota
	dropStoreVersion
	dropStoreExpiredSession
	dropStoreExpiredRetained
	dropStoreExpiredQueued
	dropStoreQueueFull
	numStoreDrops
)

var storeDropNames = [numStoreDrops]string{"corrupt", "version", "expired_session", "expired_retained", "expired_queued", "queue_full"}

type storeMetrics struct {
	reg          prometheus.Registerer
	all          []prometheus.Collector
	commits      prometheus.Counter
	commitErrors prometheus.Counter
	records      prometheus.Counter
	bytes        prometheus.Counter
	coalesced    prometheus.Counter
	dropped      [numStoreDrops]prometheus.Counter
}

func newStoreMetrics(reg prometheus.Registerer) (*storeMetrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	dropV := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kefu_mqtt_store_load_dropped_total",
		Help: "Stored MQTT records or queued deliveries not restored at load, by reason.",
	}, []string{"reason"})
	m := &storeMetrics{
		reg:          reg,
		commits:      counter("kefu_mqtt_store_commits_total", "Commits of MQTT sessions and retained messages."),
		commitErrors: counter("kefu_mqtt_store_commit_errors_total", "Failed commits of MQTT sessions and retained messages (writes lost)."),
		records:      counter("kefu_mqtt_store_records_written_total", "MQTT session and retained records written or deleted."),
		bytes:        counter("kefu_mqtt_store_bytes_written_total", "Bytes of MQTT records committed, keys included."),
		coalesced:    counter("kefu_mqtt_store_coalesced_total", "MQTT store writes replaced by a later one before reaching the disk."),
	}
	for i := range m.dropped {
		m.dropped[i] = dropV.WithLabelValues(storeDropNames[i])
	}
	m.all = []prometheus.Collector{m.commits, m.commitErrors, m.records, m.bytes, m.coalesced, dropV}
	if reg != nil {
		for i, c := range m.all {
			if err := reg.Register(c); err != nil {
				for _, r := range m.all[:i] {
					reg.Unregister(r)
				}
				return nil, fmt.Errorf("mqtt: store metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *storeMetrics) unregister() {
	if m.reg != nil {
		for _, c := range m.all {
			m.reg.Unregister(c)
		}
	}
}
