package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestSignedDelivery checks headers, body and the documented verification
// recipe, computed here independently of the package's Verify.
func TestSignedDelivery(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	before := runtime.NumGoroutine()
	rcv := newReceiver(t, always(http.StatusNoContent))
	clock := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	opts := fastOptions()
	opts.Now = func() time.Time { return clock }
	o := newOutbox(t, st, opts)
	if err := o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL+"/hook")}); err != nil {
		t.Fatal(err)
	}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	id := enqueue(t, st, o, Event{Type: EventMessageCreated, Site: "acme",
		Data: map[string]any{"conversation": "c1", "seq": 7, "body": "<hi>"}})
	h := rcv.waitHits(t, 1, 5*time.Second)[0]

	if got := h.header.Get("Kefu-Event-Id"); got != id || len(id) != 36 {
		t.Errorf("Kefu-Event-Id %q, want %q", got, id)
	}
	if got := h.header.Get("Kefu-Event-Type"); got != "message.created" {
		t.Errorf("Kefu-Event-Type %q", got)
	}
	ts := h.header.Get("Kefu-Timestamp")
	if ts != strconv.FormatInt(clock.Unix(), 10) {
		t.Errorf("Kefu-Timestamp %q, want %d", ts, clock.Unix())
	}
	if ct := h.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// The recipe of docs/webhooks.md: HMAC-SHA256(secret, timestamp + "." +
	// raw body), lowercase hex, after "v1=", compared in constant time.
	mac := hmac.New(sha256.New, []byte(testSecret))
	mac.Write([]byte(ts + "." + string(h.body)))
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	sig := h.header.Get("Kefu-Signature")
	if !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("Kefu-Signature %q, want %q", sig, want)
	}
	if err := Verify(testSecret, sig, ts, h.body, clock.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("Verify: %v", err)
	}
	doc := decodeBody(t, h.body)
	if doc["id"] != id || doc["type"] != "message.created" || doc["site"] != "acme" ||
		doc["created_at"] != "2030-01-02T03:04:05Z" {
		t.Errorf("body %s", h.body)
	}
	if data, _ := doc["data"].(map[string]any); data["conversation"] != "c1" || data["body"] != "<hi>" {
		t.Errorf("body data %s", h.body)
	}
	eventually(t, 2*time.Second, "ok counter", func() bool { return counter(o, "ok") == 1 })
	o.Stop()
	rcv.srv.Close()
	checkNoLeak(t, before)
}

// TestFailTwiceThenSucceed: three attempts, one success, the same event id
// on each, and backoff between them.
func TestFailTwiceThenSucceed(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	before := runtime.NumGoroutine()
	rcv := newReceiver(t, func(n int) int {
		if n < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	opts := fastOptions()
	opts.MaxAttempts = 5
	opts.BackoffBase = 60 * time.Millisecond
	opts.BackoffMax = time.Second
	o := newOutbox(t, st, opts)
	o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL)})
	o.Start(context.Background())
	id := enqueue(t, st, o, Event{Type: EventConversationClosed, Site: "acme", Data: map[string]string{"conversation": "c9"}})
	hits := rcv.waitHits(t, 3, 5*time.Second)
	eventually(t, 2*time.Second, "ok counter", func() bool { return counter(o, "ok") == 1 })
	time.Sleep(200 * time.Millisecond) // nothing more may arrive
	if hits = rcv.Hits(); len(hits) != 3 {
		t.Fatalf("receiver saw %d requests, want 3", len(hits))
	}
	for i, h := range hits {
		if got := h.header.Get(HeaderEventID); got != id {
			t.Errorf("attempt %d: event id %q, want %q", i, got, id)
		}
		if string(h.body) != string(hits[0].body) {
			t.Errorf("attempt %d: body changed", i)
		}
	}
	// Attempt n+1 waits at least half of base·2^(n-1).
	if gap := hits[1].at.Sub(hits[0].at); gap < 30*time.Millisecond {
		t.Errorf("first backoff %v, want >= 30ms", gap)
	}
	if gap := hits[2].at.Sub(hits[1].at); gap < 60*time.Millisecond {
		t.Errorf("second backoff %v, want >= 60ms", gap)
	}
	if r := counter(o, "retry"); r != 2 {
		t.Errorf("retry counter %v, want 2", r)
	}
	if d := counter(o, "dead"); d != 0 {
		t.Errorf("dead counter %v", d)
	}
	eventually(t, time.Second, "pending gauge 0", func() bool { return value(o.m.pending) == 0 })
	if n := value(o.m.duration); n != 3 {
		t.Errorf("duration histogram has %v samples, want 3", n)
	}
	o.Stop()
	rcv.srv.Close()
	checkNoLeak(t, before)
}

func TestDeadLetterAndRetry(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	before := runtime.NumGoroutine()
	failing := make(chan bool, 1)
	failing <- true
	rcv := newReceiver(t, func(int) int {
		f := <-failing
		failing <- f
		if f {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	o := newOutbox(t, st, fastOptions()) // MaxAttempts 3
	o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL)})
	o.Start(context.Background())
	id := enqueue(t, st, o, Event{Type: EventConversationRated, Site: "acme", Data: map[string]int{"rating": 5}})
	var dead []DeadLetter
	eventually(t, 5*time.Second, "dead letter", func() bool {
		var err error
		dead, _, err = o.DeadLetters("acme", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(dead) == 1
	})
	d := dead[0]
	if d.EventID != id || d.Site != "acme" || d.Endpoint != "main" || d.Type != EventConversationRated ||
		d.Attempts != 3 || d.LastStatus != 503 || d.LastError != "HTTP 503" || d.LastAttempt.IsZero() {
		t.Errorf("dead letter %+v", d)
	}
	if got := len(rcv.Hits()); got != 3 {
		t.Errorf("attempts %d, want 3", got)
	}
	if c := counter(o, "dead"); c != 1 {
		t.Errorf("dead counter %v", c)
	}
	if other, _, _ := o.DeadLetters("other", "", 10); len(other) != 0 {
		t.Errorf("site isolation: other site sees %d dead letters", len(other))
	}
	if err := o.Retry("other", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Retry from another site: %v, want ErrNotFound", err)
	}

	<-failing
	failing <- false
	if err := o.Retry("acme", id); err != nil {
		t.Fatal(err)
	}
	hits := rcv.waitHits(t, 4, 5*time.Second)
	if got := hits[3].header.Get(HeaderEventID); got != id {
		t.Errorf("retried delivery id %q, want %q", got, id)
	}
	eventually(t, 2*time.Second, "ok counter", func() bool { return counter(o, "ok") == 1 })
	if dead, _, _ := o.DeadLetters("acme", "", 10); len(dead) != 0 {
		t.Errorf("dead letters after Retry: %d", len(dead))
	}
	if err := o.Retry("acme", id); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Retry: %v, want ErrNotFound", err)
	}
	o.Stop()
	rcv.srv.Close()
	checkNoLeak(t, before)
}

func TestDeadLetterPages(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	rcv := newReceiver(t, always(http.StatusGone))
	opts := fastOptions()
	opts.MaxAttempts = 1
	o := newOutbox(t, st, opts)
	o.SetEndpoints("acme", []Endpoint{endpoint("a", rcv.srv.URL), endpoint("b", rcv.srv.URL)})
	o.Start(context.Background())
	defer o.Stop()
	for i := range 3 {
		enqueue(t, st, o, Event{ID: "evt-" + strconv.Itoa(i), Type: EventMessageCreated, Site: "acme"})
	}
	eventually(t, 5*time.Second, "6 dead letters", func() bool { return counter(o, "dead") == 6 })
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, next, err := o.DeadLetters("acme", cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page {
			got = append(got, d.EventID+"/"+d.Endpoint)
		}
		if next == "" {
			if pages != 1 {
				t.Errorf("pages %d, want 2", pages+1)
			}
			break
		}
		cursor = next
	}
	want := "[evt-0/a evt-0/b evt-1/a evt-1/b evt-2/a evt-2/b]"
	if s := fmtSlice(got); s != want {
		t.Errorf("dead letters %s, want %s", s, want)
	}
	if _, _, err := o.DeadLetters("acme", "zz", 4); !errors.Is(err, ErrCursor) {
		t.Errorf("bad cursor: %v", err)
	}
}

func fmtSlice(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}

// TestRestartResumes: deliveries committed by one process are made by the
// next, with their event ids and attempt counts.
func TestRestartResumes(t *testing.T) {
	dir := t.TempDir()
	rcv := newReceiver(t, always(http.StatusOK))
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer down.Close()

	st := openStore(t, dir)
	opts := fastOptions()
	opts.MaxAttempts = 10
	opts.BackoffBase = 150 * time.Millisecond // the retry is still pending at "crash"
	opts.BackoffMax = 150 * time.Millisecond
	o := newOutbox(t, st, opts)
	o.SetEndpoints("acme", []Endpoint{endpoint("main", down.URL)})
	o.Start(context.Background())
	var ids []string
	for range 3 {
		ids = append(ids, enqueue(t, st, o, Event{Type: EventConversationCreated, Site: "acme"}))
	}
	eventually(t, 5*time.Second, "3 failed attempts", func() bool { return counter(o, "retry") >= 3 })
	o.Stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	defer st.Close()
	o = newOutbox(t, st, fastOptions())
	o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL)}) // the receiver moved
	o.Start(context.Background())
	defer o.Stop()
	hits := rcv.waitHits(t, 3, 5*time.Second)
	seen := map[string]bool{}
	for _, h := range hits {
		seen[h.header.Get(HeaderEventID)] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("event %s not delivered after restart (saw %v)", id, seen)
		}
	}
	eventually(t, 2*time.Second, "outbox empty", func() bool {
		n := 0
		st.ScanPrefix(pendingPrefix, func(_, _ []byte) error { n++; return nil })
		return n == 0
	})
}

func TestUnsubscribedNotEnqueued(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	o := newOutbox(t, st, fastOptions())
	defer o.Stop()
	err := o.SetEndpoints("acme", []Endpoint{
		endpoint("msgs", "https://example.com/a", EventMessageCreated),
		endpoint("all", "https://example.com/b"),
		endpoint("closed", "http://example.com:8080/c", EventConversationClosed, EventConversationRated),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		site  string
		typ   EventType
		wantN int
	}{
		{"acme", EventMessageCreated, 2},
		{"acme", EventConversationClosed, 2},
		{"acme", EventConversationAssigned, 1},
		{"acme", EventConversationRated, 2},
		{"other", EventMessageCreated, 0},
	}
	for _, tt := range tests {
		b := st.NewBatch()
		id, err := o.Enqueue(b, Event{Type: tt.typ, Site: tt.site})
		if err != nil {
			t.Fatal(err)
		}
		if b.Len() != tt.wantN || (id == "") != (tt.wantN == 0) {
			t.Errorf("%s %s: staged %d (id %q), want %d", tt.site, tt.typ, b.Len(), id, tt.wantN)
		}
		b.Close()
	}
	o.SetEndpoints("acme", []Endpoint{endpoint("msgs", "https://example.com/a", EventMessageCreated)})
	b := st.NewBatch()
	defer b.Close()
	if id, _ := o.Enqueue(b, Event{Type: EventConversationClosed, Site: "acme"}); id != "" || b.Len() != 0 {
		t.Errorf("after unsubscribing: id %q, staged %d", id, b.Len())
	}
	if _, err := o.Enqueue(b, Event{Type: "conversation.deleted", Site: "acme"}); !errors.Is(err, ErrEventType) {
		t.Errorf("unknown type: %v", err)
	}
	if _, err := o.Enqueue(b, Event{Type: EventMessageCreated, Site: ""}); !errors.Is(err, ErrSite) {
		t.Errorf("empty site: %v", err)
	}
	if _, err := o.Enqueue(b, Event{ID: "bad id", Type: EventMessageCreated, Site: "acme"}); !errors.Is(err, ErrEventID) {
		t.Errorf("bad id: %v", err)
	}
	if _, err := o.Enqueue(b, Event{Type: EventMessageCreated, Site: "acme", Data: make(chan int)}); err == nil {
		t.Error("unmarshalable data accepted")
	}
	if b.Len() != 0 {
		t.Errorf("failed Enqueue calls staged %d records", b.Len())
	}
}

// TestHangingReceiver: one receiver never answers; deliveries to another
// endpoint go through meanwhile, and the hung attempt times out into a retry.
func TestHangingReceiver(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	hung := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	fast := newReceiver(t, always(http.StatusOK))
	opts := fastOptions()
	opts.Timeout = 1500 * time.Millisecond
	opts.MaxAttempts = 10
	opts.BackoffBase = 10 * time.Second // one hung attempt in this test
	opts.BackoffMax = 10 * time.Second
	o := newOutbox(t, st, opts)
	o.SetEndpoints("slow", []Endpoint{endpoint("hang", hang.URL)})
	o.SetEndpoints("quick", []Endpoint{endpoint("fast", fast.srv.URL)})
	o.Start(context.Background())
	start := time.Now()
	enqueue(t, st, o, Event{Type: EventMessageCreated, Site: "slow"})
	select {
	case <-hung:
	case <-time.After(5 * time.Second):
		t.Fatal("hanging receiver never called")
	}
	for range 5 {
		enqueue(t, st, o, Event{Type: EventMessageCreated, Site: "quick"})
	}
	fast.waitHits(t, 5, 5*time.Second)
	if r := counter(o, "retry"); r != 0 || time.Since(start) >= opts.Timeout {
		t.Errorf("fast deliveries finished after the hung attempt timed out (%v, retries %v)", time.Since(start), r)
	}
	eventually(t, 5*time.Second, "timeout recorded as retry", func() bool { return counter(o, "retry") == 1 })
	if took := time.Since(start); took < opts.Timeout {
		t.Errorf("hung attempt failed after %v, before the %v timeout", took, opts.Timeout)
	}
	dead, _, _ := o.DeadLetters("slow", "", 1)
	if len(dead) != 0 || counter(o, "ok") != 5 {
		t.Errorf("dead %d ok %v", len(dead), counter(o, "ok"))
	}
	o.Stop()
	close(release)
	hang.Close()
	fast.srv.Close()
	checkNoLeak(t, before)
}

func TestRedirects(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	elsewhere := newReceiver(t, always(http.StatusOK))
	mux := http.NewServeMux()
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.srv.URL+"/stolen", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/here", http.StatusPermanentRedirect)
	})
	var landed = make(chan string, 1)
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) {
		landed <- r.Method + " " + r.Header.Get(HeaderEventID)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	o := newOutbox(t, st, fastOptions())
	o.SetEndpoints("away", []Endpoint{endpoint("x", srv.URL+"/away")})
	o.SetEndpoints("moved", []Endpoint{endpoint("y", srv.URL+"/moved")})
	o.Start(context.Background())
	defer o.Stop()
	enqueue(t, st, o, Event{Type: EventMessageCreated, Site: "away"})
	id := enqueue(t, st, o, Event{Type: EventMessageCreated, Site: "moved"})
	select {
	case got := <-landed:
		if got != "POST "+id {
			t.Errorf("same-host redirect landed as %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("same-host redirect not followed")
	}
	eventually(t, 5*time.Second, "cross-host redirect dead-lettered", func() bool { return counter(o, "dead") == 1 })
	if n := len(elsewhere.Hits()); n != 0 {
		t.Errorf("redirect to another host followed %d times", n)
	}
	dead, _, _ := o.DeadLetters("away", "", 1)
	if len(dead) != 1 || dead[0].LastStatus != http.StatusTemporaryRedirect {
		t.Errorf("dead letters %+v", dead)
	}
}

// TestRemovedEndpoint: deliveries of an endpoint that no longer exists fail
// like any other and end in the dead letters, from where Retry revives them
// once it is configured again.
func TestRemovedEndpoint(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	rcv := newReceiver(t, always(http.StatusOK))
	o := newOutbox(t, st, fastOptions())
	o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL)})
	b := st.NewBatch()
	id, _ := o.Enqueue(b, Event{Type: EventMessageCreated, Site: "acme"})
	b.Commit()
	b.Close()
	o.SetEndpoints("acme", nil)
	o.Start(context.Background())
	defer o.Stop()
	eventually(t, 5*time.Second, "dead letter", func() bool { return counter(o, "dead") == 1 })
	dead, _, _ := o.DeadLetters("acme", "", 0)
	if len(dead) != 1 || dead[0].LastError != "endpoint not configured" {
		t.Fatalf("dead letters %+v", dead)
	}
	o.SetEndpoints("acme", []Endpoint{endpoint("main", rcv.srv.URL)})
	if err := o.Retry("acme", id); err != nil {
		t.Fatal(err)
	}
	if h := rcv.waitHits(t, 1, 5*time.Second); h[0].header.Get(HeaderEventID) != id {
		t.Errorf("delivered id %q", h[0].header.Get(HeaderEventID))
	}
}

func TestStartStop(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	before := runtime.NumGoroutine()
	o := newOutbox(t, st, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := o.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := o.Start(ctx); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	cancel() // the context stops the worker too; Stop still waits
	o.Stop()
	o.Stop()
	if err := o.Start(context.Background()); !errors.Is(err, ErrStarted) {
		t.Errorf("Start after Stop: %v", err)
	}
	checkNoLeak(t, before)
	// Stop without Start, and metric registration conflicts.
	reg := fastOptions().Registerer
	a, err := New(st, Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(st, Options{Registerer: reg}); err == nil {
		t.Error("second registration into one registry succeeded")
	}
	a.Stop()
	if b, err := New(st, Options{Registerer: reg}); err != nil {
		t.Errorf("registration after Stop: %v", err)
	} else {
		b.Stop()
	}
}
