package storage

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

const benchValueLen = 256 // a typical encoded chat message

// reportPerMessage adds ns/msg and msgs/s for a benchmark whose iterations
// each handle perOp messages.
func reportPerMessage(b *testing.B, perOp int) {
	msgs := float64(b.N) * float64(perOp)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
}

// benchCommit measures one group commit of n messages per iteration.
func benchCommit(b *testing.B, d Durability, n int) {
	s := openBench(b, b.TempDir(), d)
	defer s.Close()
	batch := s.NewBatch()
	defer batch.Close()
	val := make([]byte, benchValueLen)
	seq := uint64(0)
	b.SetBytes(int64(n * benchValueLen))
	b.ReportAllocs()
	for b.Loop() {
		for range n {
			seq++
			if err := batch.PutMessage("bench-conversation", seq, val); err != nil {
				b.Fatal(err)
			}
		}
		if err := batch.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	reportPerMessage(b, n)
}

func BenchmarkCommitSync(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) { benchCommit(b, DurabilitySync, n) })
	}
}

func BenchmarkCommitAsync(b *testing.B) {
	for _, n := range []int{1, 16, 128} {
		b.Run("batch="+strconv.Itoa(n), func(b *testing.B) { benchCommit(b, DurabilityAsync, n) })
	}
}

// BenchmarkCommitSyncShards runs several shard writers at once, each a
// goroutine with its own batch and conversation, committing batches of 16
// with DurabilitySync: overlapping commits share fsyncs in Pebble's commit
// pipeline. One op is one commit of one shard.
func BenchmarkCommitSyncShards(b *testing.B) {
	for _, shards := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("shards=%d/batch=16", shards), func(b *testing.B) {
			const n = 16
			s := openBench(b, b.TempDir(), DurabilitySync)
			defer s.Close()
			val := make([]byte, benchValueLen)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.SetBytes(n * benchValueLen)
			b.ReportAllocs()
			b.ResetTimer()
			for w := range shards {
				wg.Go(func() {
					conv := "shard-" + strconv.Itoa(w)
					batch := s.NewBatch()
					defer batch.Close()
					seq := uint64(0)
					for next.Add(1) <= int64(b.N) {
						for range n {
							seq++
							if err := batch.PutMessage(conv, seq, val); err != nil {
								b.Error(err)
								return
							}
						}
						if err := batch.Commit(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			reportPerMessage(b, n)
		})
	}
}

// BenchmarkStage measures staging alone (PutMessage + PutDedup per message)
// into a warmed batch, discarded every 128 messages.
func BenchmarkStage(b *testing.B) {
	s := openBench(b, b.TempDir(), DurabilityAsync)
	defer s.Close()
	batch := s.NewBatch()
	defer batch.Close()
	val := make([]byte, benchValueLen)
	seq := uint64(0)
	b.SetBytes(benchValueLen)
	b.ReportAllocs()
	for b.Loop() {
		seq++
		if err := batch.PutMessage("bench-conversation", seq, val); err != nil {
			b.Fatal(err)
		}
		if err := batch.PutDedup("bench-conversation", "client-msg-id-0001", seq); err != nil {
			b.Fatal(err)
		}
		if batch.Len() >= 256 {
			batch.Reset()
		}
	}
}

// openPopulated returns a store holding msgs messages of "bench" (plus one
// dedup entry each), flushed to sstables by a Close and reopen so reads go
// through the block cache as they would after a restart.
func openPopulated(b *testing.B, msgs uint64) *Store {
	dir := b.TempDir()
	s := openBench(b, dir, DurabilityAsync)
	batch := s.NewBatch()
	val := make([]byte, benchValueLen)
	for seq := uint64(1); seq <= msgs; seq++ {
		must(b, batch.PutMessage("bench", seq, val))
		must(b, batch.PutDedup("bench", "cm-"+strconv.FormatUint(seq, 10), seq))
		if batch.Len() >= 512 {
			must(b, batch.Commit())
		}
	}
	must(b, batch.Commit())
	must(b, batch.Close())
	must(b, s.Close())
	return openBench(b, dir, DurabilityAsync)
}

// BenchmarkHistory reads pages of 50 messages at varying cursors out of a
// 10,000-message conversation.
func BenchmarkHistory(b *testing.B) {
	const msgs, pageLen = 10000, 50
	s := openPopulated(b, msgs)
	defer s.Close()
	var sink int
	fn := func(_ uint64, v []byte) error { sink += len(v); return nil }
	after := uint64(0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.History("bench", after, pageLen, fn); err != nil {
			b.Fatal(err)
		}
		after = (after + 997) % (msgs - pageLen)
	}
	reportPerMessage(b, pageLen)
}

func BenchmarkHistoryBefore(b *testing.B) {
	const msgs, pageLen = 10000, 50
	s := openPopulated(b, msgs)
	defer s.Close()
	var sink int
	fn := func(_ uint64, v []byte) error { sink += len(v); return nil }
	before := uint64(msgs)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.HistoryBefore("bench", before, pageLen, fn); err != nil {
			b.Fatal(err)
		}
		before = pageLen + 1 + (before+997)%(msgs-pageLen)
	}
	reportPerMessage(b, pageLen)
}

func BenchmarkLastSeq(b *testing.B) {
	s := openPopulated(b, 10000)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.LastSeq("bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDedup(b *testing.B) {
	s := openPopulated(b, 10000)
	defer s.Close()
	for _, tc := range []struct{ name, id string }{{"hit", "cm-5000"}, {"miss", "cm-none"}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.Dedup("bench", tc.id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openBench opens a store with the production defaults (64 MiB cache,
// 32 MiB memtable).
func openBench(b *testing.B, dir string, d Durability) *Store {
	return openTestSize(b, dir, d, DefaultCacheSize, DefaultMemTableSize)
}
