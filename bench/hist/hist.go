package hist

import (
	"math"
	"math/bits"
	"sync/atomic"
)

// Layout constants (see the package doc).
const (
	// SubBits sets the precision: 2^(SubBits-1) buckets per power of two,
	// a relative error of at most 2^-(SubBits-1).
	SubBits = 9
	// MaxValue is the largest value kept exactly; larger values are
	// recorded as MaxValue (about 36 minutes in nanoseconds).
	MaxValue = 1<<41 - 1
	// NumBuckets is the number of counters a Histogram holds.
	NumBuckets = subCount + (maxShift-1)*halfCount + halfCount

	subCount  = 1 << SubBits
	halfCount = subCount / 2
	maxShift  = 41 - SubBits
)

// Index returns the bucket of v (v < 0 counts as 0, v > MaxValue as
// MaxValue).
func Index(v int64) int {
	switch {
	case v < 0:
		v = 0
	case v > MaxValue:
		v = MaxValue
	}
	u := uint64(v)
	if u < subCount {
		return int(u)
	}
	shift := bits.Len64(u) - SubBits
	return subCount + (shift-1)*halfCount + int(u>>shift) - halfCount
}

// Bounds returns the range [low, high) of values bucket i holds.
func Bounds(i int) (low, high int64) {
	if i < subCount {
		return int64(i), int64(i) + 1
	}
	j := i - subCount
	shift := j/halfCount + 1
	m := int64(j%halfCount + halfCount)
	return m << shift, (m + 1) << shift
}

// Histogram counts values in NumBuckets log-linear buckets. The zero value
// is ready to use. It must not be copied after first use.
type Histogram struct {
	count  atomic.Int64
	sum    atomic.Int64
	min    atomic.Int64 // valid when count > 0; stored as value+1 so that 0 = unset
	max    atomic.Int64
	counts [NumBuckets]atomic.Int64
}

// Record adds one value. Safe for concurrent use; it does not allocate.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if v > MaxValue {
		v = MaxValue
	}
	h.counts[Index(v)].Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && v+1 >= m) || h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
	h.count.Add(1)
}

// Count returns the number of values recorded so far.
func (h *Histogram) Count() int64 { return h.count.Load() }

// Snapshot returns a sparse copy of the counts.
func (h *Histogram) Snapshot() Snap {
	var s Snap
	s.Sum = h.sum.Load()
	s.Max = h.max.Load()
	if m := h.min.Load(); m > 0 {
		s.Min = m - 1
	}
	for i := range h.counts {
		if c := h.counts[i].Load(); c != 0 {
			s.Idx = append(s.Idx, int32(i))
			s.Cnt = append(s.Cnt, c)
			s.Count += c
		}
	}
	if s.Count == 0 {
		return Snap{}
	}
	return s
}

// Snap is an immutable sparse histogram: Idx holds the non-empty bucket
// indexes in increasing order and Cnt their counts. The zero Snap is empty.
// Count is the sum of Cnt; Sum, Min and Max describe the recorded values
// (Min and Max are exact for a Snapshot or a Merge of snapshots, and bucket
// bounds for the result of Sub).
type Snap struct {
	Count int64   `json:"n"`
	Sum   int64   `json:"sum"`
	Min   int64   `json:"min"`
	Max   int64   `json:"max"`
	Idx   []int32 `json:"i,omitempty"`
	Cnt   []int64 `json:"c,omitempty"`
}

// Merge returns the histogram of the values of a and b together (several
// loops, several worker processes). It does not modify a or b.
func Merge(a, b Snap) Snap {
	switch {
	case a.Count == 0:
		return b.clone()
	case b.Count == 0:
		return a.clone()
	}
	out := Snap{
		Count: a.Count + b.Count,
		Sum:   a.Sum + b.Sum,
		Min:   min(a.Min, b.Min),
		Max:   max(a.Max, b.Max),
		Idx:   make([]int32, 0, max(len(a.Idx), len(b.Idx))),
		Cnt:   make([]int64, 0, max(len(a.Idx), len(b.Idx))),
	}
	i, j := 0, 0
	for i < len(a.Idx) || j < len(b.Idx) {
		switch {
		case j == len(b.Idx) || (i < len(a.Idx) && a.Idx[i] < b.Idx[j]):
			out.Idx, out.Cnt = append(out.Idx, a.Idx[i]), append(out.Cnt, a.Cnt[i])
			i++
		case i == len(a.Idx) || b.Idx[j] < a.Idx[i]:
			out.Idx, out.Cnt = append(out.Idx, b.Idx[j]), append(out.Cnt, b.Cnt[j])
			j++
		default:
			out.Idx, out.Cnt = append(out.Idx, a.Idx[i]), append(out.Cnt, a.Cnt[i]+b.Cnt[j])
			i++
			j++
		}
	}
	return out
}

// Sub returns the values recorded in a but not in b, where b is an earlier
// snapshot of the same cumulative histogram: the interval between them.
// Counts that would go negative (b is not a prefix of a) are dropped. Min
// and Max of the result are the bounds of its first and last bucket,
// clamped to a's.
func Sub(a, b Snap) Snap {
	if b.Count == 0 {
		return a.clone()
	}
	out := Snap{Sum: a.Sum - b.Sum}
	j := 0
	for i, idx := range a.Idx {
		c := a.Cnt[i]
		for j < len(b.Idx) && b.Idx[j] < idx {
			j++
		}
		if j < len(b.Idx) && b.Idx[j] == idx {
			c -= b.Cnt[j]
		}
		if c > 0 {
			out.Idx = append(out.Idx, idx)
			out.Cnt = append(out.Cnt, c)
			out.Count += c
		}
	}
	if out.Count == 0 {
		return Snap{}
	}
	lo, _ := Bounds(int(out.Idx[0]))
	_, hi := Bounds(int(out.Idx[len(out.Idx)-1]))
	out.Min = max(lo, a.Min)
	out.Max = min(hi-1, a.Max)
	if out.Sum < 0 {
		out.Sum = 0
	}
	return out
}

func (s Snap) clone() Snap {
	s.Idx = append([]int32(nil), s.Idx...)
	s.Cnt = append([]int64(nil), s.Cnt...)
	return s
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1): the midpoint of the
// bucket holding the ceil(q·Count)-th smallest value, clamped to [Min, Max].
// Quantile(1) is Max. An empty Snap returns 0.
func (s Snap) Quantile(q float64) int64 {
	if s.Count == 0 {
		return 0
	}
	if q >= 1 {
		return s.Max
	}
	rank := int64(math.Ceil(q * float64(s.Count)))
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for i, c := range s.Cnt {
		seen += c
		if seen >= rank {
			lo, hi := Bounds(int(s.Idx[i]))
			v := lo + (hi-lo-1)/2
			return min(max(v, s.Min), s.Max)
		}
	}
	return s.Max
}

// Mean returns the arithmetic mean of the values, or 0 when empty.
func (s Snap) Mean() float64 {
	if s.Count == 0 {
		return 0
	}
	return float64(s.Sum) / float64(s.Count)
}

// Bucket is one non-empty bucket of a Snap.
type Bucket struct {
	Low, High int64 // [Low, High)
	Count     int64
}

// Buckets returns the non-empty buckets in increasing order.
func (s Snap) Buckets() []Bucket {
	out := make([]Bucket, len(s.Idx))
	for i, idx := range s.Idx {
		lo, hi := Bounds(int(idx))
		out[i] = Bucket{Low: lo, High: hi, Count: s.Cnt[i]}
	}
	return out
}
