package storage

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// putIndex commits index entries (site, visitor, created, conv).
func putIndex(t *testing.T, s *Store, rows ...[4]string) {
	t.Helper()
	b := s.NewBatch()
	defer b.Close()
	for _, r := range rows {
		var created int64
		fmt.Sscan(r[2], &created)
		if err := b.PutConversationIndex(r[0], r[1], created, r[3]); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
}

// allPages follows cursors to the end with page size limit.
func allPages(t *testing.T, page func(cursor string) ([]string, string, error)) (all []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		convs, next, err := page(cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, convs...)
		pages++
		if next == "" {
			return all, pages
		}
		if pages > 100 {
			t.Fatal("cursor does not advance")
		}
		cursor = next
	}
}

func TestConversationIndex(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	putIndex(t, s,
		[4]string{"shop", "v1", "100", "c1"},
		[4]string{"shop", "v2", "200", "c2"},
		[4]string{"shop", "v1", "300", "c3"},
		[4]string{"shop", "v1", "300", "c3b"}, // same ms: ids decide
		[4]string{"shop", "v3", "400", "c4"},
		[4]string{"shopping", "v1", "250", "x1"}, // a site sharing a prefix
		[4]string{"sho", "v1", "500", "y1"},
	)
	// c3b sorts after c3 (longer id), so newest first it comes first.
	want := []string{"c4", "c3b", "c3", "c2", "c1"}
	for _, limit := range []int{1, 2, 3, 5, 6, 5000} {
		got, pages := allPages(t, func(c string) ([]string, string, error) { return s.SiteConversations("shop", c, limit) })
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: %v, want %v", limit, got, want)
		}
		if wantPages := (len(want) + min(limit, MaxIndexLimit) - 1) / min(limit, MaxIndexLimit); pages != wantPages {
			t.Fatalf("limit %d: %d pages, want %d", limit, pages, wantPages)
		}
	}
	got, _ := allPages(t, func(c string) ([]string, string, error) { return s.VisitorConversations("shop", "v1", c, 2) })
	if !slices.Equal(got, []string{"c3b", "c3", "c1"}) {
		t.Fatalf("visitor v1: %v", got)
	}
	if got, next, err := s.VisitorConversations("shop", "nobody", "", 10); err != nil || len(got) != 0 || next != "" {
		t.Fatalf("unknown visitor: %v %q %v", got, next, err)
	}
	if got, _, _ := s.SiteConversations("shopping", "", 10); !slices.Equal(got, []string{"x1"}) {
		t.Fatalf("other site: %v", got)
	}

	// Time-bounded walks: [Since, Until).
	for _, tc := range []struct {
		r    IndexRange
		want []string
	}{
		{IndexRange{}, want},
		{IndexRange{Since: 200}, []string{"c4", "c3b", "c3", "c2"}},
		{IndexRange{Since: 201}, []string{"c4", "c3b", "c3"}},
		{IndexRange{Until: 300}, []string{"c2", "c1"}},
		{IndexRange{Since: 200, Until: 301}, []string{"c3b", "c3", "c2"}},
		{IndexRange{Since: 1000}, nil},
	} {
		var got []string
		next, err := s.WalkSiteConversations("shop", "", tc.r, func(created int64, conv []byte) (bool, error) {
			got = append(got, string(conv))
			return false, nil
		})
		if err != nil || next != "" || !slices.Equal(got, tc.want) {
			t.Errorf("range %+v: %v next %q err %v, want %v", tc.r, got, next, err, tc.want)
		}
	}
	// A cursor combined with a time bound; the stopping entry gives next.
	var first []string
	next, err := s.WalkSiteConversations("shop", "", IndexRange{Since: 200}, func(created int64, conv []byte) (bool, error) {
		first = append(first, fmt.Sprintf("%s@%d", conv, created))
		return len(first) == 2, nil
	})
	if err != nil || next == "" || !slices.Equal(first, []string{"c4@400", "c3b@300"}) {
		t.Fatalf("first walk: %v %q %v", first, next, err)
	}
	if c := IndexCursor(300, []byte("c3b")); c != next {
		t.Fatalf("IndexCursor = %q, walk cursor %q", c, next)
	}
	var rest []string
	next2, err := s.WalkSiteConversations("shop", next, IndexRange{Since: 200}, func(_ int64, conv []byte) (bool, error) {
		rest = append(rest, string(conv))
		return len(rest) == 2, nil // stops on the last entry of the range: no next
	})
	if err != nil || next2 != "" || !slices.Equal(rest, []string{"c3", "c2"}) {
		t.Fatalf("second walk: %v %q %v", rest, next2, err)
	}
	// An error from fn is returned.
	boom := errors.New("boom")
	if _, err := s.WalkVisitorConversations("shop", "v1", "", IndexRange{}, func(int64, []byte) (bool, error) { return false, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn error: %v", err)
	}
}

func TestConversationIndexRejects(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	long := strings.Repeat("s", MaxIndexIDLen+1)
	for _, tc := range []struct {
		site, visitor string
		created       int64
		conv          string
		want          error
	}{
		{"", "v", 1, "c", ErrIndexID},
		{long, "v", 1, "c", ErrIndexID},
		{"s", "", 1, "c", ErrIndexID},
		{"s", long, 1, "c", ErrIndexID},
		{"s", "v", 1, "", ErrConversationID},
		{"s", "v", 1, strings.Repeat("c", 65), ErrConversationID},
		{"s", "v", -1, "c", ErrCreated},
	} {
		if err := b.PutConversationIndex(tc.site, tc.visitor, tc.created, tc.conv); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc, err, tc.want)
		}
	}
	if b.Len() != 0 {
		t.Fatalf("rejected calls staged %d ops", b.Len())
	}
	// The longest ids fit without trouble.
	if err := b.PutConversationIndex(strings.Repeat("s", MaxIndexIDLen), strings.Repeat("v", MaxIndexIDLen), 1<<62, strings.Repeat("c", 64)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.VisitorConversations(strings.Repeat("s", MaxIndexIDLen), strings.Repeat("v", MaxIndexIDLen), "", 1); err != nil || len(got) != 1 {
		t.Fatalf("longest ids: %v %v", got, err)
	}
	for _, c := range []string{"!", "AAAA", "AAAAAAAAAAAA", "AAAAAAAAAAAAAAAA"} {
		if _, _, err := s.SiteConversations("s", c, 1); !errors.Is(err, ErrCursor) {
			t.Errorf("cursor %q: %v", c, err)
		}
	}
	if _, _, err := s.SiteConversations("s", "", 0); !errors.Is(err, ErrLimit) {
		t.Errorf("limit 0: %v", err)
	}
	if _, _, err := s.SiteConversations("", "", 1); !errors.Is(err, ErrIndexID) {
		t.Errorf("empty site: %v", err)
	}
	if _, err := s.WalkSiteConversations("s", "", IndexRange{Since: -1}, nil); !errors.Is(err, ErrCreated) {
		t.Errorf("negative since: %v", err)
	}
	// Generic writes to the index tables are allowed (they are documented).
	if err := b.Put(append(AppendSiteIndexPrefix(nil, "s"), 0), nil); err != nil {
		t.Errorf("Put into 'x': %v", err)
	}
	if err := b.Delete(AppendVisitorIndexPrefix(nil, "s", "v")); err != nil {
		t.Errorf("Delete in 'v': %v", err)
	}
}

// A corrupt key inside an index range is reported, not skipped.
func TestConversationIndexCorrupt(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	if err := b.Put(append(AppendSiteIndexPrefix(nil, "s"), 1, 2, 3), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SiteConversations("s", "", 10); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("corrupt key: %v", err)
	}
}

func TestPutConversationIndexAllocs(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	for range 10 { // warm the batch buffer
		_ = b.PutConversationIndex("shop", "visitor-1", 1, "conv-1")
	}
	b.Reset()
	if n := testing.AllocsPerRun(100, func() {
		_ = b.PutConversationIndex("shop", "visitor-1", 1767323045000, "conv-1")
		b.Reset()
	}); n != 0 {
		t.Fatalf("PutConversationIndex allocates %v times", n)
	}
}

// FuzzIndexCursor: any cursor string is either refused with ErrCursor or
// walks without panicking, and IndexCursor round-trips through the
// parser for every valid (created, conv).
func FuzzIndexCursor(f *testing.F) {
	f.Add("", int64(0), "c")
	f.Add("AAAAAAAAAAABYw", int64(1767323045000), "conv-1")
	f.Add("////////////", int64(1<<62), strings.Repeat("z", 64))
	s, err := Open(Options{Dir: f.TempDir(), Durability: DurabilityAsync, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	b := s.NewBatch()
	for i := range 5 {
		_ = b.PutConversationIndex("s", "v", int64(i*1000), fmt.Sprintf("c%d", i))
	}
	if err := b.Commit(); err != nil {
		f.Fatal(err)
	}
	b.Close()
	f.Fuzz(func(t *testing.T, cursor string, created int64, conv string) {
		convs, next, err := s.SiteConversations("s", cursor, 2)
		if err != nil && !errors.Is(err, ErrCursor) {
			t.Fatalf("cursor %q: %v", cursor, err)
		}
		if err == nil && (len(convs) > 2 || (next != "" && len(convs) != 2)) {
			t.Fatalf("cursor %q: %v next %q", cursor, convs, next)
		}
		if created < 0 || ValidConversationID(conv) != nil {
			return
		}
		c := IndexCursor(created, []byte(conv))
		raw, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil {
			t.Fatal(err)
		}
		gc, gconv, ok := parseIndexSuffix(raw)
		if !ok || gc != created || string(gconv) != conv {
			t.Fatalf("round trip of (%d, %q): %d %q %v", created, conv, gc, gconv, ok)
		}
	})
}
