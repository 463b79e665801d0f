// Package clock provides Coarse, a clock read with one atomic load, for hot
// paths that stamp times often and need them only roughly: last-activity
// times on connections (compared by the timing wheel), server timestamps on
// messages, rate-limiter windows.
//
// # Ownership
//
//	ticker goroutine (started by Start)      readers (any goroutine)
//	───────────────────────────────────      ───────────────────────
//	every resolution:                        c.Now()     → int64 unix ns
//	  now.Store(time.Now().UnixNano()) ──►   c.NowTime() → time.Time
//
// There is no package-level instance: the engine builds one Coarse in cmd/,
// starts it, hands it to whoever needs it and stops it on shutdown, so tests
// can run many engines, each with its own clock.
//
// A Coarse may lag the real time by one resolution, so comparisons against
// it (deadlines, timeouts) should allow that much slack.
package clock
