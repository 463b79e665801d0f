package wheel

import "github.com/kefu-im/kefu/internal/ring"

// drainBatch is how many registrations Advance moves per PopBatch.
const drainBatch = 256

// entry is an item with its deadline in unix nanoseconds.
type entry[T any] struct {
	item     T
	deadline int64
}

// Wheel is a hashed timing wheel. Schedule may be called from any goroutine;
// Advance, Len and the fire callback run on the single owner goroutine.
type Wheel[T any] struct {
	reg *ring.MPSC[entry[T]] // Schedule → Advance

	// Owner-only state below.
	tick    int64 // nanoseconds
	mask    int64
	slots   [][]entry[T]
	cur     int64 // tick number of the last Advance; its slot is visited again
	started bool
	n       int        // items held in slots
	drain   []entry[T] // PopBatch scratch
	resched []entry[T] // items kept by fire, inserted after the sweep
}

// New returns an empty wheel. Zero fields of opts take their defaults.
func New[T any](opts Options) (*Wheel[T], error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Wheel[T]{
		reg:   ring.NewMPSC[entry[T]](opts.QueueSize),
		tick:  int64(opts.Tick),
		mask:  int64(opts.Slots - 1),
		slots: make([][]entry[T], opts.Slots),
		drain: make([]entry[T], 0, drainBatch),
	}, nil
}

// Schedule registers item to fire at deadline (unix nanoseconds). It never
// blocks and reports false when the registration queue is full; the item is
// then not scheduled. A deadline already past fires on the next Advance.
// Any goroutine, including the owner inside fire.
func (w *Wheel[T]) Schedule(item T, deadline int64) bool {
	return w.reg.Push(entry[T]{item, deadline})
}

// Advance moves the wheel to now (unix nanoseconds). It first takes in every
// pending registration, then calls fire for each item whose deadline is at
// or before now, in no particular order. If fire returns keep, the item is
// scheduled again at next; a next at or before now fires on the following
// Advance, not this one. Advance returns the number of fire calls.
//
// An item fires on the first Advance whose now has reached its deadline:
// never early, and with Advance running once per tick, less than one tick
// late. Time going backwards fires nothing. Owner goroutine only; fire must
// not call Advance.
func (w *Wheel[T]) Advance(now int64, fire func(item T) (next int64, keep bool)) int {
	target := floorDiv(now, w.tick)
	if !w.started {
		w.cur, w.started = target, true
		if w.n > 0 {
			// Range took registrations in before the wheel knew the time;
			// past-due ones may sit in any slot, so visit every slot once.
			w.cur = target - w.mask
		}
	}
	w.takeRegistrations()
	if target < w.cur {
		return 0
	}

	// Visit the slots of ticks cur..target. Slot cur was visited by the last
	// Advance partway through its tick; items due later in that tick are
	// still there.
	steps := target - w.cur + 1
	if steps > w.mask+1 {
		steps = w.mask + 1 // a long pause: visit each slot once
	}
	fired := 0
	for i := range steps {
		s := (w.cur + i) & w.mask
		items := w.slots[s]
		kept := items[:0]
		for _, e := range items {
			if e.deadline > now {
				kept = append(kept, e) // later in this tick, or a later round
				continue
			}
			fired++
			if next, keep := fire(e.item); keep {
				w.resched = append(w.resched, entry[T]{e.item, next})
			}
		}
		clear(items[len(kept):]) // drop references to fired items
		w.slots[s] = kept
	}
	w.n -= fired
	w.cur = target

	for _, e := range w.resched {
		w.insert(e)
	}
	clear(w.resched)
	w.resched = w.resched[:0]
	return fired
}

// takeRegistrations moves what is on the registration ring into slots: at
// most one ring's worth, so producers that never pause cannot keep the
// owner here.
func (w *Wheel[T]) takeRegistrations() {
	for budget := w.reg.Cap(); budget > 0; budget -= cap(w.drain) {
		w.drain = w.reg.PopBatch(w.drain[:0])
		for _, e := range w.drain {
			w.insert(e)
		}
		n := len(w.drain)
		clear(w.drain)
		if n < cap(w.drain) {
			return
		}
	}
}

// insert puts e into the slot of its deadline's tick, or into the slot of
// the current tick if that has passed, which the next Advance visits first.
func (w *Wheel[T]) insert(e entry[T]) {
	t := floorDiv(e.deadline, w.tick)
	if t < w.cur {
		t = w.cur
	}
	s := t & w.mask
	w.slots[s] = append(w.slots[s], e)
	w.n++
}

// floorDiv returns floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Len returns the number of items in the wheel, not counting registrations
// still on the queue. Owner goroutine only.
func (w *Wheel[T]) Len() int { return w.n }

// Queued returns the approximate number of registrations waiting for the next
// Advance, for a gauge. Any goroutine.
func (w *Wheel[T]) Queued() int { return w.reg.Len() }

// Tick returns the wheel's resolution in nanoseconds.
func (w *Wheel[T]) Tick() int64 { return w.tick }
