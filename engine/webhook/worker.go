package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// job is one delivery attempt handed from the worker to a sender.
type job struct {
	key []byte // the pending key, owned by the job
	rec record
	ep  Endpoint // snapshot taken at dispatch
}

// result is a sender's verdict on a job, sent back to the worker.
type result struct {
	job     *job
	status  int
	err     error // nil and status 2xx: delivered
	aborted bool  // cancelled by Stop: not an attempt
}

// Start runs the delivery worker and Options.Concurrency senders until ctx
// is cancelled or Stop is called. Pending deliveries left by an earlier
// process are picked up by the first scan. An Outbox starts once
// (ErrStarted).
func (o *Outbox) Start(ctx context.Context) error {
	o.runMu.Lock()
	defer o.runMu.Unlock()
	if o.started || o.stopped {
		return ErrStarted
	}
	o.started = true
	ctx, o.cancel = context.WithCancel(ctx)
	n := o.opts.Concurrency
	w := &worker{
		o:        o,
		jobs:     make(chan *job, n),
		results:  make(chan result, 2*n), // ≥ every job in flight: senders never block
		inflight: make(map[string]struct{}, 2*n),
		batch:    o.st.NewBatch(),
	}
	sendersDone := make(chan struct{})
	senders := make(chan struct{}, n)
	for range n {
		go func() {
			defer func() { senders <- struct{}{} }()
			o.sender(ctx, w.jobs, w.results)
		}()
	}
	go func() {
		for range n {
			<-senders
		}
		close(sendersDone)
	}()
	go func() {
		defer close(o.done)
		w.run(ctx, sendersDone)
	}()
	return nil
}

// Stop cancels requests in flight, waits for the worker and the senders to
// return, records the outcomes that were already known, closes idle
// connections and unregisters the metrics. Cancelled attempts do not count:
// those deliveries stay pending for the next Start. Stop is idempotent; call
// it before closing the store.
func (o *Outbox) Stop() {
	o.runMu.Lock()
	defer o.runMu.Unlock()
	if o.stopped {
		return
	}
	o.stopped = true
	if o.started {
		o.cancel()
		<-o.done
	}
	o.client.CloseIdleConnections()
	o.m.unregister()
}

// worker is the state owned by the worker goroutine.
type worker struct {
	o        *Outbox
	jobs     chan *job
	results  chan result
	inflight map[string]struct{} // pending keys dispatched, result not yet recorded
	batch    *storage.Batch
}

func (w *worker) run(ctx context.Context, sendersDone <-chan struct{}) {
	o := w.o
	defer w.batch.Close()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := w.scan()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			// Senders see the same ctx; their aborted or finished attempts
			// are all in results once they have returned.
			<-sendersDone
			w.drain()
			return
		case r := <-w.results:
			w.record(r)
			w.drain()
		case <-o.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// drain records every result already waiting.
func (w *worker) drain() {
	for {
		select {
		case r := <-w.results:
			w.record(r)
		default:
			return
		}
	}
}

// scan walks the pending table once: it dispatches due deliveries that are
// not in flight while the job channel has room, sets the pending gauge, and
// returns how long to sleep before the next due delivery (at most
// PollInterval).
func (w *worker) scan() time.Duration {
	o := w.o
	now := unixNano(o.opts.Now())
	wait := o.opts.PollInterval
	capacity := cap(w.jobs) + o.opts.Concurrency - len(w.inflight)
	count := 0
	err := o.st.ScanPrefix(pendingPrefix, func(key, value []byte) error {
		count++
		if _, busy := w.inflight[string(key)]; busy {
			return nil
		}
		due, _, _, _, ok := parsePendingKey(key)
		if !ok {
			o.log.Warn("webhook: skipping malformed outbox key", "key", fmt.Sprintf("%x", key))
			return nil
		}
		if due > now {
			wait = min(wait, time.Duration(due-now))
			return nil
		}
		if capacity == 0 {
			return nil // a finished delivery wakes the worker
		}
		rec, err := decodeRecord(value)
		if err != nil {
			o.log.Warn("webhook: skipping corrupt outbox record", "err", err)
			return nil
		}
		j := &job{key: bytes.Clone(key), rec: rec}
		w.inflight[string(j.key)] = struct{}{}
		capacity--
		ep, ok := o.endpoint(rec.Site, rec.Endpoint)
		if !ok {
			w.results <- result{job: j, err: errors.New("endpoint not configured")}
			return nil
		}
		j.ep = ep
		select {
		case w.jobs <- j:
		default: // senders gone (Stop) or momentarily busy: next scan
			delete(w.inflight, string(j.key))
			capacity = 0
		}
		return nil
	})
	if err != nil && !errors.Is(err, storage.ErrClosed) {
		o.log.Warn("webhook: outbox scan failed", "err", err)
	}
	o.m.pending.Set(float64(count))
	return wait
}

// record applies one result to the store: delete on success, reschedule
// with backoff on failure, move to the dead letters after MaxAttempts.
func (w *worker) record(r result) {
	o := w.o
	delete(w.inflight, string(r.job.key))
	if r.aborted {
		return
	}
	b := w.batch
	if err := b.Delete(r.job.key); err != nil {
		panic("BUG: webhook: outbox key refused: " + err.Error())
	}
	rec := &r.job.rec
	now := o.opts.Now()
	switch {
	case r.err == nil:
		o.m.ok.Inc()
	default:
		rec.Attempts++
		rec.LastAttempt = now.UnixNano()
		rec.LastStatus = r.status
		rec.LastError = r.err.Error()
		o.log.Debug("webhook: delivery failed", "site", rec.Site, "event", rec.ID,
			"endpoint", rec.Endpoint, "attempt", rec.Attempts, "err", r.err)
		var key []byte
		if rec.Attempts >= o.opts.MaxAttempts {
			o.m.dead.Inc()
			key = appendDeadKey(nil, rec.Site, rec.ID, rec.Endpoint)
		} else {
			o.m.retry.Inc()
			due := unixNano(now.Add(o.backoff(rec.Attempts)))
			key = appendPendingKey(nil, due, rec.Site, rec.ID, rec.Endpoint)
		}
		if err := b.Put(key, rec.encode()); err != nil {
			panic("BUG: webhook: outbox key refused: " + err.Error())
		}
	}
	if err := b.Commit(); err != nil {
		// The old pending record is intact: the delivery is attempted again
		// (at least once is the contract; receivers de-duplicate by id).
		o.log.Warn("webhook: outbox commit failed", "err", err)
	}
}

// backoff returns the delay after the n-th failed attempt (n >= 1):
// d = min(BackoffMax, BackoffBase·2^(n-1)), drawn uniformly from [d/2, d).
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.BackoffMax
	if n-1 < 62 {
		if s := o.opts.BackoffBase << (n - 1); s > 0 && s>>(n-1) == o.opts.BackoffBase {
			d = min(d, s)
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(d-half)
}

// maxDrain is how much of a response body a sender reads (and discards) so
// the connection can be reused.
const maxDrain = 4 << 10

// sender performs jobs until ctx is cancelled.
func (o *Outbox) sender(ctx context.Context, jobs <-chan *job, results chan<- result) {
	var sig []byte
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			var r result
			r, sig = o.deliver(ctx, j, sig[:0])
			results <- r
		}
	}
}

// deliver makes one attempt of j.
func (o *Outbox) deliver(ctx context.Context, j *job, sig []byte) (result, []byte) {
	ctx, cancel := context.WithTimeout(ctx, o.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.ep.URL, bytes.NewReader(j.rec.Body))
	if err != nil {
		return result{job: j, err: err}, sig
	}
	ts := o.opts.Now().Unix()
	sig = AppendSignature(sig, j.ep.Secret, ts, j.rec.Body)
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", o.opts.UserAgent)
	h.Set(HeaderEventID, j.rec.ID)
	h.Set(HeaderEventType, string(j.rec.Type))
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, string(sig))
	start := time.Now()
	resp, err := o.client.Do(req)
	o.m.duration.Observe(time.Since(start).Seconds())
	if err != nil {
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled) {
			// Stop, not the per-request timeout.
			return result{job: j, aborted: true}, sig
		}
		return result{job: j, err: err}, sig
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return result{job: j, status: resp.StatusCode, err: fmt.Errorf("HTTP %d", resp.StatusCode)}, sig
	}
	return result{job: j, status: resp.StatusCode}, sig
}
