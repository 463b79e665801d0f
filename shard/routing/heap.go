package routing

// freeHeap holds a group's free agents (online and under capacity), the
// best at the root (level 2). An agent in k groups sits in k heaps; entry
// {a, k} is agent a's membership k, and a.heapIdx[k] is its index here, so
// a load change re-sifts the agent in each of its heaps in O(k log n).
type freeHeap []heapEnt

type heapEnt struct {
	a *agent
	k int32 // index into a.groups / a.heapIdx
}

// better orders agents for level 2: lowest weighted load, then the one
// assigned least recently (so equal loads take turns), then the oldest
// agent (a fixed order, for determinism).
func better(a, b *agent) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	if a.last != b.last {
		return a.last < b.last
	}
	return a.order < b.order
}

func (h freeHeap) set(i int, e heapEnt) {
	h[i] = e
	e.a.heapIdx[e.k] = int32(i)
}

func (h *freeHeap) push(a *agent, k int) {
	*h = append(*h, heapEnt{a, int32(k)})
	i := len(*h) - 1
	a.heapIdx[k] = int32(i)
	h.up(i)
}

// remove takes out the entry at index i.
func (h *freeHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	e := old[i]
	e.a.heapIdx[e.k] = -1
	if i != n {
		old.set(i, old[n])
	}
	old[n] = heapEnt{}
	*h = old[:n]
	if i != n {
		h.fix(i)
	}
}

// fix restores order after the key of the entry at index i changed.
func (h freeHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}

func (h freeHeap) up(i int) {
	e := h[i]
	for i > 0 {
		p := (i - 1) / 2
		if !better(e.a, h[p].a) {
			break
		}
		h.set(i, h[p])
		i = p
	}
	h.set(i, e)
}

// down sifts the entry at i towards the leaves; reports whether it moved.
func (h freeHeap) down(i int) bool {
	e := h[i]
	start := i
	n := len(h)
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && better(h[r].a, h[c].a) {
			c = r
		}
		if !better(h[c].a, e.a) {
			break
		}
		h.set(i, h[c])
		i = c
	}
	h.set(i, e)
	return i != start
}

// best returns the best free agent other than not (nil for no exclusion),
// or nil. The second best of a heap is one of the root's children.
func (h freeHeap) best(not *agent) *agent {
	switch {
	case len(h) == 0:
		return nil
	case h[0].a != not:
		return h[0].a
	case len(h) == 1:
		return nil
	case len(h) == 2 || better(h[1].a, h[2].a):
		return h[1].a
	}
	return h[2].a
}
