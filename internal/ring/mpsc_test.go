package ring

import (
	"sync"
	"testing"
	"time"
)

func TestNewMPSCCapacity(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{-5, 1}, {0, 1}, {1, 1}, {2, 2}, {3, 4}, {4, 4}, {5, 8},
		{1000, 1024}, {1024, 1024}, {1025, 2048}, {MaxCapacity, MaxCapacity},
	} {
		if got := roundPow2(tc.in); got != tc.want {
			t.Errorf("roundPow2(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if got := NewMPSC[int](100).Cap(); got != 128 {
		t.Errorf("Cap() = %d, want 128", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewMPSC(MaxCapacity+1) did not panic")
		}
	}()
	NewMPSC[int](MaxCapacity + 1)
}

func TestSPSCOrder(t *testing.T) {
	r := NewMPSC[int](8)
	next, want := 0, 0
	// Push in bursts of varying size over many laps of the ring.
	for round := range 200 {
		for range round%9 + 1 {
			if !r.Push(next) {
				break
			}
			next++
		}
		for range round % 5 {
			v, ok := r.Pop()
			if !ok {
				break
			}
			if v != want {
				t.Fatalf("Pop = %d, want %d", v, want)
			}
			want++
		}
	}
	for {
		v, ok := r.Pop()
		if !ok {
			break
		}
		if v != want {
			t.Fatalf("Pop = %d, want %d", v, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("received %d, pushed %d", want, next)
	}
	if r.Len() != 0 || !r.Empty() {
		t.Fatalf("Len = %d Empty = %v after draining", r.Len(), r.Empty())
	}
}

func TestCapacityOne(t *testing.T) {
	r := NewMPSC[int](1)
	for i := range 10 {
		if !r.Push(i) {
			t.Fatalf("Push(%d) rejected by an empty ring", i)
		}
		if r.Push(-1) {
			t.Fatal("Push accepted into a full one-slot ring")
		}
		if v, ok := r.Pop(); !ok || v != i {
			t.Fatalf("Pop = %d,%v, want %d,true", v, ok, i)
		}
		if _, ok := r.Pop(); ok {
			t.Fatal("Pop from an empty ring succeeded")
		}
	}
}

func TestFullRejects(t *testing.T) {
	r := NewMPSC[int](4)
	for i := range 4 {
		if !r.Push(i) {
			t.Fatalf("Push(%d) rejected below capacity", i)
		}
	}
	if r.Push(99) {
		t.Fatal("Push accepted into a full ring")
	}
	if r.Len() != 4 {
		t.Fatalf("Len = %d, want 4", r.Len())
	}
	if v, ok := r.Pop(); !ok || v != 0 {
		t.Fatalf("Pop = %d,%v, want 0,true", v, ok)
	}
	if !r.Push(4) {
		t.Fatal("Push rejected after a Pop freed a slot")
	}
	if r.Push(5) {
		t.Fatal("Push accepted into a full ring on the second lap")
	}
}

func TestPopBatch(t *testing.T) {
	r := NewMPSC[int](16)
	for i := range 10 {
		r.Push(i)
	}
	tests := []struct {
		name    string
		dst     []int
		want    []int
		wantLen int // ring length afterwards
	}{
		{"no room", make([]int, 2, 2), []int{0, 0}, 10},
		{"partial", make([]int, 1, 4), []int{0, 0, 1, 2}, 7},
		{"rest", make([]int, 0, 32), []int{3, 4, 5, 6, 7, 8, 9}, 0},
		{"empty", make([]int, 0, 32), []int{}, 0},
	}
	for _, tc := range tests {
		got := r.PopBatch(tc.dst)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		if cap(got) != cap(tc.dst) {
			t.Fatalf("%s: PopBatch grew dst", tc.name)
		}
		if r.Len() != tc.wantLen {
			t.Fatalf("%s: Len = %d, want %d", tc.name, r.Len(), tc.wantLen)
		}
	}
}

func TestPopClearsSlots(t *testing.T) {
	r := NewMPSC[*int](4)
	for range 3 {
		r.Push(new(int))
	}
	r.Pop()
	r.PopBatch(make([]*int, 0, 4))
	for i := range r.slots {
		if r.slots[i].val != nil {
			t.Fatalf("slot %d still holds a pointer after it was consumed", i)
		}
	}
}

// TestMPSCProducers checks that every item of every producer arrives exactly
// once and that each producer's items arrive in the order it pushed them.
func TestMPSCProducers(t *testing.T) {
	const producers, perProducer = 8, 100_000
	type item struct{ producer, seq int }
	r := NewMPSC[item](1024) // small: producers hit "full" often
	n := NewNotifier()

	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range perProducer {
				for !r.Push(item{p, i}) {
					// Sleep rather than spin: spinning producers can starve
					// the consumer (see "Full ring" in doc.go).
					time.Sleep(10 * time.Microsecond)
				}
				n.Notify()
			}
		})
	}

	done := make(chan struct{})
	timer := time.AfterFunc(60*time.Second, func() { close(done) })
	defer timer.Stop()

	next := make([]int, producers)
	batch := make([]item, 0, 64)
	for received := 0; received < producers*perProducer; {
		batch = r.PopBatch(batch[:0])
		if len(batch) == 0 {
			if !n.Wait(done, r.Empty) {
				t.Fatalf("timed out after %d items", received)
			}
			continue
		}
		for _, it := range batch {
			if it.seq != next[it.producer] {
				t.Fatalf("producer %d: got seq %d, want %d", it.producer, it.seq, next[it.producer])
			}
			next[it.producer]++
		}
		received += len(batch)
	}
	wg.Wait()
	if _, ok := r.Pop(); ok {
		t.Fatal("extra item after all were received")
	}
}

type threeWords struct {
	p *int
	n int
	u uint64
}

func TestAllocs(t *testing.T) {
	x := new(int)
	t.Run("pointer", func(t *testing.T) {
		r := NewMPSC[*int](64)
		batch := make([]*int, 0, 8)
		assertNoAllocs(t, func() {
			r.Push(x)
			r.Pop()
			for range 4 {
				r.Push(x)
			}
			batch = r.PopBatch(batch[:0])
		})
	})
	t.Run("three words", func(t *testing.T) {
		r := NewMPSC[threeWords](64)
		batch := make([]threeWords, 0, 8)
		v := threeWords{x, 1, 2}
		assertNoAllocs(t, func() {
			r.Push(v)
			r.Pop()
			for range 4 {
				r.Push(v)
			}
			batch = r.PopBatch(batch[:0])
		})
	})
	t.Run("notify and wait", func(t *testing.T) {
		r := NewMPSC[*int](64)
		n := NewNotifier()
		done := make(chan struct{})
		assertNoAllocs(t, func() {
			r.Push(x)
			n.Notify()
			n.Wait(done, r.Empty) // returns at once: the ring is not empty
			r.Pop()
		})
	})
}

func assertNoAllocs(t *testing.T, f func()) {
	t.Helper()
	if a := testing.AllocsPerRun(1000, f); a != 0 {
		t.Fatalf("AllocsPerRun = %v, want 0", a)
	}
}
