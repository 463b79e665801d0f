package ring

import "sync/atomic"

// Notifier wakes one sleeping consumer without ever blocking a producer.
//
// The consumer announces that it is about to sleep by setting a flag, checks
// its queue once more, and only then blocks on a channel of capacity one.
// Producers call Notify after each successful Push; Notify costs one atomic
// load while the consumer is awake, and a burst of Notify calls against a
// sleeping consumer performs a single channel send between them.
//
// Go atomics are sequentially consistent, so the two sides form the classic
// store-then-load handshake: either the consumer's re-check sees the element
// the producer published, or the producer's Notify sees the flag set. A
// wake-up is never lost. Wait may return with nothing to do (a token left by
// a Notify that raced with an earlier re-check); callers loop.
//
// The zero value is not usable; call NewNotifier. Notify may be called from
// any goroutine; Wait only from the single consumer.
type Notifier struct {
	_        cacheLinePad
	sleeping atomic.Bool
	_        cacheLinePad
	wake     chan struct{}
}

// NewNotifier returns a Notifier with no consumer sleeping.
func NewNotifier() *Notifier {
	return &Notifier{wake: make(chan struct{}, 1)}
}

// Notify wakes the consumer if it is sleeping or about to sleep. It never
// blocks. Any goroutine, after the element it signals is published.
func (n *Notifier) Notify() {
	if !n.sleeping.Load() {
		return
	}
	// Only the producer that flips the flag sends; the others return.
	if n.sleeping.CompareAndSwap(true, false) {
		select {
		case n.wake <- struct{}{}:
		default:
		}
	}
}

// Wait puts the consumer to sleep until Notify is called or done is closed.
// empty reports whether the consumer's queues hold nothing; Wait calls it
// after announcing sleep, and returns at once if there is work. Wait returns
// false only when done is closed; true means "look at the queues again",
// which may turn out empty. Consumer only.
func (n *Notifier) Wait(done <-chan struct{}, empty func() bool) bool {
	n.sleeping.Store(true)
	if !empty() {
		// Withdraw. If a producer already flipped the flag, its token will
		// make the next Wait return early, which is harmless.
		n.sleeping.CompareAndSwap(true, false)
		return true
	}
	select {
	case <-n.wake:
		// The token may be stale (see above) and the flag still ours.
		n.sleeping.CompareAndSwap(true, false)
		return true
	case <-done:
		n.sleeping.CompareAndSwap(true, false)
		return false
	}
}
