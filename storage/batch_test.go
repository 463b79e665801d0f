package storage

import (
	"testing"
)

// TestBatchStagingDoesNotAllocate stages every kind of operation into a
// warmed batch: the group-commit hot path must not allocate per message.
func TestBatchStagingDoesNotAllocate(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	val := make([]byte, 200)
	site := []byte("s\x04site")
	conv := "conversation-0123456789"
	stage := func(seq uint64) {
		if err := b.PutMessage(conv, seq, val); err != nil {
			t.Fatal(err)
		}
		if err := b.PutDedup(conv, "client-msg-id-0123", seq); err != nil {
			t.Fatal(err)
		}
		if err := b.PutConversation(conv, val); err != nil {
			t.Fatal(err)
		}
		if err := b.Put(site, val); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(site); err != nil {
			t.Fatal(err)
		}
	}
	const perCommit = 64
	seq := uint64(0)
	for range 3 { // warm up: grow the buffer, then commit and reuse it
		for range perCommit {
			seq++
			stage(seq)
		}
		must(t, b.Commit())
	}
	allocs := testing.AllocsPerRun(500, func() {
		seq++
		stage(seq)
		if b.Len() >= perCommit*5 {
			b.Reset()
		}
	})
	if allocs != 0 {
		t.Fatalf("staging into a warmed batch: %v allocs per message", allocs)
	}
	// The batch still commits what it holds after the measured runs.
	n := b.Len()
	must(t, b.Commit())
	if n == 0 || b.Len() != 0 {
		t.Fatalf("Len before/after commit %d/%d", n, b.Len())
	}
	if last, err := s.LastSeq(conv); err != nil || last != seq {
		t.Fatalf("LastSeq = %d %v, want %d", last, err, seq)
	}
}

func TestBatchResetDiscards(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync)
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	must(t, b.PutMessage("c", 1, []byte("x")))
	b.Reset()
	must(t, b.Commit())
	if last, err := s.LastSeq("c"); err != nil || last != 0 {
		t.Fatalf("LastSeq after Reset = %d %v", last, err)
	}
	// The caller may reuse its slices right after staging.
	v := []byte("first")
	must(t, b.PutMessage("c", 1, v))
	copy(v, "reuse")
	must(t, b.Commit())
	if got, ok, err := s.Get(AppendMessageKey(nil, "c", 1)); err != nil || !ok || string(got) != "first" {
		t.Fatalf("Get = %q %v %v", got, ok, err)
	}
}

// TestLargeBatch commits a batch bigger than half a memtable (Pebble turns it
// into a flushable batch and keeps its buffer) and checks the batch is
// reusable afterwards.
func TestLargeBatch(t *testing.T) {
	s := openTest(t, t.TempDir(), DurabilityAsync) // 4 MiB memtable
	defer s.Close()
	b := s.NewBatch()
	defer b.Close()
	val := make([]byte, 4096)
	const n = 1024 // 4 MiB of values
	for seq := uint64(1); seq <= n; seq++ {
		must(t, b.PutMessage("big", seq, val))
	}
	must(t, b.Commit())
	must(t, b.PutMessage("big", n+1, val))
	must(t, b.Commit())
	if last, err := s.LastSeq("big"); err != nil || last != n+1 {
		t.Fatalf("LastSeq = %d %v", last, err)
	}
}
