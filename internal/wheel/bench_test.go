package wheel

import (
	"testing"
	"time"
)

// BenchmarkAdvance100k keeps 100k connections in a default wheel (100ms tick,
// 512 slots) with a 60s idle timeout, so each tick fires about 1/600 of
// them and reschedules them, and visits slots holding later rounds. One op is
// one Advance by one tick.
func BenchmarkAdvance100k(b *testing.B) {
	const (
		n       = 100_000
		tick    = int64(100 * time.Millisecond)
		timeout = int64(60 * time.Second)
	)
	w, err := New[int32](Options{QueueSize: 1 << 17})
	if err != nil {
		b.Fatal(err)
	}
	now := base
	w.Advance(now, nil)
	for i := range n {
		w.Schedule(int32(i), now+int64(i)*timeout/n)
	}
	fire := func(int32) (int64, bool) { return now + timeout, true }
	// Warm up over a whole timeout so slot slices reach their steady size.
	for range timeout / tick {
		now += tick
		w.Advance(now, fire)
	}
	fired := 0
	b.ReportAllocs()
	for b.Loop() {
		now += tick
		fired += w.Advance(now, fire)
	}
	b.ReportMetric(float64(fired)/float64(b.N), "fired/op")
	if w.Len() != n {
		b.Fatalf("Len = %d, want %d", w.Len(), n)
	}
}

// BenchmarkSchedule measures Schedule plus the Advance that takes the
// registration in, amortised over batches of 256.
func BenchmarkSchedule(b *testing.B) {
	const batch = 256
	w, err := New[int32](Options{})
	if err != nil {
		b.Fatal(err)
	}
	now := base
	w.Advance(now, nil)
	fire := func(int32) (int64, bool) { return 0, false }
	step := func() {
		for i := range batch {
			w.Schedule(int32(i), now)
		}
		now += int64(DefaultTick)
		w.Advance(now, fire)
	}
	for range DefaultSlots { // warm up: every slot reaches batch entries
		step()
	}
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/item")
}
