// Package wheel is a hashed timing wheel for connection deadlines: idle
// timeouts, handshake limits, keep-alives. It replaces a time.Timer per
// connection with one sweep per tick.
//
// # Ownership
//
//	event loops, workers                 owner goroutine (the engine's ticker)
//	(any goroutine)                      ────────────────────────────────────
//	w.Schedule(item, deadline) ──► ring ──► w.Advance(now, fire)
//	w.Queued()                                 ├─ take registrations into slots
//	                                           └─ fire(item) for due items
//	                                         w.Len(), w.Range(fn)
//
// Schedule only pushes onto a bounded lock-free ring (package ring), so an
// event loop never takes a lock and never blocks; it gets false when the ring
// is full and decides what to do (the engine counts it and closes the
// connection). Everything else belongs to the owner: the slots, the fire
// callback, the items while they sit in the wheel.
//
// # Layout
//
//	tick = 100ms, slots = 8 (one revolution = 800ms); deadlines in ticks
//
//	  slot:   0     1     2     3     4     5     6     7
//	        ┌─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┐
//	        │     │a 9.4│     │b11.0│     │     │     │     │
//	        │     │c17.2│     │     │     │     │     │     │
//	        └─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┘
//	                 ▲
//	                 cur (tick of the last Advance, 9 here)
//
// An item due at deadline d goes to slot floor(d/tick) mod slots and keeps d.
// A visit to a slot fires the items with d <= now and keeps the others:
// those due later in the current tick (a, if now is 9.2) and those one or
// more revolutions out (c), so the deadline stands in for a rounds counter.
// Advance visits the slots of every tick from the previous Advance's tick
// (again, for what was due later in it) through floor(now/tick); after a
// pause longer than a revolution it visits each slot once. A deadline that
// has already passed goes to the slot of cur.
//
// Slots are slices reused across revolutions: after the wheel has reached
// its peak population, Schedule and Advance do not allocate. Fired items are
// cleared from the slices, so the wheel keeps no pointer to them.
//
// # Lazy deadlines
//
// The wheel has no Cancel. A connection stores its last activity in an
// atomic; the fire callback compares it with now and either acts (closes the
// idle connection, returns keep=false) or returns the new deadline with
// keep=true. Closed connections return keep=false. One wheel entry per
// connection thus covers any amount of traffic.
package wheel
