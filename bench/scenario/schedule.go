package scenario

import (
	"math"
	"time"
)

// Schedule is an open-loop schedule: slot i is due at Start + i/Rate, no
// matter when the previous slots were actually served, so that a stall of
// the sender shows up as latency (measured from the slot time) instead of
// silently lowering the offered rate (coordinated omission).
//
// It is a plain value owned by one goroutine.
type Schedule struct {
	start    time.Duration
	interval float64 // nanoseconds between slots
	next     int64   // index of the next slot to hand out
}

// NewSchedule returns a schedule of rate slots per second from start. A
// rate <= 0 has no slot.
func NewSchedule(start time.Duration, rate float64) Schedule {
	iv := math.Inf(1)
	if rate > 0 {
		iv = 1e9 / rate
	}
	return Schedule{start: start, interval: iv}
}

// At returns the time of slot i.
func (s *Schedule) At(i int64) time.Duration {
	return s.start + time.Duration(float64(i)*s.interval)
}

// Next returns the time of the next slot and takes it, if it is due at
// now; ok is false when no slot is due.
func (s *Schedule) Next(now time.Duration) (t time.Duration, ok bool) {
	if math.IsInf(s.interval, 1) {
		return 0, false
	}
	t = s.At(s.next)
	if t > now {
		return 0, false
	}
	s.next++
	return t, true
}

// Due returns how many slots are due at now and not taken.
func (s *Schedule) Due(now time.Duration) int64 {
	if now < s.start || math.IsInf(s.interval, 1) {
		return 0
	}
	n := int64(float64(now-s.start)/s.interval) + 1 // slots 0..n-1 are due
	for n > s.next && s.At(n-1) > now {             // float rounding at the edge
		n--
	}
	return max(n-s.next, 0)
}

// Skip takes n due slots without serving them.
func (s *Schedule) Skip(n int64) { s.next += n }

// Taken returns the number of slots handed out or skipped.
func (s *Schedule) Taken() int64 { return s.next }
