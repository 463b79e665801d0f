package ring

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// queue is the API shared by MPSC and the MutexQueue baseline.
type queue[T any] interface {
	Push(T) bool
	Pop() (T, bool)
	PopBatch([]T) []T
	Empty() bool
}

const benchCap = 1 << 12

func BenchmarkMPSC_PushPop(b *testing.B)       { benchPushPop(b, NewMPSC[*int](benchCap)) }
func BenchmarkMutexQueue_PushPop(b *testing.B) { benchPushPop(b, NewMutexQueue[*int](benchCap)) }

func BenchmarkMPSC_PushPopBatch(b *testing.B) { benchPushPopBatch(b, NewMPSC[*int](benchCap)) }
func BenchmarkMutexQueue_PushPopBatch(b *testing.B) {
	benchPushPopBatch(b, NewMutexQueue[*int](benchCap))
}

func BenchmarkMPSC_Contended(b *testing.B)       { benchContended(b, NewMPSC[*int](benchCap)) }
func BenchmarkMutexQueue_Contended(b *testing.B) { benchContended(b, NewMutexQueue[*int](benchCap)) }

// benchPushPop measures one Push and one Pop on a single goroutine: the cost
// of the atomics without contention.
func benchPushPop(b *testing.B, q queue[*int]) {
	x := new(int)
	b.ReportAllocs()
	for b.Loop() {
		q.Push(x)
		q.Pop()
	}
}

// benchPushPopBatch pushes 32 items and drains them with one PopBatch;
// ns/op is per item.
func benchPushPopBatch(b *testing.B, q queue[*int]) {
	const batch = 32
	x := new(int)
	dst := make([]*int, 0, batch)
	b.ReportAllocs()
	for b.Loop() {
		for range batch {
			q.Push(x)
		}
		dst = q.PopBatch(dst[:0])
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/item")
}

// benchContended runs GOMAXPROCS producers pushing as fast as they can while
// the benchmark goroutine, the single consumer, pops one item per iteration;
// ns/op is the time per item delivered end to end, with the ring saturated.
// Producers yield on a full ring; with GOMAXPROCS above the core count that
// can starve the consumer (see the package documentation), so compare runs
// at -cpu equal to the number of cores.
func benchContended(b *testing.B, q queue[*int]) {
	x := new(int)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var rejected atomic.Int64
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var full int64
			for !stop.Load() {
				if !q.Push(x) {
					full++
					runtime.Gosched()
				}
			}
			rejected.Add(full)
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		for {
			if _, ok := q.Pop(); ok {
				break
			}
			runtime.Gosched()
		}
	}
	stop.Store(true)
	wg.Wait()
	b.ReportMetric(float64(rejected.Load())/float64(b.N), "full/op")
}

func BenchmarkMPSC_ContendedBatch(b *testing.B) { benchContendedBatch(b, NewMPSC[*int](benchCap)) }
func BenchmarkMutexQueue_ContendedBatch(b *testing.B) {
	benchContendedBatch(b, NewMutexQueue[*int](benchCap))
}

// benchContendedBatch is benchContended with the consumer draining through
// PopBatch, the way a shard worker does; ns/op is still per item.
func benchContendedBatch(b *testing.B, q queue[*int]) {
	x := new(int)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !stop.Load() {
				if !q.Push(x) {
					runtime.Gosched()
				}
			}
		})
	}
	buf := make([]*int, 0, 64)
	next := 0
	b.ReportAllocs()
	for b.Loop() {
		// One iteration delivers one item; refill the batch when it runs out.
		for next == len(buf) {
			buf = q.PopBatch(buf[:0])
			next = 0
			if len(buf) == 0 {
				runtime.Gosched()
			}
		}
		next++
	}
	stop.Store(true)
	wg.Wait()
}

func BenchmarkMPSC_ContendedPush(b *testing.B) { benchContendedPush(b, NewMPSC[*int](benchCap)) }
func BenchmarkMutexQueue_ContendedPush(b *testing.B) {
	benchContendedPush(b, NewMutexQueue[*int](benchCap))
}

// benchContendedPush looks from the producer side, the way an event loop
// sees the ring: the benchmark goroutine and GOMAXPROCS-2 others Push and
// Notify, while a consumer drains in batches and sleeps on a Notifier when
// it runs dry. Producers plus consumer fill GOMAXPROCS exactly: with more
// busy goroutines than Ps, the woken consumer waits for a time slice (10ms)
// and the ring stays full, which measures the scheduler, not the ring. Like an event loop, each producer does some work per item
// (simulatedDecode, about the cost of decoding a small frame) and drops the
// item if the ring is full (counted as full/op) instead of waiting. ns/op is
// one simulatedDecode+Push+Notify of the benchmark goroutine.
func benchContendedPush(b *testing.B, q queue[*int]) {
	x := new(int)
	n := NewNotifier()
	done := make(chan struct{})
	var stop atomic.Bool
	var consumer, others sync.WaitGroup
	consumer.Go(func() {
		buf := make([]*int, 0, 64)
		for {
			buf = q.PopBatch(buf[:0])
			if len(buf) == 0 && !n.Wait(done, q.Empty) {
				return
			}
		}
	})
	for range runtime.GOMAXPROCS(0) - 2 {
		others.Go(func() {
			seed := uint64(1)
			for !stop.Load() {
				seed = simulatedDecode(seed)
				if q.Push(x) {
					n.Notify()
				}
			}
		})
	}
	full := 0
	seed := uint64(1)
	b.ReportAllocs()
	for b.Loop() {
		seed = simulatedDecode(seed)
		if q.Push(x) {
			n.Notify()
		} else {
			full++
		}
	}
	stop.Store(true)
	others.Wait()
	close(done)
	consumer.Wait()
	b.ReportMetric(float64(full)/float64(b.N), "full/op")
	sinkSeed = seed
}

var sinkSeed uint64

// simulatedDecode burns roughly 100ns of CPU without touching memory.
func simulatedDecode(x uint64) uint64 {
	for range 64 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

func BenchmarkSimulatedDecode(b *testing.B) {
	seed := uint64(1)
	for b.Loop() {
		seed = simulatedDecode(seed)
	}
	sinkSeed = seed
}
