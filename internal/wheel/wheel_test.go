package wheel

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// base is an arbitrary wall-clock origin, deliberately not tick-aligned.
const base = int64(1_750_000_000_123_456_789)

func TestOptions(t *testing.T) {
	var o Options
	o.EnsureDefaults()
	if o != (Options{DefaultTick, DefaultSlots, DefaultQueueSize}) {
		t.Fatalf("EnsureDefaults = %+v", o)
	}
	for _, tc := range []struct {
		name string
		opts Options
		want error
	}{
		{"zero", Options{}, nil},
		{"custom", Options{Tick: time.Second, Slots: 64, QueueSize: 100}, nil},
		{"negative tick", Options{Tick: -1}, ErrTick},
		{"slots not power of two", Options{Slots: 100}, ErrSlots},
		{"negative slots", Options{Slots: -8}, ErrSlots},
		{"negative queue", Options{QueueSize: -1}, ErrQueueSize},
		{"huge queue", Options{QueueSize: math.MaxInt32}, ErrQueueSize},
	} {
		_, err := New[int](tc.opts)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: New error = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tc := range []struct{ a, b, want int64 }{
		{0, 10, 0}, {1, 10, 0}, {9, 10, 0}, {10, 10, 1}, {11, 10, 1},
		{-1, 10, -1}, {-10, 10, -1}, {-11, 10, -2},
		{math.MaxInt64, 1, math.MaxInt64}, {math.MinInt64, 1, math.MinInt64},
	} {
		if got := floorDiv(tc.a, tc.b); got != tc.want {
			t.Errorf("floorDiv(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func mustNew[T any](t testing.TB, o Options) *Wheel[T] {
	t.Helper()
	w, err := New[T](o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestFireWindow checks that each item fires on the first Advance at or
// after its deadline, for deadlines on and off tick boundaries and beyond
// one revolution.
func TestFireWindow(t *testing.T) {
	const tick = int64(100 * time.Millisecond)
	const step = int64(7 * time.Millisecond) // not a divisor of tick
	// Offsets from base.
	offsets := []int64{
		-5 * tick, 0, 1, step, step + 1, tick - 1, tick, tick + 1, 3*tick + tick/2,
		7 * tick, 8*tick - 1, 8 * tick, 8*tick + 1, // around one revolution
		25*tick + 3, 100 * tick,
	}
	w := mustNew[int](t, Options{Tick: time.Duration(tick), Slots: 8})
	w.Advance(base, nil) // start the wheel; nothing scheduled yet
	for i, off := range offsets {
		if !w.Schedule(i, base+off) {
			t.Fatal("Schedule rejected")
		}
	}
	firedAt := make([]int64, len(offsets))
	now := base
	fire := func(i int) (int64, bool) {
		if firedAt[i] != 0 {
			t.Errorf("item %d fired twice", i)
		}
		firedAt[i] = now
		return 0, false
	}
	for now <= base+120*tick {
		now += step
		w.Advance(now, fire)
	}
	for i, off := range offsets {
		// The first Advance after the Schedule calls is at base+step.
		want := base + step
		for want < base+off {
			want += step
		}
		if firedAt[i] != want {
			t.Errorf("offset %d: fired at %+d, want %+d", off, firedAt[i]-base, want-base)
		}
	}
	if w.Len() != 0 {
		t.Errorf("Len = %d after everything fired", w.Len())
	}
}

// TestRandomDeadlines mixes deadlines over many revolutions with irregular
// Advance steps, some longer than a revolution.
func TestRandomDeadlines(t *testing.T) {
	const tick = int64(10 * time.Millisecond)
	const slots = 16 // revolution: 160ms
	rng := rand.New(rand.NewPCG(1, 2))
	w := mustNew[int](t, Options{Tick: time.Duration(tick), Slots: slots, QueueSize: 1 << 12})
	const n = 3000
	deadline := make([]int64, n)
	firedAt := make([]int64, n)
	now := base
	w.Advance(now, nil)
	for i := range n {
		deadline[i] = now + 1 + rng.Int64N(2*int64(time.Second))
		w.Schedule(i, deadline[i])
	}
	var lastNow int64
	fire := func(i int) (int64, bool) {
		if firedAt[i] != 0 {
			t.Errorf("item %d fired twice", i)
		}
		firedAt[i] = now
		if now < deadline[i] {
			t.Errorf("item %d fired %dns early", i, deadline[i]-now)
		}
		if lastNow >= deadline[i] {
			t.Errorf("item %d missed the Advance %dns after its deadline", i, lastNow-deadline[i])
		}
		return 0, false
	}
	for now < base+3*int64(time.Second) {
		step := rng.Int64N(3 * tick)
		if rng.IntN(20) == 0 {
			step = rng.Int64N(4 * slots * tick) // long pause
		}
		lastNow = now
		now += step
		w.Advance(now, fire)
	}
	for i := range n {
		if firedAt[i] == 0 {
			t.Fatalf("item %d (deadline +%dms) never fired", i, (deadline[i]-base)/1e6)
		}
	}
}

// TestReschedule covers the lazy-deadline pattern: each connection keeps its
// last activity in an atomic and fire either closes it or pushes it out.
func TestReschedule(t *testing.T) {
	const tick = int64(100 * time.Millisecond)
	const idle = 30 * tick
	type conn struct {
		last   atomic.Int64
		closed int64
	}
	w := mustNew[*conn](t, Options{Tick: time.Duration(tick), Slots: 16})
	now := base
	w.Advance(now, nil)
	conns := make([]*conn, 50)
	for i := range conns {
		c := &conn{}
		c.last.Store(now)
		conns[i] = c
		w.Schedule(c, now+idle)
	}
	fires := 0
	fire := func(c *conn) (int64, bool) {
		fires++
		if d := c.last.Load() + idle; d > now {
			return d, true // active since: push the deadline out
		}
		c.closed = now
		return 0, false
	}
	// Even connections send something every 10 ticks for 200 ticks, odd
	// ones stay silent.
	for k := 1; k <= 300; k++ {
		now += tick
		if k <= 200 && k%10 == 0 {
			for i := 0; i < len(conns); i += 2 {
				conns[i].last.Store(now)
			}
		}
		w.Advance(now, fire)
	}
	for i, c := range conns {
		var want int64
		if i%2 == 0 {
			want = base + 200*tick + idle // last activity at tick 200
		} else {
			want = base + idle
		}
		if c.closed != want {
			t.Errorf("conn %d closed at %+d ticks, want %+d", i, (c.closed-base)/tick, (want-base)/tick)
		}
	}
	if w.Len() != 0 {
		t.Errorf("Len = %d after all connections closed", w.Len())
	}
	// Each active connection fires once per idle period it survives
	// (ticks 30, 60, ..., 210 → 7 reschedules) plus the close.
	if want := 25*8 + 25; fires != want {
		t.Errorf("fire called %d times, want %d", fires, want)
	}
}

func TestRescheduleDueNowWaitsOneAdvance(t *testing.T) {
	const tick = int64(time.Second)
	w := mustNew[int](t, Options{Tick: time.Duration(tick), Slots: 4})
	now := base
	w.Advance(now, nil)
	w.Schedule(1, now)
	calls := 0
	fire := func(int) (int64, bool) {
		calls++
		return now - tick, calls < 3 // due in the past: next Advance
	}
	for want := 1; want <= 3; want++ {
		now += tick
		if got := w.Advance(now, fire); got != 1 || calls != want {
			t.Fatalf("Advance fired %d (calls %d), want 1 (calls %d)", got, calls, want)
		}
	}
	if got := w.Advance(now+tick, fire); got != 0 {
		t.Fatalf("fired %d after keep=false", got)
	}
}

func TestTimeGoesBackwards(t *testing.T) {
	const tick = int64(time.Second)
	w := mustNew[int](t, Options{Tick: time.Duration(tick), Slots: 4})
	fire := func(int) (int64, bool) { return 0, false }
	w.Advance(base, fire)
	w.Schedule(1, base+2*tick)
	if n := w.Advance(base-10*tick, fire); n != 0 {
		t.Fatalf("fired %d when the clock went back", n)
	}
	if n := w.Advance(base+3*tick, fire); n != 1 {
		t.Fatalf("fired %d, want 1", n)
	}
}

// TestTakenInBeforeStart covers registrations moved into slots (by Range)
// before the first Advance: past-due ones must still fire on that Advance.
func TestTakenInBeforeStart(t *testing.T) {
	const tick = int64(time.Second)
	w := mustNew[int](t, Options{Tick: time.Duration(tick), Slots: 8})
	offsets := []int64{-5 * tick, -tick, 0, tick / 2, 3 * tick, 20 * tick}
	for i, off := range offsets {
		w.Schedule(i, base+off)
	}
	w.Range(func(int) {})
	firedAt := make([]int64, len(offsets))
	now := base
	fire := func(i int) (int64, bool) { firedAt[i] = now; return 0, false }
	for ; now <= base+25*tick; now += tick / 4 {
		w.Advance(now, fire)
	}
	for i, off := range offsets {
		want := base + max(off, 0) // offsets are multiples of the step
		if firedAt[i] != want {
			t.Errorf("offset %d: fired at %+d, want %+d", off, firedAt[i]-base, want-base)
		}
	}
}

func TestQueueFull(t *testing.T) {
	w := mustNew[int](t, Options{QueueSize: 4})
	for i := range 4 {
		if !w.Schedule(i, base) {
			t.Fatalf("Schedule %d rejected", i)
		}
	}
	if w.Schedule(4, base) {
		t.Fatal("Schedule accepted into a full queue")
	}
	if w.Queued() != 4 {
		t.Fatalf("Queued = %d, want 4", w.Queued())
	}
	w.Advance(base, func(int) (int64, bool) { return 0, false })
	if !w.Schedule(5, base) {
		t.Fatal("Schedule rejected after Advance drained the queue")
	}
}

// TestHundredThousand schedules 100k items from 4 goroutines while the owner
// advances, and checks each fires exactly once, in its window.
func TestHundredThousand(t *testing.T) {
	const (
		n       = 100_000
		workers = 4
		tick    = int64(100 * time.Millisecond)
	)
	w := mustNew[int32](t, Options{QueueSize: 1 << 17})
	deadline := make([]int64, n)
	for i := range deadline {
		deadline[i] = base + int64(i%6000)*int64(time.Millisecond)*17 // up to ~100s
	}
	var now atomic.Int64 // read by producers only for their own deadlines
	now.Store(base)
	w.Advance(base, nil)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			for i := g; i < n; i += workers {
				if !w.Schedule(int32(i), deadline[i]) {
					t.Errorf("Schedule %d rejected", i)
					return
				}
			}
		})
	}
	fired := make([]bool, n)
	count := 0
	fire := func(i int32) (int64, bool) {
		if fired[i] {
			t.Errorf("item %d fired twice", i)
		}
		fired[i] = true
		count++
		if now.Load() < deadline[i] {
			t.Errorf("item %d fired early", i)
		}
		return 0, false
	}
	for now.Load() < base+110*int64(time.Second) {
		now.Add(tick)
		w.Advance(now.Load(), fire)
	}
	wg.Wait()
	w.Advance(now.Load()+tick, fire)
	if count != n || w.Len() != 0 {
		t.Fatalf("fired %d of %d, %d left", count, n, w.Len())
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	const tick = int64(100 * time.Millisecond)
	w := mustNew[*int](t, Options{Slots: 64})
	x := new(int)
	transient := new(int)
	now := base
	w.Advance(now, nil)
	for i := range 1000 {
		w.Schedule(x, now+int64(i)*tick/10)
	}
	fire := func(p *int) (int64, bool) {
		if p == transient {
			return 0, false
		}
		return now + 40*tick, true // a fixed period: slot sizes stay put
	}
	step := func() {
		w.Schedule(transient, now+3*tick)
		now += tick
		w.Advance(now, fire)
	}
	for range 200 { // warm up: slots reach their peak size
		step()
	}
	if a := testing.AllocsPerRun(500, step); a != 0 {
		t.Fatalf("AllocsPerRun = %v, want 0", a)
	}
}

// TestWithTicker drives the wheel the way the engine does, from a ticker, in
// a synctest bubble so that fake time makes the bounds exact.
func TestWithTicker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const tick = 100 * time.Millisecond
		w := mustNew[int](t, Options{Tick: tick, Slots: 8})
		start := time.Now()
		deadlines := []time.Duration{0, 50 * time.Millisecond, tick, 950 * time.Millisecond, 3 * time.Second}
		got := make(chan time.Duration, len(deadlines))
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			tk := time.NewTicker(tick)
			defer tk.Stop()
			fire := func(i int) (int64, bool) {
				elapsed := time.Since(start)
				if elapsed < deadlines[i] || elapsed > deadlines[i]+tick {
					t.Errorf("deadline %v fired at %v", deadlines[i], elapsed)
				}
				got <- elapsed
				return 0, false
			}
			for {
				select {
				case now := <-tk.C:
					w.Advance(now.UnixNano(), fire)
				case <-stop:
					return
				}
			}
		}()
		for i, d := range deadlines {
			w.Schedule(i, start.Add(d).UnixNano())
		}
		time.Sleep(4 * time.Second)
		close(stop)
		<-done
		if len(got) != len(deadlines) {
			t.Fatalf("%d of %d deadlines fired", len(got), len(deadlines))
		}
	})
}
