// Package ring provides the bounded queue that carries work across goroutine
// boundaries in Kefu: gnet event loops hand decoded envelopes to a shard's
// routing worker, and connections register deadlines with the timing wheel,
// through an MPSC ring. Nothing here blocks a producer.
//
// # Ownership
//
//	producers (any goroutine,          consumer (exactly one goroutine
//	e.g. gnet event loops)             at a time, e.g. a shard worker)
//	─────────────────────────          ──────────────────────────────
//	r.Push(v) ──┐                      ┌── r.Pop() / r.PopBatch(dst)
//	n.Notify()  │   ┌──────────────┐   │   r.Empty()
//	            └──►│ MPSC[T] ring │───┘   n.Wait(done, r.Empty)
//	                └──────────────┘
//	r.Len(), r.Cap(): any goroutine (Len is a snapshot for a gauge)
//
// A value belongs to the producer until Push returns true, and to the
// consumer once Pop or PopBatch hands it out. The ring clears each slot as
// it is consumed, so it keeps no pointer alive after the consumer has it.
// When Push returns false the value still belongs to the producer, which
// decides what "full" means (drop and count, close the connection, ...).
//
// # Layout
//
// The ring is Dmitry Vyukov's bounded queue, specialised for one consumer.
// Producers reserve a position with a CAS on the tail, after checking
// against the head that the ring has room, write the element and publish it
// by storing pos+1 into the slot's sequence number. The consumer owns the
// head: it takes each slot whose sequence says "published for my position",
// clears it, and hands a whole batch of slots back to producers with one
// store of the head.
//
//	        head (consumer)              tail (producers, CAS)
//	          │                            │
//	          ▼                            ▼
//	┌───────┬───────┬───────┬───────┬───────┬───────┬───────┬───────┐
//	│ stale │ pos+1 │ pos+1 │  old  │ pos+1 │ stale │ stale │ stale │ seq
//	└───────┴───────┴───────┴───────┴───────┴───────┴───────┴───────┘
//	  free    ready   ready  reserved  ready   free    free    free
//	                         (Push in flight: Pop stops here)
//
// A slot is free for position pos once head > pos-cap, and ready for the
// consumer at pos once seq == pos+1; values from earlier laps never match,
// so the consumer writes no sequence numbers and a batch of n elements costs
// it one atomic store.
//
// The tail and the head sit on their own cache lines, so producers hammering
// the tail do not evict the consumer's head.
//
// # Sleeping consumer
//
// A Notifier coalesces wake-ups. The consumer loop is:
//
//	for {
//		batch = r.PopBatch(batch[:0])
//		if len(batch) == 0 {
//			if !n.Wait(done, r.Empty) {
//				return // done closed
//			}
//			continue
//		}
//		handle(batch)
//	}
//
// and each producer does:
//
//	if r.Push(v) {
//		n.Notify()
//	}
//
// Wait sets a "sleeping" flag, re-checks the ring with r.Empty, and blocks on
// a one-slot channel only if the ring is still empty. Notify is a single
// atomic load while the consumer is awake; only the producer that clears the
// flag sends, with a non-blocking send, so a burst of pushes costs at most one
// channel operation.
//
// # Full ring
//
// A producer that finds the ring full should give up (drop and count, or
// close the connection it serves), not retry in a loop. Spinning producers
// with runtime.Gosched keep the scheduler's global queue busy, so a woken
// consumer parked in another P's run-next slot is not stolen; when that P's
// thread is descheduled by the OS (more Ps than cores, or a loaded machine)
// the consumer has been seen to stall for seconds while the ring stays full.
package ring
