package ring

import (
	"math/bits"
	"sync/atomic"
)

// MaxCapacity is the largest capacity NewMPSC accepts.
const MaxCapacity = 1 << 30

// cacheLinePad separates hot atomics. 128 bytes covers the 64-byte line
// plus the adjacent-line prefetcher found on amd64 parts.
type cacheLinePad [128]byte

// slot holds one element and the sequence number that says when it was
// published: seq == pos+1 once the producer that reserved position pos has
// written val. Older values (from earlier laps) never equal pos+1.
type slot[T any] struct {
	seq atomic.Uint64
	val T
}

// MPSC is a bounded, lock-free multi-producer single-consumer queue of T.
// Any number of goroutines may call Push; exactly one goroutine at a time,
// the consumer, may call Pop, PopBatch and Empty. Len and Cap may be called
// from anywhere. See the package documentation for the protocol.
type MPSC[T any] struct {
	_     cacheLinePad
	tail  atomic.Uint64 // next position to reserve; CAS by producers
	_     cacheLinePad
	head  atomic.Uint64 // next position to read; stored by the consumer only
	_     cacheLinePad
	mask  uint64
	slots []slot[T]
	_     cacheLinePad
}

// NewMPSC returns an empty ring holding at least capacity elements.
// The capacity is rounded up to a power of two (at least 1); it panics if
// capacity exceeds MaxCapacity.
func NewMPSC[T any](capacity int) *MPSC[T] {
	n := roundPow2(capacity)
	return &MPSC[T]{mask: uint64(n - 1), slots: make([]slot[T], n)}
}

func roundPow2(capacity int) int {
	if capacity > MaxCapacity {
		panic("ring: capacity exceeds MaxCapacity")
	}
	if capacity <= 1 {
		return 1
	}
	return 1 << bits.Len(uint(capacity-1))
}

// Push appends v and reports whether it fit. It never blocks: a full ring
// returns false at once. The only loop is the CAS that reserves a position,
// and it fails only when another producer reserved that position first, so
// every retry follows someone else's progress (lock-free). Any goroutine.
// Callers that have a sleeping consumer call Notifier.Notify after a
// successful Push.
func (r *MPSC[T]) Push(v T) bool {
	for {
		pos := r.tail.Load()
		// Read head after tail: if the ring looks full now, it was full at
		// the moment head was read, since tail can only have grown.
		used := int64(pos - r.head.Load())
		if used > int64(r.mask) {
			return false
		}
		if used < 0 {
			continue // pos went stale while the consumer moved past it
		}
		if r.tail.CompareAndSwap(pos, pos+1) {
			// head > pos-cap: the consumer is done with this slot's
			// previous element and will not touch the slot until seq moves.
			s := &r.slots[pos&r.mask]
			s.val = v
			s.seq.Store(pos + 1)
			return true
		}
	}
}

// Pop removes and returns the oldest element. It returns false when the ring
// is empty, or when the next element is reserved but not yet published by its
// producer (the producer's Notify will follow). Consumer only.
func (r *MPSC[T]) Pop() (T, bool) {
	var zero T
	pos := r.head.Load()
	s := &r.slots[pos&r.mask]
	if s.seq.Load() != pos+1 {
		return zero, false
	}
	v := s.val
	s.val = zero // do not keep pointers alive
	r.head.Store(pos + 1)
	return v, true
}

// PopBatch appends up to cap(dst)-len(dst) elements to dst, oldest first,
// and returns the extended slice. It never grows dst, so it does not
// allocate. It stops at the first slot not yet published, and hands the
// whole batch's slots back to producers with a single store. Consumer only.
func (r *MPSC[T]) PopBatch(dst []T) []T {
	var zero T
	room := cap(dst) - len(dst)
	if room == 0 {
		return dst
	}
	pos := r.head.Load()
	start := pos
	for range room {
		s := &r.slots[pos&r.mask]
		if s.seq.Load() != pos+1 {
			break
		}
		dst = append(dst, s.val)
		s.val = zero
		pos++
	}
	if pos != start {
		r.head.Store(pos)
	}
	return dst
}

// Empty reports whether the next element is unavailable to Pop. It is the
// re-check the consumer passes to Notifier.Wait. Consumer only.
func (r *MPSC[T]) Empty() bool {
	pos := r.head.Load()
	return r.slots[pos&r.mask].seq.Load() != pos+1
}

// Len returns the number of elements reserved by producers and not yet
// consumed. It is a snapshot for gauges: elements being pushed count
// before they are visible to Pop. Any goroutine.
func (r *MPSC[T]) Len() int {
	head := r.head.Load() // head first: tail only grows, so tail >= head
	tail := r.tail.Load()
	n := tail - head
	if n > r.mask+1 {
		n = r.mask + 1 // head went stale while tail moved on
	}
	return int(n)
}

// Cap returns the number of slots. Any goroutine.
func (r *MPSC[T]) Cap() int { return int(r.mask + 1) }
