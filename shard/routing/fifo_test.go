package routing

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestFifoAgainstSlice drives the queue and a plain slice with the same
// random pushes and removals and compares order and positions.
func TestFifoAgainstSlice(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var q fifo
	var ref []*conv
	n := 0
	for step := range 20000 {
		switch op := rnd.IntN(10); {
		case op < 4:
			c := &conv{id: strconv.Itoa(n), slot: -1}
			n++
			q.pushBack(c)
			ref = append(ref, c)
		case op < 5:
			c := &conv{id: strconv.Itoa(n), slot: -1}
			n++
			q.pushFront(c)
			ref = slices.Insert(ref, 0, c)
		case op < 7 && len(ref) > 0:
			c := q.front()
			if c != ref[0] {
				t.Fatalf("step %d: front %s, want %s", step, c.id, ref[0].id)
			}
			q.remove(c)
			ref = ref[1:]
		case len(ref) > 0:
			i := rnd.IntN(len(ref))
			q.remove(ref[i])
			if ref[i].slot != -1 {
				t.Fatal("removed entry keeps a slot")
			}
			ref = slices.Delete(ref, i, i+1)
		}
		if q.len() != len(ref) {
			t.Fatalf("step %d: len %d, want %d", step, q.len(), len(ref))
		}
		if step%97 == 0 || len(ref) < 8 {
			i := 0
			q.each(func(c *conv, pos int) bool {
				if c != ref[i] || pos != i+1 || q.position(c) != pos {
					t.Fatalf("step %d: place %d holds %s (pos %d, tree %d), want %s", step, i+1, c.id, pos, q.position(c), ref[i].id)
				}
				i++
				return true
			})
			if i != len(ref) {
				t.Fatalf("step %d: walked %d entries, want %d", step, i, len(ref))
			}
		}
	}
	if len(q.slots) > 4*max(len(ref), minFifoSize)*2 {
		t.Errorf("%d slots for %d entries", len(q.slots), len(ref))
	}
}

// TestFifoSteadyStateNoAlloc: as many leave as arrive → no allocation.
func TestFifoSteadyStateNoAlloc(t *testing.T) {
	var q fifo
	cs := make([]*conv, 1000)
	for i := range cs {
		cs[i] = &conv{slot: -1}
		q.pushBack(cs[i])
	}
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		c := q.front()
		q.remove(c)
		q.pushBack(c)
		// a hole in the middle too
		m := cs[(i*7)%len(cs)]
		q.remove(m)
		q.pushBack(m)
		i++
	})
	if allocs != 0 {
		t.Errorf("%v allocations per cycle, want 0", allocs)
	}
}

func TestFifoRemoveForeignPanics(t *testing.T) {
	var q fifo
	q.pushBack(&conv{slot: -1})
	defer func() {
		if recover() == nil {
			t.Error("removing a conversation not in the queue did not panic")
		}
	}()
	q.remove(&conv{slot: 0})
}
