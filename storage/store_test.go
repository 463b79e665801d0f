package storage

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
)

func openTest(t testing.TB, dir string, d Durability) *Store {
	return openTestSize(t, dir, d, 8<<20, 4<<20)
}

// openTestSize opens a store with the given block cache and memtable sizes.
func openTestSize(t testing.TB, dir string, d Durability, cache int64, memtable uint64) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Durability: d, CacheSize: cache, MemTableSize: memtable})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msgValue(conv string, seq uint64) []byte {
	return fmt.Appendf(nil, "%s#%d", conv, seq)
}

// commitMessages stores seqs from..to of conv, in batches of per.
func commitMessages(t testing.TB, s *Store, conv string, from, to uint64, per int) {
	t.Helper()
	b := s.NewBatch()
	defer b.Close()
	for seq := from; seq <= to; seq++ {
		if err := b.PutMessage(conv, seq, msgValue(conv, seq)); err != nil {
			t.Fatal(err)
		}
		if b.Len() == per || seq == to {
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

type page struct {
	seqs []uint64
	more bool
}

func history(t *testing.T, s *Store, conv string, after uint64, limit int, before bool) page {
	t.Helper()
	var p page
	fn := func(seq uint64, v []byte) error {
		if want := msgValue(conv, seq); !bytes.Equal(v, want) {
			return fmt.Errorf("seq %d: value %q, want %q", seq, v, want)
		}
		p.seqs = append(p.seqs, seq)
		return nil
	}
	var err error
	if before {
		p.more, err = s.HistoryBefore(conv, after, limit, fn)
	} else {
		p.more, err = s.History(conv, after, limit, fn)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	if from <= to {
		for q := from; q <= to; q++ {
			out = append(out, q)
		}
	} else {
		for q := from; q >= to; q-- {
			out = append(out, q)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityAsync} {
		t.Run(d.String(), func(t *testing.T) {
			s := openTest(t, t.TempDir(), d)
			defer s.Close()
			b := s.NewBatch()
			defer b.Close()
			must(t, b.PutMessage("c1", 1, []byte("hello")))
			must(t, b.PutDedup("c1", "cm-1", 1))
			must(t, b.PutConversation("c1", []byte("meta")))
			must(t, b.Put([]byte("sx"), []byte("site")))
			if b.Len() != 4 || b.Size() == 0 {
				t.Fatalf("Len %d Size %d", b.Len(), b.Size())
			}
			must(t, b.Commit())
			if b.Len() != 0 {
				t.Fatalf("Len after Commit = %d", b.Len())
			}
			p := page{}
			_, err := s.History("c1", 0, 10, func(seq uint64, v []byte) error {
				if string(v) != "hello" {
					t.Errorf("value %q", v)
				}
				p.seqs = append(p.seqs, seq)
				return nil
			})
			must(t, err)
			if !slices.Equal(p.seqs, []uint64{1}) {
				t.Fatalf("history %v", p.seqs)
			}
			v, ok, err := s.Conversation("c1")
			if err != nil || !ok || string(v) != "meta" {
				t.Fatalf("Conversation = %q %v %v", v, ok, err)
			}
			if seq, ok, err := s.Dedup("c1", "cm-1"); err != nil || !ok || seq != 1 {
				t.Fatalf("Dedup = %d %v %v", seq, ok, err)
			}
			if _, ok, err := s.Dedup("c1", "cm-2"); err != nil || ok {
				t.Fatalf("Dedup(missing) = %v %v", ok, err)
			}
			if v, ok, err := s.Get([]byte("sx")); err != nil || !ok || string(v) != "site" {
				t.Fatalf("Get = %q %v %v", v, ok, err)
			}
			if _, ok, err := s.Conversation("nope"); err != nil || ok {
				t.Fatalf("Conversation(missing) = %v %v", ok, err)
			}
			must(t, s.Sync())
			must(t, b.Delete([]byte("sx")))
			must(t, b.Commit())
			if _, ok, err := s.Get([]byte("sx")); err != nil || ok {
				t.Fatalf("Get after Delete = %v %v", ok, err)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestHistoryPaging(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	commitMessages(t, s, "conv", 1, 25, 7)
	tests := []struct {
		name   string
		after  uint64
		limit  int
		before bool
		want   page
	}{
		{"first page", 0, 10, false, page{seqRange(1, 10), true}},
		{"middle page", 10, 10, false, page{seqRange(11, 20), true}},
		{"last page exact", 15, 10, false, page{seqRange(16, 25), false}},
		{"last page short", 20, 10, false, page{seqRange(21, 25), false}},
		{"past the end", 25, 10, false, page{nil, false}},
		{"max after", 1<<64 - 1, 10, false, page{nil, false}},
		{"limit one", 3, 1, false, page{[]uint64{4}, true}},
		{"all in one", 0, 100, false, page{seqRange(1, 25), false}},
		{"back from newest", 0, 10, true, page{seqRange(25, 16), true}},
		{"back from 16", 16, 10, true, page{seqRange(15, 6), true}},
		{"back to the start", 6, 10, true, page{seqRange(5, 1), false}},
		{"back exact", 11, 10, true, page{seqRange(10, 1), false}},
		{"back before 1", 1, 10, true, page{nil, false}},
		{"back from past end", 1000, 3, true, page{seqRange(25, 23), true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := history(t, s, "conv", tt.after, tt.limit, tt.before)
			if !slices.Equal(got.seqs, tt.want.seqs) || got.more != tt.want.more {
				t.Fatalf("got %v more=%v, want %v more=%v", got.seqs, got.more, tt.want.seqs, tt.want.more)
			}
		})
	}
	// Walk both ways page by page, as a client would.
	var all []uint64
	for after, more := uint64(0), true; more; {
		p := history(t, s, "conv", after, 4, false)
		all = append(all, p.seqs...)
		after, more = p.seqs[len(p.seqs)-1], p.more
	}
	if !slices.Equal(all, seqRange(1, 25)) {
		t.Fatalf("forward walk %v", all)
	}
	all = all[:0]
	for before, more := uint64(0), true; more; {
		p := history(t, s, "conv", before, 4, true)
		all = append(all, p.seqs...)
		before, more = p.seqs[len(p.seqs)-1], p.more
	}
	if !slices.Equal(all, seqRange(25, 1)) {
		t.Fatalf("backward walk %v", all)
	}
}

func TestHistoryCallbackError(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	commitMessages(t, s, "c", 1, 5, 5)
	stop := errors.New("stop")
	n := 0
	_, err := s.History("c", 0, 10, func(uint64, []byte) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Fatalf("err %v after %d callbacks", err, n)
	}
}

// TestPrefixConversations stores conversations whose ids are prefixes of one
// another and checks that no read leaks across them.
func TestPrefixConversations(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	counts := map[string]uint64{"a": 3, "ab": 5, "abc": 2, "a\xff": 4, "b": 1, "a\x00": 6}
	b := s.NewBatch()
	defer b.Close()
	for conv, n := range counts {
		for seq := uint64(1); seq <= n; seq++ {
			must(t, b.PutMessage(conv, seq, msgValue(conv, seq)))
			must(t, b.PutDedup(conv, fmt.Sprintf("cm%d", seq), seq))
		}
		must(t, b.PutConversation(conv, []byte(conv)))
	}
	must(t, b.Commit())
	for conv, n := range counts {
		if got := history(t, s, conv, 0, 100, false); !slices.Equal(got.seqs, seqRange(1, n)) || got.more {
			t.Errorf("%q: History %v more=%v", conv, got.seqs, got.more)
		}
		if got := history(t, s, conv, 0, 100, true); !slices.Equal(got.seqs, seqRange(n, 1)) || got.more {
			t.Errorf("%q: HistoryBefore %v more=%v", conv, got.seqs, got.more)
		}
		if last, err := s.LastSeq(conv); err != nil || last != n {
			t.Errorf("%q: LastSeq %d %v, want %d", conv, last, err, n)
		}
		if _, ok, _ := s.Dedup(conv, fmt.Sprintf("cm%d", n+1)); ok {
			t.Errorf("%q: dedup entry of another conversation visible", conv)
		}
	}
	if last, err := s.LastSeq("abcd"); err != nil || last != 0 {
		t.Fatalf("LastSeq(absent) = %d %v", last, err)
	}
	// A listing of conversations sees each exactly once.
	var listed []string
	must(t, s.ScanPrefix([]byte{TableConversations}, func(k, v []byte) error {
		conv, ok := ParseConversationKey(k)
		if !ok || !bytes.Equal(conv, v) {
			return fmt.Errorf("bad conversation record % x → %q", k, v)
		}
		listed = append(listed, string(conv))
		return nil
	}))
	if len(listed) != len(counts) {
		t.Fatalf("listed %q", listed)
	}
	// A prefix scan of one conversation's messages stays inside it.
	n := 0
	must(t, s.ScanPrefix(AppendMessagePrefix(nil, "a"), func(k, _ []byte) error {
		if conv, _, ok := ParseMessageKey(k); !ok || string(conv) != "a" {
			return fmt.Errorf("foreign key % x", k)
		}
		n++
		return nil
	}))
	if n != 3 {
		t.Fatalf("scanned %d messages of \"a\"", n)
	}
	// ErrStop ends a scan without error.
	n = 0
	must(t, s.ScanPrefix(nil, func(_, _ []byte) error { n++; return ErrStop }))
	if n != 1 {
		t.Fatalf("ErrStop: %d callbacks", n)
	}
}

func TestLastSeqAfterReopen(t *testing.T) {
	for _, d := range []Durability{DurabilitySync, DurabilityAsync} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			s := openTest(t, dir, d)
			commitMessages(t, s, "x", 1, 40, 16)
			commitMessages(t, s, "xy", 1, 3, 16)
			must(t, s.Close())
			if err := s.Close(); !errors.Is(err, ErrClosed) {
				t.Fatalf("second Close: %v", err)
			}
			s = openTest(t, dir, d)
			defer s.Close()
			for conv, want := range map[string]uint64{"x": 40, "xy": 3, "z": 0} {
				if got, err := s.LastSeq(conv); err != nil || got != want {
					t.Fatalf("LastSeq(%q) = %d %v, want %d", conv, got, err, want)
				}
			}
			if got := history(t, s, "x", 38, 10, false); !slices.Equal(got.seqs, []uint64{39, 40}) {
				t.Fatalf("history after reopen %v", got.seqs)
			}
		})
	}
}

// TestConcurrentCommits runs four shard-like writers, each with its own
// batch, committing at once, then checks every message.
func TestConcurrentCommits(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilitySync)
	defer s.Close()
	const writers, commits, per = 4, 20, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			b := s.NewBatch()
			defer b.Close()
			seq := uint64(0)
			for range commits {
				for range per {
					seq++
					conv := fmt.Sprintf("w%d-%d", w, seq%3)
					if err := b.PutMessage(conv, seq, msgValue(conv, seq)); err != nil {
						errs <- err
						return
					}
				}
				if err := b.Commit(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	for w := range writers {
		for r := range 3 {
			conv := fmt.Sprintf("w%d-%d", w, r)
			_, err := s.History(conv, 0, 1000, func(seq uint64, v []byte) error {
				if seq%3 != uint64(r) || !bytes.Equal(v, msgValue(conv, seq)) {
					return fmt.Errorf("%s: bad seq %d value %q", conv, seq, v)
				}
				total++
				return nil
			})
			must(t, err)
		}
	}
	if total != writers*commits*per {
		t.Fatalf("found %d messages, want %d", total, writers*commits*per)
	}
}

func TestInvalidArguments(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	long := string(make([]byte, MaxConversationIDLen+1))
	noop := func(uint64, []byte) error { return nil }
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"PutMessage empty conv", b.PutMessage("", 1, nil), ErrConversationID},
		{"PutMessage long conv", b.PutMessage(long, 1, nil), ErrConversationID},
		{"PutMessage seq 0", b.PutMessage("c", 0, nil), ErrSeq},
		{"PutDedup empty id", b.PutDedup("c", "", 1), ErrClientMsgID},
		{"PutDedup long id", b.PutDedup("c", string(make([]byte, 129)), 1), ErrClientMsgID},
		{"PutConversation empty", b.PutConversation("", nil), ErrConversationID},
		{"Put empty key", b.Put(nil, nil), ErrKey},
		{"Put meta", b.Put([]byte("!format"), nil), ErrKey},
		{"Put unknown table", b.Put([]byte("zz"), nil), ErrKey},
		{"Delete unknown table", b.Delete([]byte("Z")), ErrKey},
		{"Get empty", third(s.Get(nil)), ErrKey},
		{"History limit 0", second(s.History("c", 0, 0, noop)), ErrLimit},
		{"HistoryBefore limit -1", second(s.HistoryBefore("c", 0, -1, noop)), ErrLimit},
		{"History bad conv", second(s.History("", 0, 1, noop)), ErrConversationID},
		{"LastSeq bad conv", second(s.LastSeq(long)), ErrConversationID},
		{"Dedup bad id", third(s.Dedup("c", "")), ErrClientMsgID},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	if b.Len() != 0 {
		t.Fatalf("failed staging left %d ops", b.Len())
	}
	must(t, b.Commit()) // empty: nothing to do
}

func second[A any](_ A, err error) error        { return err }
func third[A, B any](_ A, _ B, err error) error { return err }

func TestClosedStore(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	b := s.NewBatch()
	defer b.Close()
	must(t, s.Close())
	must(t, b.PutMessage("c", 1, []byte("x"))) // staging still works
	noop := func(uint64, []byte) error { return nil }
	for name, err := range map[string]error{
		"Commit":        b.Commit(),
		"Get":           third(s.Get([]byte("c"))),
		"Conversation":  third(s.Conversation("c")),
		"Dedup":         third(s.Dedup("c", "x")),
		"LastSeq":       second(s.LastSeq("c")),
		"History":       second(s.History("c", 0, 1, noop)),
		"HistoryBefore": second(s.HistoryBefore("c", 0, 1, noop)),
		"ScanPrefix":    s.ScanPrefix(nil, func(_, _ []byte) error { return nil }),
		"Metrics":       second(s.Metrics()),
		"Sync":          s.Sync(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
	if b.Len() != 0 {
		t.Fatal("failed Commit kept its ops")
	}
}

func TestFormatCheck(t *testing.T) {
	// A Pebble directory with foreign data is refused.
	dir := t.TempDir()
	db, err := pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{l: discardLogger()}})
	must(t, err)
	must(t, db.Set([]byte("foreign"), []byte("x"), pebble.Sync))
	must(t, db.Close())
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrFormat) {
		t.Fatalf("Open(foreign) = %v, want ErrFormat", err)
	}
	// Another format version is refused.
	dir = t.TempDir()
	db, err = pebble.Open(dir, &pebble.Options{Logger: pebbleLogger{l: discardLogger()}})
	must(t, err)
	must(t, db.Set([]byte(formatKey), []byte{2}, pebble.Sync))
	must(t, db.Close())
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrFormat) {
		t.Fatalf("Open(version 2) = %v, want ErrFormat", err)
	}
	// A new store gets the record, readable through Get.
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	if v, ok, err := s.Get([]byte(formatKey)); err != nil || !ok || !bytes.Equal(v, []byte{formatVersion}) {
		t.Fatalf("format record %x %v %v", v, ok, err)
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Durability: DurabilityAsync, Registerer: reg})
	must(t, err)
	commitMessages(t, s, "c", 1, 10, 5)
	history(t, s, "c", 0, 3, false)
	if _, err := Open(Options{Dir: t.TempDir(), Registerer: reg}); err == nil {
		t.Fatal("second store registered the same metrics")
	}
	values := gather(t, reg)
	for name, want := range map[string]float64{
		"kefu_storage_commits_total":           2,
		"kefu_storage_committed_ops_total":     10,
		"kefu_storage_commit_errors_total":     0,
		"kefu_storage_commit_duration_seconds": 2, // sample count
		"kefu_storage_batch_ops":               2,
	} {
		if got, ok := values[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	for _, name := range []string{"kefu_storage_read_duration_seconds", "kefu_storage_disk_usage_bytes",
		"kefu_storage_wal_bytes", "kefu_storage_flushes_total"} {
		if _, ok := values[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	sum, err := s.Metrics()
	must(t, err)
	if sum.DiskUsageBytes == 0 {
		t.Errorf("Summary %+v", sum)
	}
	must(t, s.Close())
	// Close unregistered everything: the same registry takes a new store.
	s, err = Open(Options{Dir: dir, Registerer: reg})
	must(t, err)
	must(t, s.Close())
}

// gather returns, per metric family, the sum of counter/gauge values or of
// histogram sample counts.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	must(t, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()] += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}
