package wheel

import (
	"testing"
	"time"
)

func TestRangeVisitsEveryItemOnce(t *testing.T) {
	w, err := New[int](Options{Tick: time.Millisecond, Slots: 8})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	for i := range n {
		w.Schedule(i, int64(i)*int64(3*time.Millisecond)) // spread over rounds
	}
	w.Advance(0, func(int) (int64, bool) { return 0, false }) // item 0 fires
	seen := map[int]int{}
	w.Range(func(i int) { seen[i]++ })
	for i := 1; i < n; i++ {
		if seen[i] != 1 {
			t.Fatalf("item %d seen %d times", i, seen[i])
		}
	}
	w.Schedule(n, 1) // still on the registration queue
	seen = map[int]int{}
	w.Range(func(i int) { seen[i]++ })
	if seen[n] != 1 || len(seen) != n {
		t.Fatalf("after a new registration: %d items, new one seen %d", len(seen), seen[n])
	}
}
