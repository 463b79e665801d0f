package webhook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func openStore(t *testing.T, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fastOptions: small backoff so retries happen within a test's budget.
func fastOptions() Options {
	return Options{
		Registerer:   prometheus.NewRegistry(),
		BackoffBase:  20 * time.Millisecond,
		BackoffMax:   80 * time.Millisecond,
		MaxAttempts:  3,
		Concurrency:  2,
		Timeout:      2 * time.Second,
		PollInterval: 50 * time.Millisecond,
	}
}

func newOutbox(t *testing.T, st *storage.Store, opts Options) *Outbox {
	t.Helper()
	o, err := New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func endpoint(id, url string, events ...EventType) Endpoint {
	if len(events) == 0 {
		events = EventTypes[:]
	}
	return Endpoint{ID: id, URL: url, Secret: testSecret, Events: events}
}

// enqueue stages ev in its own batch, commits it and wakes the worker.
func enqueue(t *testing.T, st *storage.Store, o *Outbox, ev Event) string {
	t.Helper()
	b := st.NewBatch()
	defer b.Close()
	id, err := o.Enqueue(b, ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Notify()
	return id
}

// hit is one request a receiver saw.
type hit struct {
	at     time.Time
	header http.Header
	body   []byte
}

// receiver is an httptest server on 127.0.0.1 answering with status(n) for
// the n-th request (0-based).
type receiver struct {
	srv    *httptest.Server
	status func(n int) int
	mu     sync.Mutex
	hits   []hit
	notify chan struct{}
}

func newReceiver(t *testing.T, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{status: status, notify: make(chan struct{}, 1000)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.hits)
		r.hits = append(r.hits, hit{at: time.Now(), header: req.Header.Clone(), body: b})
		r.mu.Unlock()
		w.WriteHeader(r.status(n))
		r.notify <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) Hits() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// waitHits waits until the receiver saw n requests.
func (r *receiver) waitHits(t *testing.T, n int, within time.Duration) []hit {
	t.Helper()
	deadline := time.After(within)
	for len(r.Hits()) < n {
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("receiver saw %d requests, want %d within %v", len(r.Hits()), n, within)
		}
	}
	return r.Hits()
}

func always(code int) func(int) int { return func(int) int { return code } }

// eventually polls cond every 5ms for up to within.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func counter(o *Outbox, result string) float64 {
	switch result {
	case "ok":
		return value(o.m.ok)
	case "retry":
		return value(o.m.retry)
	}
	return value(o.m.dead)
}

// value reads a counter's, gauge's value or a histogram's sample count.
func value(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	switch {
	case out.Counter != nil:
		return out.Counter.GetValue()
	case out.Gauge != nil:
		return out.Gauge.GetValue()
	case out.Histogram != nil:
		return float64(out.Histogram.GetSampleCount())
	}
	return 0
}

// checkNoLeak fails if, after everything the test started is stopped, more
// goroutines remain than before.
func checkNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func decodeBody(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return m
}
