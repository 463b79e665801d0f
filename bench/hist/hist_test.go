package hist

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

func TestIndexBounds(t *testing.T) {
	values := []int64{0, 1, 2, 511, 512, 513, 1023, 1024, 1025, 4095, 1e3, 1e6, 123456789, 1e12, MaxValue}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		values = append(values, r.Int64N(MaxValue))
	}
	for _, v := range values {
		i := Index(v)
		if i < 0 || i >= NumBuckets {
			t.Fatalf("Index(%d) = %d out of range", v, i)
		}
		lo, hi := Bounds(i)
		if v < lo || v >= hi {
			t.Fatalf("value %d not in bucket %d [%d, %d)", v, i, lo, hi)
		}
		if w := hi - lo; w > 1 && float64(w)/float64(lo) > 1.0/256+1e-12 {
			t.Fatalf("bucket %d [%d,%d) wider than 1/256 of its low bound", i, lo, hi)
		}
	}
	// Buckets tile the range with no gap and no overlap.
	for i := 1; i < NumBuckets; i++ {
		_, prevHi := Bounds(i - 1)
		lo, _ := Bounds(i)
		if lo != prevHi {
			t.Fatalf("gap between bucket %d and %d: %d != %d", i-1, i, prevHi, lo)
		}
	}
	if _, hi := Bounds(NumBuckets - 1); hi != MaxValue+1 {
		t.Fatalf("last bucket ends at %d, want %d", hi, int64(MaxValue)+1)
	}
	if Index(-5) != 0 || Index(MaxValue*2) != NumBuckets-1 {
		t.Fatal("out-of-range values are not clamped")
	}
}

func TestQuantileAccuracy(t *testing.T) {
	cases := []struct {
		name string
		gen  func(r *rand.Rand) int64
	}{
		{"uniform-1ms", func(r *rand.Rand) int64 { return r.Int64N(1e6) }},
		{"exp-200us", func(r *rand.Rand) int64 { return int64(r.ExpFloat64() * 2e5) }},
		{"small", func(r *rand.Rand) int64 { return r.Int64N(300) }},
		{"wide", func(r *rand.Rand) int64 { return int64(1) << r.IntN(40) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, 9))
			var h Histogram
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = tc.gen(r)
				h.Record(vals[i])
			}
			slices.Sort(vals)
			s := h.Snapshot()
			if s.Count != int64(len(vals)) || s.Min != vals[0] || s.Max != vals[len(vals)-1] {
				t.Fatalf("count/min/max = %d/%d/%d, want %d/%d/%d", s.Count, s.Min, s.Max, len(vals), vals[0], vals[len(vals)-1])
			}
			for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
				want := vals[int(q*float64(len(vals))+0.999999)-1]
				got := s.Quantile(q)
				if diff := float64(got - want); diff > float64(want)/200+1 || -diff > float64(want)/200+1 {
					t.Errorf("q%.3f = %d, want %d ±0.5%%", q, got, want)
				}
			}
			if s.Quantile(1) != vals[len(vals)-1] {
				t.Errorf("q1 = %d, want max %d", s.Quantile(1), vals[len(vals)-1])
			}
		})
	}
}

// TestMergeAcrossWorkers: histograms recorded separately (loops, worker
// processes that ship their snapshots as JSON) merge into exactly the
// histogram of all the values.
func TestMergeAcrossWorkers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var all Histogram
	const workers = 5
	var parts [workers]Histogram
	for i := range 50000 {
		v := int64(r.ExpFloat64() * 1e6)
		all.Record(v)
		parts[i%workers].Record(v)
	}
	var merged Snap
	for i := range parts {
		// Round-trip through JSON as a worker's report does.
		b, err := json.Marshal(parts[i].Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		var s Snap
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		merged = Merge(merged, s)
	}
	want := all.Snapshot()
	if !snapEqual(merged, want) {
		t.Fatalf("merged snapshot differs from the histogram of all values:\n%+v\n%+v", head(merged), head(want))
	}
	for _, q := range []float64{0.5, 0.99, 0.999, 1} {
		if merged.Quantile(q) != want.Quantile(q) {
			t.Errorf("q%v: merged %d, direct %d", q, merged.Quantile(q), want.Quantile(q))
		}
	}
	// Merge is commutative and leaves its inputs alone.
	a, b := parts[0].Snapshot(), parts[1].Snapshot()
	ab, ba := Merge(a, b), Merge(b, a)
	if !snapEqual(ab, ba) {
		t.Fatal("Merge is not commutative")
	}
	if !snapEqual(a, parts[0].Snapshot()) {
		t.Fatal("Merge modified its input")
	}
	if !snapEqual(Merge(Snap{}, a), a) || !snapEqual(Merge(a, Snap{}), a) {
		t.Fatal("merging an empty Snap changes the other")
	}
}

func TestSubInterval(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 1000; v++ {
		h.Record(v * 1000)
	}
	first := h.Snapshot()
	for v := int64(1); v <= 1000; v++ {
		h.Record(v * 1e6)
	}
	second := h.Snapshot()
	iv := Sub(second, first)
	if iv.Count != 1000 {
		t.Fatalf("interval count %d, want 1000", iv.Count)
	}
	if iv.Min < 996000 || iv.Max > 1e9 {
		t.Fatalf("interval min/max %d/%d outside the recorded range", iv.Min, iv.Max)
	}
	if p := iv.Quantile(0.5); p < 495e6 || p > 505e6 {
		t.Fatalf("interval median %d, want ≈500e6", p)
	}
	if Sub(first, first).Count != 0 {
		t.Fatal("Sub of equal snapshots is not empty")
	}
	if !snapEqual(Sub(second, Snap{}), second) {
		t.Fatal("Sub of empty changes the snapshot")
	}
}

func TestConcurrentRecord(t *testing.T) {
	var h Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 10000 {
				h.Record(int64(g*10000 + i))
			}
		})
	}
	done := make(chan struct{})
	go func() { // snapshots while recording never see more than was recorded
		defer close(done)
		for range 100 {
			if s := h.Snapshot(); s.Count > 40000 {
				t.Errorf("snapshot count %d", s.Count)
			}
		}
	}()
	wg.Wait()
	<-done
	s := h.Snapshot()
	if s.Count != 40000 || s.Min != 0 || s.Max != 39999 {
		t.Fatalf("count/min/max %d/%d/%d", s.Count, s.Min, s.Max)
	}
}

func TestRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(123456) }); n != 0 {
		t.Fatalf("Record allocates %v times", n)
	}
}

func TestEmpty(t *testing.T) {
	var s Snap
	if s.Quantile(0.99) != 0 || s.Mean() != 0 || len(s.Buckets()) != 0 {
		t.Fatal("empty snap is not zero")
	}
	var h Histogram
	h.Record(-3)
	if s := h.Snapshot(); s.Min != 0 || s.Max != 0 || s.Count != 1 {
		t.Fatalf("negative value not clamped to 0: %+v", s)
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	v := int64(1)
	for b.Loop() {
		h.Record(v)
		v = v*7 + 13
		if v > 1e10 {
			v = 1
		}
	}
}

func snapEqual(a, b Snap) bool {
	return a.Count == b.Count && a.Sum == b.Sum && a.Min == b.Min && a.Max == b.Max &&
		slices.Equal(a.Idx, b.Idx) && slices.Equal(a.Cnt, b.Cnt)
}

func head(s Snap) Snap {
	if len(s.Idx) > 5 {
		s.Idx, s.Cnt = s.Idx[:5], s.Cnt[:5]
	}
	return s
}
