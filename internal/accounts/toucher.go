package accounts

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of NewVisitorToucher.
const (
	DefaultTouchQueue    = 4096
	DefaultTouchInterval = time.Second
	maxTouchBatch        = 1024
)

// VisitorToucher queues visitor sightings from any goroutine without ever
// blocking (an event loop may call Touch) and applies them with
// TouchVisitors on its own goroutine, one commit per batch. The queue is
// bounded: when it is full a touch is dropped and counted (a profile's
// last-seen time is not worth slowing a connection down for).
type VisitorToucher struct {
	a        *Accounts
	log      *slog.Logger
	ch       chan VisitorTouch
	interval time.Duration
	dropped  atomic.Uint64
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once
}

// NewVisitorToucher starts a toucher over a with a queue of queue touches
// (0: DefaultTouchQueue) applied at least every interval (0:
// DefaultTouchInterval), or as soon as maxTouchBatch are waiting. log
// (nil: discard) receives write failures at Warn. Close stops it.
func (a *Accounts) NewVisitorToucher(queue int, interval time.Duration, log *slog.Logger) *VisitorToucher {
	if queue <= 0 {
		queue = DefaultTouchQueue
	}
	if interval <= 0 {
		interval = DefaultTouchInterval
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &VisitorToucher{a: a, log: log, ch: make(chan VisitorTouch, queue), interval: interval,
		stop: make(chan struct{}), done: make(chan struct{})}
	go t.run()
	return t
}

// Touch queues a sighting (see TouchVisitor); false when the queue is full
// or the toucher is closed and the touch was dropped. It never blocks.
// tags is copied.
func (t *VisitorToucher) Touch(site, id, client string, tags []string, now time.Time) bool {
	select {
	case <-t.stop:
		t.dropped.Add(1)
		return false
	default:
	}
	select {
	case t.ch <- VisitorTouch{Site: site, ID: id, Client: client, Tags: slices.Clone(tags), At: now}:
		return true
	default:
		t.dropped.Add(1)
		return false
	}
}

// Dropped returns how many touches were dropped so far.
func (t *VisitorToucher) Dropped() uint64 { return t.dropped.Load() }

// Close applies what is queued and stops the goroutine. Touches after
// Close are dropped. Call it before the store closes.
func (t *VisitorToucher) Close() {
	t.once.Do(func() { close(t.stop) })
	<-t.done
}

func (t *VisitorToucher) run() {
	defer close(t.done)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	batch := make([]VisitorTouch, 0, 64)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if _, err := t.a.TouchVisitors(batch); err != nil {
			t.log.Warn("accounts: visitor touches", "n", len(batch), "err", err)
		}
		clear(batch)
		batch = batch[:0]
	}
	for {
		select {
		case v := <-t.ch:
			batch = append(batch, v)
			if len(batch) >= maxTouchBatch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-t.stop:
			for {
				select {
				case v := <-t.ch:
					batch = append(batch, v)
					if len(batch) >= maxTouchBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}
