package shard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/internal/fnv"
	"github.com/kefu-im/kefu/storage"
)

// ErrStopped is returned by Stop when called twice.
var ErrStopped = errors.New("shard: router already stopped")

// Router spreads requests over the shards and runs their workers.
type Router struct {
	opts    Options
	store   *storage.Store
	workers []*worker
	desk    *Desk
	callID  atomic.Uint64
	m       *metrics
	wg      sync.WaitGroup
	stop    chan struct{}
	stopped atomic.Bool
}

// New builds a Router over store. Call Start before submitting.
func New(opts Options, store *storage.Store) (*Router, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("shard: nil store")
	}
	r := &Router{opts: opts, store: store, stop: make(chan struct{})}
	r.workers = make([]*worker, opts.Shards)
	for i := range r.workers {
		r.workers[i] = newWorker(i, r)
	}
	var err error
	if r.desk, err = newDesk(r); err != nil {
		return nil, err
	}
	r.callID.Store(1 << 62) // above any connection id
	r.m = newMetrics(opts.Registerer, r)
	return r, nil
}

// Shards is the number of shards.
func (r *Router) Shards() int { return len(r.workers) }

// ShardOf returns the shard that owns conversation id (FNV-1a).
func (r *Router) ShardOf(id string) int {
	return int(fnv.String64(id) % uint64(len(r.workers)))
}

// Start launches one worker goroutine per shard, and a ticker that wakes
// idle workers every SweepInterval so they can sweep.
func (r *Router) Start() {
	for _, w := range r.workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			w.run()
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.desk.run()
	}()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(r.opts.SweepInterval)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				for _, w := range r.workers {
					w.note.Notify()
				}
				r.desk.note.Notify()
			}
		}
	}()
}

// Submit queues req on the shard that owns req.Env.Conversation (or, for
// OpDrop, on shard req.Env.Seq). It never blocks; false means the ring is
// full or the router is stopping, and the caller should answer BUSY.
func (r *Router) Submit(req Request) bool {
	return r.SubmitTo(r.ShardOf(req.Env.GetConversation()), req)
}

// SubmitTo queues req on shard i.
func (r *Router) SubmitTo(i int, req Request) bool {
	if r.stopped.Load() {
		r.m.rejected.Inc()
		return false
	}
	w := r.workers[i]
	if !w.q.Push(req) {
		r.m.rejected.Inc()
		return false
	}
	w.note.Notify()
	return true
}

// Stop refuses new requests, lets every worker finish what is queued
// (committing it), and waits for them or for ctx.
func (r *Router) Stop(ctx context.Context) error {
	if r.stopped.Swap(true) {
		return ErrStopped
	}
	close(r.stop)
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Depth is the number of requests waiting over all shards.
func (r *Router) Depth() int {
	n := 0
	for _, w := range r.workers {
		n += w.q.Len()
	}
	return n
}
