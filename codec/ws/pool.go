package ws

import (
	"math/bits"
	"sync"
)

// Pool supplies the reassembly buffers of fragmented messages. Get returns a
// buffer whose capacity is at least size (its length does not matter: the
// Decoder truncates it); Put takes back a buffer that Get returned. Both may
// be called from any event loop at once.
//
// BufferPool implements it; any other size-class pool with these two
// methods (for example the project's shared one) may be used instead.
type Pool interface {
	Get(size int) *[]byte
	Put(b *[]byte)
}

// Size classes of BufferPool: powers of two from 1 KiB to 16 MiB.
const (
	minClassShift = 10
	numClasses    = 15
	maxClassSize  = 1 << (minClassShift + numClasses - 1)
)

// BufferPool is a size-class pool of byte slices: one sync.Pool per power
// of two from 1 KiB to 16 MiB. A request is served from the smallest class
// that fits; larger requests are allocated and dropped on Put, as are
// buffers whose capacity is not exactly a class size.
//
// The pool holds *[]byte rather than []byte, so a warm Get/Put pair does not
// allocate. The zero value is ready to use; a BufferPool must not be copied
// after first use.
type BufferPool struct {
	classes [numClasses]sync.Pool
}

// classOf returns the index of the smallest class holding size bytes, or -1
// when size is larger than the largest class.
func classOf(size int) int {
	if size <= 1<<minClassShift {
		return 0
	}
	if size > maxClassSize {
		return -1
	}
	return bits.Len(uint(size-1)) - minClassShift
}

// Get returns a buffer with length 0 and capacity at least size.
func (p *BufferPool) Get(size int) *[]byte {
	c := classOf(size)
	if c < 0 {
		b := make([]byte, 0, size)
		return &b
	}
	if x, _ := p.classes[c].Get().(*[]byte); x != nil {
		*x = (*x)[:0]
		return x
	}
	b := make([]byte, 0, 1<<(minClassShift+c))
	return &b
}

// Put returns b to its class. Buffers whose capacity is not a class size
// (grown elsewhere, or larger than 16 MiB) are dropped for the garbage
// collector.
func (p *BufferPool) Put(b *[]byte) {
	if b == nil {
		return
	}
	n := cap(*b)
	c := classOf(n)
	if c < 0 || n != 1<<(minClassShift+c) {
		return
	}
	*b = (*b)[:0]
	p.classes[c].Put(b)
}

// getBuf takes a buffer of capacity at least size from pool, or allocates
// one when there is no pool.
func getBuf(pool Pool, size int) *[]byte {
	if pool != nil {
		b := pool.Get(size)
		*b = (*b)[:0]
		return b
	}
	b := make([]byte, 0, size)
	return &b
}

// putBuf gives b back to pool, if there is one.
func putBuf(pool Pool, b *[]byte) {
	if pool != nil && b != nil {
		pool.Put(b)
	}
}
