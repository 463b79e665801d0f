package webhook

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// Outbox is a site-scoped durable webhook outbox over a storage.Store. See
// the package doc for which goroutine may call what.
type Outbox struct {
	st     *storage.Store
	opts   Options
	log    *slog.Logger
	m      *metrics
	client *http.Client

	mu        sync.RWMutex
	endpoints map[string][]Endpoint // site → endpoints (owned copies)

	retryMu sync.Mutex    // serialises Retry calls
	wake    chan struct{} // cap 1: Notify and Retry nudge the worker

	runMu   sync.Mutex
	started bool
	stopped bool
	cancel  func()
	done    chan struct{} // closed when the worker and senders returned
}

// New returns an Outbox over st. It applies EnsureDefaults to its copy of
// opts, fails on Validate errors and on metric registration conflicts. The
// store must stay open until Stop returns.
func New(st *storage.Store, opts Options) (*Outbox, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   opts.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		ForceAttemptHTTP2:     true,
	}
	o := &Outbox{
		st:        st,
		opts:      opts,
		log:       opts.Logger,
		m:         m,
		endpoints: make(map[string][]Endpoint),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	o.client = &http.Client{
		Transport:     tr,
		Timeout:       opts.Timeout,
		CheckRedirect: sameHostRedirect,
	}
	return o, nil
}

// maxRedirects bounds same-host redirects of one attempt.
const maxRedirects = 3

// sameHostRedirect follows a redirect only to the same scheme and host
// (host:port) as the endpoint URL, at most maxRedirects times; otherwise
// the 3xx response itself is the attempt's answer, a failure.
func sameHostRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if len(via) > maxRedirects || req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return http.ErrUseLastResponse
	}
	return nil
}

// SetEndpoints replaces site's endpoints with copies of eps (nil or empty
// removes them). It validates every endpoint first and changes nothing on
// error. Deliveries already enqueued for an endpoint use its current URL and
// secret when they are attempted; for a removed endpoint they fail and end
// in the dead letters.
func (o *Outbox) SetEndpoints(site string, eps []Endpoint) error {
	if err := validSite(site); err != nil {
		return err
	}
	cp := make([]Endpoint, len(eps))
	for i := range eps {
		if err := eps[i].Validate(); err != nil {
			return fmt.Errorf("endpoint %d: %w", i, err)
		}
		for j := range i {
			if eps[j].ID == eps[i].ID {
				return fmt.Errorf("endpoint %d: duplicate id %q: %w", i, eps[i].ID, ErrEndpoint)
			}
		}
		cp[i] = eps[i]
		cp[i].Events = append([]EventType(nil), eps[i].Events...)
	}
	o.mu.Lock()
	if len(cp) == 0 {
		delete(o.endpoints, site)
	} else {
		o.endpoints[site] = cp
	}
	o.mu.Unlock()
	return nil
}

// Endpoints returns a copy of site's endpoints.
func (o *Outbox) Endpoints(site string) []Endpoint {
	o.mu.RLock()
	defer o.mu.RUnlock()
	out := make([]Endpoint, len(o.endpoints[site]))
	for i, e := range o.endpoints[site] {
		out[i] = e
		out[i].Events = append([]EventType(nil), e.Events...)
	}
	return out
}

// endpoint returns a copy of one endpoint.
func (o *Outbox) endpoint(site, id string) (Endpoint, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	for _, e := range o.endpoints[site] {
		if e.ID == id {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Enqueue stages, in the caller's batch b, one pending delivery of ev for
// every endpoint of ev.Site subscribed to ev.Type. The deliveries become
// durable, and visible to the worker, exactly when b commits, together with
// the change that caused the event; call Notify after the commit to have
// them sent at once rather than at the next poll. It returns the event id,
// or "" when no endpoint is subscribed (nothing is staged). On error nothing
// is staged.
func (o *Outbox) Enqueue(b *storage.Batch, ev Event) (id string, err error) {
	if err := validSite(ev.Site); err != nil {
		return "", err
	}
	if !ev.Type.Valid() {
		return "", ErrEventType
	}
	if ev.ID != "" {
		if err := validEventID(ev.ID); err != nil {
			return "", err
		}
	}
	o.mu.RLock()
	var targets []string
	for i := range o.endpoints[ev.Site] {
		if e := &o.endpoints[ev.Site][i]; e.Subscribed(ev.Type) {
			targets = append(targets, e.ID)
		}
	}
	o.mu.RUnlock()
	if len(targets) == 0 {
		return "", nil
	}
	now := o.opts.Now()
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}
	doc, err := json.Marshal(body{ID: ev.ID, Type: ev.Type, Site: ev.Site, CreatedAt: ev.Time.UTC(), Data: ev.Data})
	if err != nil {
		return "", fmt.Errorf("webhook: marshal event data: %w", err)
	}
	r := record{Site: ev.Site, ID: ev.ID, Type: ev.Type, Created: now.UnixNano(), Body: doc}
	due := unixNano(now)
	var key []byte
	for n, ep := range targets {
		r.Endpoint = ep
		key = appendPendingKey(key[:0], due, ev.Site, ev.ID, ep)
		if err := b.Put(key, r.encode()); err != nil {
			// Undo this call's staged records so the batch stays intact.
			for _, done := range targets[:n] {
				b.Delete(appendPendingKey(key[:0], due, ev.Site, ev.ID, done))
			}
			return "", err
		}
	}
	return ev.ID, nil
}

// Notify wakes the worker to scan for due deliveries now. It never blocks;
// call it after committing a batch that Enqueue staged into.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// DeadLetter is a delivery that failed MaxAttempts times.
type DeadLetter struct {
	EventID     string
	Site        string
	Endpoint    string
	Type        EventType
	Created     time.Time
	Attempts    int
	LastAttempt time.Time
	LastStatus  int    // HTTP status of the last attempt, 0 if none
	LastError   string // why the last attempt failed
	Body        json.RawMessage
}

// Page limits of DeadLetters.
const (
	DefaultDeadLetterLimit = 50
	MaxDeadLetterLimit     = 500
)

// DeadLetters returns one page of site's dead letters in key order (event
// id, then endpoint id), starting after cursor ("" for the first page).
// limit <= 0 means DefaultDeadLetterLimit; it is capped at
// MaxDeadLetterLimit. next is the cursor of the following page, "" when
// there is none. A page costs a scan from the start of the site's dead
// letters (the store has no seek inside a prefix), which the dead-letter
// volume of one site keeps small.
func (o *Outbox) DeadLetters(site, cursor string, limit int) (items []DeadLetter, next string, err error) {
	if err := validSite(site); err != nil {
		return nil, "", err
	}
	after, err := hex.DecodeString(cursor)
	if err != nil {
		return nil, "", ErrCursor
	}
	if limit <= 0 {
		limit = DefaultDeadLetterLimit
	}
	limit = min(limit, MaxDeadLetterLimit)
	prefix := appendDeadPrefix(nil, site)
	var last []byte
	err = o.st.ScanPrefix(prefix, func(key, value []byte) error {
		suffix := key[len(prefix):]
		if len(after) > 0 && bytes.Compare(suffix, after) <= 0 {
			return nil
		}
		if len(items) == limit {
			next = hex.EncodeToString(last)
			return storage.ErrStop
		}
		r, err := decodeRecord(value)
		if err != nil {
			return err
		}
		items = append(items, r.deadLetter())
		last = append(last[:0], suffix...)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

func (r *record) deadLetter() DeadLetter {
	d := DeadLetter{
		EventID: r.ID, Site: r.Site, Endpoint: r.Endpoint, Type: r.Type,
		Created: time.Unix(0, r.Created), Attempts: r.Attempts,
		LastStatus: r.LastStatus, LastError: r.LastError, Body: r.Body,
	}
	if r.LastAttempt != 0 {
		d.LastAttempt = time.Unix(0, r.LastAttempt)
	}
	return d
}

// Retry moves every dead letter of event id in site (one per endpoint)
// back to pending, due now with a fresh attempt budget, and wakes the
// worker. It returns ErrNotFound when there is none. Safe from any
// goroutine; concurrent Retry calls are serialised so an event is never
// pending twice.
func (o *Outbox) Retry(site, eventID string) error {
	if err := validSite(site); err != nil {
		return err
	}
	if err := validEventID(eventID); err != nil {
		return err
	}
	o.retryMu.Lock()
	defer o.retryMu.Unlock()
	b := o.st.NewBatch()
	defer b.Close()
	due := unixNano(o.opts.Now())
	prefix := storage.AppendComponent(appendDeadPrefix(nil, site), eventID)
	err := o.st.ScanPrefix(prefix, func(key, value []byte) error {
		r, err := decodeRecord(value)
		if err != nil {
			return err
		}
		r.Attempts = 0
		if err := b.Put(appendPendingKey(nil, due, r.Site, r.ID, r.Endpoint), r.encode()); err != nil {
			return err
		}
		return b.Delete(key)
	})
	if err != nil {
		return err
	}
	if b.Len() == 0 {
		return ErrNotFound
	}
	if err := b.Commit(); err != nil {
		return err
	}
	o.Notify()
	return nil
}

// newEventID returns "evt_" and 32 random hex digits.
func newEventID() string {
	var raw [16]byte
	rand.Read(raw[:])
	return "evt_" + hex.EncodeToString(raw[:])
}

// unixNano returns t as unsigned Unix nanoseconds (0 before 1970).
func unixNano(t time.Time) uint64 {
	return uint64(max(t.UnixNano(), 0))
}
