package mqtt

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// pebbleEnv is a Pebble database in a directory that outlives reopening.
type pebbleEnv struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	db    *storage.Store
	ps    *PebbleStore
	logMu sync.Mutex
	logs  *bytes.Buffer
}

func newPebbleEnv(t *testing.T) *pebbleEnv {
	e := &pebbleEnv{t: t, dir: t.TempDir(), clock: &fakeClock{}}
	e.clock.t.Store(t0)
	return e
}

// open opens the database and a PebbleStore over it; close undoes it.
func (e *pebbleEnv) open(opts PebbleStoreOptions) *PebbleStore {
	e.t.Helper()
	db, err := storage.Open(storage.Options{Dir: e.dir, Durability: storage.DurabilityAsync, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		e.t.Fatal(err)
	}
	e.logMu.Lock()
	e.logs = new(bytes.Buffer)
	e.logMu.Unlock()
	if opts.Now == nil {
		opts.Now = e.clock.now
	}
	opts.Logger = slog.New(slog.NewTextHandler(lockedWriter{e}, nil))
	ps, err := NewPebbleStore(db, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	e.db, e.ps = db, ps
	e.t.Cleanup(func() { e.close() })
	return ps
}

func (e *pebbleEnv) close() {
	if e.db == nil {
		return
	}
	if err := e.ps.Close(); err != nil && !errors.Is(err, ErrStoreClosed) {
		e.t.Errorf("store close: %v", err)
	}
	if err := e.db.Close(); err != nil {
		e.t.Errorf("storage close: %v", err)
	}
	e.db, e.ps = nil, nil
}

// broker builds a broker over the open store, on the env's clock.
func (e *pebbleEnv) broker(opts Options) *harness {
	e.t.Helper()
	opts.Store, opts.Now = e.ps, e.clock.now
	h := newHarness(e.t, opts)
	h.clock = e.clock
	return h
}

// keys lists the keys of a table.
func (e *pebbleEnv) keys(table byte) []string {
	e.t.Helper()
	var ks []string
	if err := e.db.ScanPrefix([]byte{table}, func(k, _ []byte) error {
		ks = append(ks, string(k))
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return ks
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// lockedWriter appends log lines to the env's buffer; the writer
// goroutine logs while the test reads.
type lockedWriter struct{ e *pebbleEnv }

func (l lockedWriter) Write(p []byte) (int, error) {
	l.e.logMu.Lock()
	defer l.e.logMu.Unlock()
	return l.e.logs.Write(p)
}

func (e *pebbleEnv) logText() string {
	e.logMu.Lock()
	defer e.logMu.Unlock()
	return e.logs.String()
}

// TestPebbleStoreRestart: sessions (subscriptions, in-flight and queued
// deliveries, shared subscriptions) and retained messages survive a
// broker, its store and the database being closed and reopened.
func TestPebbleStoreRestart(t *testing.T) {
	e := newPebbleEnv(t)
	e.open(PebbleStoreOptions{})
	h := e.broker(Options{})
	s := h.client(5, "dev", persistent(3600))
	s.subscribe(1, packets.Subscription{Filter: "cmd/dev", Qos: 1}, packets.Subscription{Filter: "$share/g/jobs", Qos: 2})
	p := h.client(4, "p")
	p.publish("cmd/dev", "inflight", 1, false, 1)
	sent := s.expect(packets.Publish)
	s.drop()
	p.publish("cmd/dev", "queued", 1, false, 2)
	p.publish("state", "retained", 0, true, 0)
	p.publish("gone", "retained then deleted", 0, true, 0)
	p.publish("gone", "", 0, true, 0)
	if err := h.b.Close(); err != nil {
		t.Fatal(err)
	}
	e.close()

	e.open(PebbleStoreOptions{})
	if ks := e.keys(storage.TableRetained); len(ks) != 1 || ks[0] != "rstate" {
		t.Fatalf("retained keys %q", ks)
	}
	h2 := e.broker(Options{})
	if h2.b.Sessions() != 1 || h2.b.Retained() != 1 || h2.b.Subscriptions() != 2 {
		t.Fatalf("restored sessions %d retained %d subscriptions %d", h2.b.Sessions(), h2.b.Retained(), h2.b.Subscriptions())
	}
	s2 := h2.dial(5)
	if ack := s2.connect("dev", persistent(3600)); !ack.SessionPresent {
		t.Fatal("session lost")
	}
	got := s2.take()
	if pl := payloads(got); !equalStrings(pl, []string{"inflight", "queued"}) || !got[0].FixedHeader.Dup ||
		got[0].PacketID != sent.PacketID {
		t.Fatalf("after restart %q %+v", pl, got)
	}
	w := h2.client(5, "w")
	w.subscribe(1, sub("state", 0))
	if pl := payloads(w.take()); !equalStrings(pl, []string{"retained"}) {
		t.Fatalf("retained %q", pl)
	}
	p2 := h2.client(4, "p")
	p2.publish("jobs", "job", 1, false, 1)
	if pl := payloads(s2.take()); !equalStrings(pl, []string{"job"}) {
		t.Fatalf("shared after restart %q", pl)
	}
}

// TestPebbleStoreMaxQueued: a session stored with more queued messages
// than the broker now allows comes back with the oldest MaxQueued, and
// queued messages that expired while the server was down are dropped.
func TestPebbleStoreMaxQueued(t *testing.T) {
	e := newPebbleEnv(t)
	e.open(PebbleStoreOptions{MaxQueued: 10})
	h := e.broker(Options{MaxQueued: 10})
	s := h.client(5, "dev", persistent(3600))
	s.subscribe(1, sub("q", 1))
	s.drop()
	p := h.client(5, "p")
	p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "q", PacketID: 1,
		Payload: []byte("short-lived"), Properties: packets.Properties{MessageExpiryInterval: 5}})
	for i := range 12 { // two beyond the limit: dropped by the broker already
		p.publish("q", string(rune('a'+i)), 1, false, uint16(i+2))
	}
	if err := h.b.Close(); err != nil {
		t.Fatal(err)
	}
	e.close()

	e.clock.advance(time.Minute)
	ps := e.open(PebbleStoreOptions{MaxQueued: 4})
	h2 := e.broker(Options{MaxQueued: 4})
	s2 := h2.dial(5)
	if ack := s2.connect("dev", persistent(3600)); !ack.SessionPresent {
		t.Fatal("session lost")
	}
	if pl := payloads(s2.take()); !equalStrings(pl, []string{"a", "b", "c", "d"}) {
		t.Fatalf("after reload with MaxQueued 4: %q", pl)
	}
	if n := counterValue(ps.m.dropped[dropStoreExpiredQueued]); n != 1 {
		t.Fatalf("expired queued dropped %v", n)
	}
	if n := counterValue(ps.m.dropped[dropStoreQueueFull]); n != 5 {
		t.Fatalf("queue_full dropped %v, want 5 (9 left after expiry, 4 kept)", n)
	}
}

// TestPebbleStoreExpiry: at Load, a session whose ExpiresAt passed is
// deleted and not restored (its delayed will, if any, is published), and
// a retained message whose expiry passed is dropped and deleted.
func TestPebbleStoreExpiry(t *testing.T) {
	e := newPebbleEnv(t)
	ps := e.open(PebbleStoreOptions{})
	hour := int64(time.Hour)
	for _, st := range []*SessionState{
		{ClientID: "expired", Version: 5, Expiry: hour, ExpiresAt: t0 - 1},
		{ClientID: "expired-with-will", Version: 5, Expiry: hour, ExpiresAt: t0 - 1,
			Will: &Message{Topic: "status", Payload: []byte("gone"), Retain: true, QoS: 1}, WillAt: t0 + hour},
		{ClientID: "alive", Version: 4, Expiry: hour, ExpiresAt: t0 + hour,
			Subscriptions: []StoredSubscription{{Filter: "status", QoS: 1}}},
	} {
		if err := ps.SaveSession(st); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range []*Message{
		{Topic: "old", Payload: []byte("x"), Retain: true, Expires: t0},
		{Topic: "fresh", Payload: []byte("y"), Retain: true, Expires: t0 + 1},
		{Topic: "forever", Payload: []byte("z"), Retain: true},
	} {
		if err := ps.SaveRetained(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := ps.Flush(); err != nil {
		t.Fatal(err)
	}

	h := e.broker(Options{})
	if n := h.b.Sessions(); n != 1 {
		t.Fatalf("%d sessions restored, want only \"alive\"", n)
	}
	// "fresh", "forever", and the will of the expired session, retained.
	if n := h.b.Retained(); n != 3 {
		t.Fatalf("%d retained messages", n)
	}
	if err := ps.Flush(); err != nil {
		t.Fatal(err)
	}
	if ks := e.keys(storage.TableMQTTSessions); len(ks) != 1 || !strings.HasSuffix(ks[0], "alive") {
		t.Fatalf("session keys after load %q", ks)
	}
	if ks := e.keys(storage.TableRetained); strings.Join(ks, ",") != "rforever,rfresh,rstatus" {
		t.Fatalf("retained keys after load %q", ks)
	}
	a := h.dial(4)
	if ack := a.connect("alive", func(pk *packets.Packet) { pk.Connect.Clean = false }); !ack.SessionPresent {
		t.Fatal("live session lost")
	}
	if pl := payloads(a.take()); !equalStrings(pl, []string{"gone"}) {
		t.Fatalf("the expired session's will, delivered to the live one: %q", pl)
	}
	if n := counterValue(ps.m.dropped[dropStoreExpiredSession]); n != 1 {
		t.Fatalf("expired sessions dropped by the store %v", n)
	}
	if n := counterValue(ps.m.dropped[dropStoreExpiredRetained]); n != 1 {
		t.Fatalf("expired retained dropped %v", n)
	}
}

// TestPebbleStoreCorrupt: corrupt records are logged, counted, deleted and
// skipped; records of an unknown version are logged and left alone; the
// good ones load.
func TestPebbleStoreCorrupt(t *testing.T) {
	e := newPebbleEnv(t)
	ps := e.open(PebbleStoreOptions{})
	good := &SessionState{ClientID: "good", Version: 4, Expiry: int64(time.Hour), ExpiresAt: t0 + int64(time.Hour)}
	if err := ps.SaveSession(good); err != nil {
		t.Fatal(err)
	}
	if err := ps.SaveRetained(&Message{Topic: "ok", Payload: []byte("1"), Retain: true}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Flush(); err != nil {
		t.Fatal(err)
	}
	future := AppendSessionRecord(nil, good)
	future[0] = RecordVersion + 1
	raw := map[string][]byte{
		string(appendSessionKey(nil, "truncated")):  AppendSessionRecord(nil, good)[:sessionHeaderLen+1],
		string(appendSessionKey(nil, "garbage")):    []byte("\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFF"),
		string(appendSessionKey(nil, "future")):     future,
		"q\x05abc":                                  AppendSessionRecord(nil, good), // key component runs past the end
		string(appendRetainedKey(nil, "mismatch")):  AppendRetainedRecord(nil, &Message{Topic: "other", Payload: []byte("1")}),
		string(appendRetainedKey(nil, "empty")):     nil,
		string(appendRetainedKey(nil, "bad-topic")): AppendRetainedRecord(nil, &Message{Topic: "a/#", Payload: []byte("1")}),
	}
	b := e.db.NewBatch()
	for k, v := range raw {
		if err := b.Put([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	b.Close()

	h := e.broker(Options{})
	if h.b.Sessions() != 1 || h.b.Retained() != 1 {
		t.Fatalf("loaded %d sessions, %d retained", h.b.Sessions(), h.b.Retained())
	}
	if n := counterValue(ps.m.dropped[dropStoreCorrupt]); n != 6 {
		t.Fatalf("corrupt records %v", n)
	}
	if n := counterValue(ps.m.dropped[dropStoreVersion]); n != 1 {
		t.Fatalf("unknown-version records %v", n)
	}
	logs := e.logText()
	if c := strings.Count(logs, "record skipped at load"); c != 7 || !strings.Contains(logs, "level=ERROR") {
		t.Fatalf("%d skip lines in\n%s", c, logs)
	}
	if ks := e.keys(storage.TableMQTTSessions); len(ks) != 2 { // good and future
		t.Fatalf("session keys after load %q", ks)
	}
	if ks := e.keys(storage.TableRetained); len(ks) != 1 {
		t.Fatalf("retained keys after load %q", ks)
	}
}

// TestPebbleStoreCoalesce: saves of one session before the writer takes
// them reach the disk once; a delete after a save writes only the delete.
func TestPebbleStoreCoalesce(t *testing.T) {
	e := newPebbleEnv(t)
	reg := prometheus.NewRegistry()
	ps := e.open(PebbleStoreOptions{Linger: time.Hour, Registerer: reg})
	for i := range 100 {
		st := &SessionState{ClientID: "c", Version: 5, Expiry: int64(i + 1)}
		if err := ps.SaveSession(st); err != nil {
			t.Fatal(err)
		}
		if err := ps.SaveRetained(&Message{Topic: "t", Payload: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ps.SaveRetained(&Message{Topic: "u", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := ps.SaveRetained(&Message{Topic: "u"}); err != nil { // empty: a delete
		t.Fatal(err)
	}
	if err := ps.SaveSession(&SessionState{ClientID: "d", Version: 4}); err != nil {
		t.Fatal(err)
	}
	if err := ps.DeleteSession("d"); err != nil {
		t.Fatal(err)
	}
	if err := ps.Flush(); err != nil { // cuts the hour-long linger short
		t.Fatal(err)
	}
	if c, n, co := counterValue(ps.m.commits), counterValue(ps.m.records), counterValue(ps.m.coalesced); c != 1 || n != 4 || co != 200 {
		t.Fatalf("commits %v records %v coalesced %v", c, n, co)
	}
	var got *SessionState
	if err := ps.Load(func(m *Message) {
		if m.Payload[0] != 99 {
			t.Errorf("retained %v, want the last", m.Payload)
		}
	}, func(st *SessionState) { got = st }); err != nil {
		t.Fatal(err)
	}
	if got == nil || got.ClientID != "c" || got.Expiry != 100 {
		t.Fatalf("loaded %+v, want the last save of c only", got)
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ps.SaveSession(got); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("save after close: %v", err)
	}
	if err := ps.Close(); !errors.Is(err, ErrStoreClosed) {
		t.Fatalf("second close: %v", err)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("%d metric families left registered after Close", len(mfs))
	}
}

// TestPebbleStoreCommitError: a commit that fails (the database closed
// under the store) is logged and reported by Flush; the store carries on.
func TestPebbleStoreCommitError(t *testing.T) {
	e := newPebbleEnv(t)
	ps := e.open(PebbleStoreOptions{Linger: -1})
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ps.SaveRetained(&Message{Topic: "t", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := ps.Flush(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("flush: %v", err)
	}
	if err := ps.Flush(); err != nil {
		t.Fatalf("second flush: %v (the error is reported once)", err)
	}
	if !strings.Contains(e.logText(), "commit failed") || counterValue(ps.m.commitErrors) != 1 {
		t.Fatalf("logs:\n%s", e.logText())
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	e.db = nil
}

// TestPebbleStoreConcurrent: event loops saving at once, with Flush from
// another goroutine, under the race detector; the last state of every key
// is what is stored.
func TestPebbleStoreConcurrent(t *testing.T) {
	e := newPebbleEnv(t)
	ps := e.open(PebbleStoreOptions{Linger: time.Millisecond})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			id := string(rune('a' + g))
			for i := range 200 {
				st := &SessionState{ClientID: id, Version: 5, Expiry: int64(i)}
				if err := ps.SaveSession(st); err != nil {
					t.Error(err)
				}
				if i%50 == 0 {
					if err := ps.Flush(); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ps.Flush(); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := ps.Load(func(*Message) {}, func(st *SessionState) {
		n++
		if st.Expiry != 199 {
			t.Errorf("%s: expiry %d, want the last save", st.ClientID, st.Expiry)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d sessions", n)
	}
}

func TestPebbleStoreOptions(t *testing.T) {
	var o PebbleStoreOptions
	o.EnsureDefaults()
	if o.MaxQueued != 1000 || o.Linger != 10*time.Millisecond || o.MaxBatchBytes != 4<<20 || o.Now == nil || o.Logger == nil {
		t.Fatalf("defaults %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o.MaxQueued, o.MaxBatchBytes = -1, -1
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "MaxQueued") || !strings.Contains(err.Error(), "MaxBatchBytes") {
		t.Fatalf("validate: %v", err)
	}
}

// TestPebbleStoreQueuedWithoutShutdown: what is queued for an offline
// persistent session reaches the disk as it is queued, not only when the
// broker shuts down: the broker is abandoned (as in a crash), the store
// flushed, and a new broker over the same database delivers it.
func TestPebbleStoreQueuedWithoutShutdown(t *testing.T) {
	e := newPebbleEnv(t)
	e.open(PebbleStoreOptions{})
	h := e.broker(Options{})
	s := h.client(4, "dev", persistent(3600))
	s.subscribe(1, packets.Subscription{Filter: "cmd/dev", Qos: 1})
	s.drop()
	p := h.client(4, "p")
	p.publish("cmd/dev", "while offline", 1, false, 1)
	if err := e.ps.Flush(); err != nil { // the store's linger, not a shutdown
		t.Fatal(err)
	}
	e.close() // no h.b.Close(): the broker never saves at shutdown

	e.open(PebbleStoreOptions{})
	h2 := e.broker(Options{})
	s2 := h2.dial(4)
	if ack := s2.connect("dev", persistent(3600)); !ack.SessionPresent {
		t.Fatal("session lost")
	}
	if pl := payloads(s2.take()); !equalStrings(pl, []string{"while offline"}) {
		t.Fatalf("after a crash %q", pl)
	}
}
