package routing

// fifo is one group's queue of waiting conversations. Conversations enter
// at the back (arrivals) or the front (requeues), leave from the front
// (drain) or from anywhere (close, claim, transfer), and any one's position
// is a prefix count.
//
// Entries live in a slice of slots; a removed entry leaves a hole (nil)
// that the span [lo, hi) closes over at either end and a compaction drops
// once holes outnumber entries. A Fenwick tree over the slots counts live
// entries, so a position costs O(log n). Each conversation remembers its
// slot (conv.slot), rewritten when slots move.
//
//	slots:  [ · · │ c1 c2 ·  c3 · c4 │ · · · ]     · = empty slot or hole
//	               lo                 hi
//	position(c3) = live entries in slots[0..slot(c3)] = 3
//
// Every operation is O(log n) amortised; a rebuild is O(n) and happens
// after Ω(n) operations. Steady state (as many leave as arrive) allocates
// nothing: a rebuild of the same size reuses a spare pair of slices.
type fifo struct {
	slots    []*conv
	fen      []int32 // Fenwick tree, 1-based: fen[i+1] covers slots[i]
	lo, hi   int
	n        int
	spare    []*conv // same length as slots, for in-place rebuilds
	spareFen []int32
}

const minFifoSize = 16

func (q *fifo) len() int { return q.n }

func (q *fifo) add(i int, d int32) {
	for j := i + 1; j < len(q.fen); j += j & -j {
		q.fen[j] += d
	}
}

// prefix counts live entries in slots[0..i].
func (q *fifo) prefix(i int) int {
	s := int32(0)
	for j := i + 1; j > 0; j -= j & -j {
		s += q.fen[j]
	}
	return int(s)
}

// position is c's 1-based place in the queue; c must be in it.
func (q *fifo) position(c *conv) int { return q.prefix(c.slot) }

// front returns the first entry, nil if empty.
func (q *fifo) front() *conv {
	if q.n == 0 {
		return nil
	}
	return q.slots[q.lo] // lo never rests on a hole
}

func (q *fifo) pushBack(c *conv) {
	if q.hi == len(q.slots) {
		size := q.sizeFor(q.n + 1)
		q.rebuild(size, size/8)
	}
	q.put(q.hi, c)
	q.hi++
}

func (q *fifo) pushFront(c *conv) {
	if q.lo == 0 {
		size := q.sizeFor(q.n + 1)
		q.rebuild(size, (size-q.n)/2)
	}
	q.lo--
	q.put(q.lo, c)
}

func (q *fifo) put(i int, c *conv) {
	q.slots[i] = c
	c.slot = i
	q.add(i, 1)
	q.n++
}

// remove takes c out; c must be in the queue.
func (q *fifo) remove(c *conv) {
	i := c.slot
	if i < q.lo || i >= q.hi || q.slots[i] != c {
		panic("BUG: routing: removing a conversation that is not in this queue")
	}
	q.slots[i] = nil
	q.add(i, -1)
	q.n--
	c.slot = -1
	for q.lo < q.hi && q.slots[q.lo] == nil {
		q.lo++
	}
	for q.hi > q.lo && q.slots[q.hi-1] == nil {
		q.hi--
	}
	if q.n == 0 {
		q.lo, q.hi = len(q.slots)/8, len(q.slots)/8
		return
	}
	if holes := q.hi - q.lo - q.n; holes > q.n+minFifoSize {
		q.rebuild(len(q.slots), len(q.slots)/8)
	}
}

// sizeFor returns the slot count for n entries: the current one while n
// fills at most half of it, doubled otherwise.
func (q *fifo) sizeFor(n int) int {
	size := max(len(q.slots), minFifoSize)
	for 2*n > size {
		size *= 2
	}
	return size
}

// rebuild lays the live entries out contiguously from slot front in
// slices of the given size, and rebuilds the tree in O(size).
func (q *fifo) rebuild(size, front int) {
	var slots []*conv
	var fen []int32
	if size == len(q.slots) && len(q.spare) == size {
		slots, fen = q.spare, q.spareFen
	} else {
		slots, fen = make([]*conv, size), make([]int32, size+1)
	}
	j := front
	for i := q.lo; i < q.hi; i++ {
		if c := q.slots[i]; c != nil {
			slots[j] = c
			c.slot = j
			j++
		}
	}
	clear(fen)
	for i := front; i < j; i++ {
		fen[i+1] = 1
	}
	for i := 1; i <= size; i++ { // linear-time Fenwick construction
		if p := i + i&-i; p <= size {
			fen[p] += fen[i]
		}
	}
	old, oldFen := q.slots, q.fen
	q.slots, q.fen = slots, fen
	q.lo, q.hi = front, j
	if len(old) == size {
		clear(old)
		q.spare, q.spareFen = old, oldFen
	} else {
		q.spare, q.spareFen = nil, nil
	}
}

// each calls f for every entry in order with its position, stopping early
// when f returns false.
func (q *fifo) each(f func(c *conv, pos int) bool) {
	pos := 0
	for i := q.lo; i < q.hi; i++ {
		if c := q.slots[i]; c != nil {
			pos++
			if !f(c, pos) {
				return
			}
		}
	}
}
