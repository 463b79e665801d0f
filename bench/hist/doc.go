// Package hist is a log-linear latency histogram in the spirit of HDR
// Histogram: values (nanoseconds) fall into buckets whose width grows with
// the value, so that every recorded value is known to within a fixed
// relative error (1/256 ≈ 0.4 %) from 1 ns up to MaxValue, in a fixed
// amount of memory and without allocation.
//
// # Layout
//
// With S = SubBits (9), values below 2^S have a bucket each. Above, every
// power of two [2^e, 2^(e+1)) is cut into 2^(S-1) equal buckets:
//
//	value v >= 2^S:  shift = bits.Len64(v) - S      (>= 1)
//	                 index = 2^S + (shift-1)·2^(S-1) + (v>>shift) - 2^(S-1)
//	bucket range:    [(v>>shift)<<shift, ((v>>shift)+1)<<shift)
//
//	 index: 0 … 511 | 512 … 767 | 768 … 1023 | …
//	 width:    1    |     2     |      4     | …   (doubling)
//
// # Who may call what
//
// Histogram.Record uses atomic adds, so one Histogram may be recorded from
// any number of goroutines; the bench gives each event loop its own to keep
// cache lines private. Snapshot may run at any time from any goroutine: it
// reads the counters atomically (a snapshot taken while recording is not a
// single instant, but every count in it happened).
//
// Snap is a plain value: a sparse copy of the counts that merges (several
// loops, several worker processes), subtracts (the interval between two
// snapshots of the same cumulative histogram) and travels as JSON.
package hist
