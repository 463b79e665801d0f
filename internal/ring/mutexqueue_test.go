package ring

import "sync"

// MutexQueue is the baseline MPSC must beat: a mutex around a power-of-two
// slice ring, with the same API. It lives in a test file because only the
// benchmarks use it.
type MutexQueue[T any] struct {
	mu   sync.Mutex
	buf  []T
	head uint64
	tail uint64
	mask uint64
}

func NewMutexQueue[T any](capacity int) *MutexQueue[T] {
	n := roundPow2(capacity)
	return &MutexQueue[T]{buf: make([]T, n), mask: uint64(n - 1)}
}

func (q *MutexQueue[T]) Push(v T) bool {
	q.mu.Lock()
	if q.tail-q.head > q.mask {
		q.mu.Unlock()
		return false
	}
	q.buf[q.tail&q.mask] = v
	q.tail++
	q.mu.Unlock()
	return true
}

func (q *MutexQueue[T]) Pop() (T, bool) {
	var zero T
	q.mu.Lock()
	if q.head == q.tail {
		q.mu.Unlock()
		return zero, false
	}
	i := q.head & q.mask
	v := q.buf[i]
	q.buf[i] = zero
	q.head++
	q.mu.Unlock()
	return v, true
}

func (q *MutexQueue[T]) PopBatch(dst []T) []T {
	var zero T
	q.mu.Lock()
	for len(dst) < cap(dst) && q.head != q.tail {
		i := q.head & q.mask
		dst = append(dst, q.buf[i])
		q.buf[i] = zero
		q.head++
	}
	q.mu.Unlock()
	return dst
}

func (q *MutexQueue[T]) Empty() bool {
	q.mu.Lock()
	e := q.head == q.tail
	q.mu.Unlock()
	return e
}

func (q *MutexQueue[T]) Len() int {
	q.mu.Lock()
	n := int(q.tail - q.head)
	q.mu.Unlock()
	return n
}

func (q *MutexQueue[T]) Cap() int { return int(q.mask + 1) }
