package bufpool

import (
	"math/bits"
	"sync"
)

// Size classes: powers of two from MinSize to MaxSize.
const (
	minShift = 6
	maxShift = 20

	// MinSize is the capacity of the smallest pooled buffer (64 B).
	MinSize = 1 << minShift
	// MaxSize is the capacity of the largest pooled buffer (1 MiB). Larger
	// requests are served by make and never pooled.
	MaxSize = 1 << maxShift

	classes = maxShift - minShift + 1
)

// Pool hands out byte buffers from power-of-two size classes. The zero value
// is ready to use; it must not be copied after first use. All methods may be
// called from any goroutine.
type Pool struct {
	classes [classes]sync.Pool
}

// Get returns a buffer with length 0 and capacity at least size: the
// smallest class that fits, or exactly size if size exceeds MaxSize. The
// caller owns the buffer until it passes it to Put.
func (p *Pool) Get(size int) *[]byte {
	if size > MaxSize {
		b := make([]byte, 0, size)
		return &b
	}
	c := getClass(size)
	if v := p.classes[c].Get(); v != nil {
		return v.(*[]byte)
	}
	b := make([]byte, 0, MinSize<<c)
	return &b
}

// Put returns b to the pool, resetting its length to 0. The buffer goes to
// the largest class its capacity fully covers, so a buffer grown by append
// is still reused. Buffers smaller than MinSize or larger than MaxSize are
// dropped, as is nil. The caller must not touch b or *b after Put.
func (p *Pool) Put(b *[]byte) {
	if b == nil {
		return
	}
	n := cap(*b)
	if n < MinSize || n > MaxSize {
		return
	}
	*b = (*b)[:0]
	p.classes[putClass(n)].Put(b)
}

// getClass returns the smallest class whose capacity is >= size,
// for size <= MaxSize.
func getClass(size int) int {
	if size <= MinSize {
		return 0
	}
	return bits.Len(uint(size-1)) - minShift
}

// putClass returns the largest class whose capacity is <= n,
// for MinSize <= n <= MaxSize.
func putClass(n int) int {
	return bits.Len(uint(n)) - 1 - minShift
}
