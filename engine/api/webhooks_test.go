package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/prometheus/client_golang/prometheus"
)

// enqueue stages one event for site as the shard worker would, commits it
// and wakes the outbox; it returns the event id.
func (e *env) enqueue(site string, typ webhook.EventType) string {
	e.t.Helper()
	b := e.st.NewBatch()
	defer b.Close()
	id, err := e.ob.Enqueue(b, webhook.Event{Type: typ, Site: site, Data: map[string]string{"conversation": "c1"}})
	if err != nil || id == "" {
		e.t.Fatalf("enqueue: %q %v", id, err)
	}
	if err := b.Commit(); err != nil {
		e.t.Fatal(err)
	}
	e.ob.Notify()
	return id
}

// waitDead waits until user's site lists n dead letters and returns them.
func (e *env) waitDead(user string, n int) []map[string]any {
	e.t.Helper()
	var items []map[string]any
	eventually(e.t, "dead letters", func() bool {
		items, _ = e.must(http.StatusOK, e.do("GET", "/api/v1/webhooks/dead", user, nil)).items(e.t)
		return len(items) == n
	})
	return items
}

func TestWebhooksAndDeadLetters(t *testing.T) {
	e := newEnv(t)
	var ok atomic.Bool
	var hits, good atomic.Int32
	var secret atomic.Value
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !ok.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		if s, _ := secret.Load().(string); webhook.Verify(s, r.Header.Get("Kefu-Signature"), r.Header.Get("Kefu-Timestamp"), body, time.Now(), time.Minute) == nil {
			good.Add(1)
		}
	}))
	defer recv.Close()

	for _, bad := range []map[string]any{
		{"url": "ftp://x", "events": []string{"message.created"}},
		{"url": recv.URL},
		{"url": recv.URL, "events": []string{"message.deleted"}},
	} {
		if r := e.do("POST", "/api/v1/webhooks", "a-admin", bad); r.status != 400 || r.code() != CodeBadRequest {
			t.Fatalf("create %v: %d %s", bad, r.status, r.body)
		}
	}
	created := e.must(http.StatusCreated, e.do("POST", "/api/v1/webhooks", "a-admin",
		map[string]any{"url": recv.URL + "/hook", "events": []string{"message.created", "conversation.closed"}})).json(t)
	id, _ := created["id"].(string)
	sec, _ := created["secret"].(string)
	if id == "" || len(sec) < 32 {
		t.Fatalf("create: %v", created)
	}
	secret.Store(sec)
	items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/webhooks", "a-admin", nil)).items(t)
	if len(items) != 1 || items[0]["id"] != id || items[0]["secret"] != nil || next != "" {
		t.Fatalf("list: %v %q", items, next)
	}
	if eps := e.ob.Endpoints("a"); len(eps) != 1 || eps[0].Secret != sec {
		t.Fatalf("outbox endpoints: %+v", eps)
	}
	if items, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/webhooks", "b-admin", nil)).items(t); len(items) != 0 {
		t.Fatalf("site b sees %v", items)
	}

	// Every attempt fails: after MaxAttempts (2) the event is a dead letter.
	ev := e.enqueue("a", webhook.EventMessageCreated)
	dead := e.waitDead("a-admin", 1)[0]
	if dead["event_id"] != ev || dead["endpoint"] != id || dead["attempts"] != 2.0 || dead["last_status"] != 500.0 ||
		dead["type"] != "message.created" || dead["body"].(map[string]any)["site"] != "a" {
		t.Fatalf("dead letter: %v", dead)
	}
	if hits.Load() != 2 {
		t.Fatalf("%d attempts, want 2", hits.Load())
	}
	if items := e.waitDead("b-admin", 0); len(items) != 0 {
		t.Fatal("site b sees a's dead letters")
	}
	e.must(http.StatusNotFound, e.do("POST", "/api/v1/webhooks/dead/"+ev+"/retry", "b-admin", nil))
	e.must(http.StatusNotFound, e.do("POST", "/api/v1/webhooks/dead/evt_nope/retry", "a-admin", nil))

	// The receiver recovers; a retry delivers, signed.
	ok.Store(true)
	r := e.must(http.StatusAccepted, e.do("POST", "/api/v1/webhooks/dead/"+ev+"/retry", "a-admin", nil)).json(t)
	if r["event_id"] != ev {
		t.Fatalf("retry: %v", r)
	}
	eventually(t, "delivery", func() bool { return good.Load() == 1 })
	e.waitDead("a-admin", 0)

	// A restarted API loads the stored endpoints into a new outbox.
	ob2, err := webhook.New(e.st, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	api2, err := New(Options{Accounts: e.acc, Store: e.st, Conversations: e.router, Desk: e.router.Desk(), Outbox: ob2,
		UploadDir: filepath.Join(e.dir, "uploads"), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	api2.Close()
	if eps := ob2.Endpoints("a"); len(eps) != 1 || eps[0].ID != id || eps[0].URL != recv.URL+"/hook" {
		t.Fatalf("reloaded endpoints: %+v", eps)
	}

	e.must(http.StatusNotFound, e.do("DELETE", "/api/v1/webhooks/"+id, "b-admin", nil))
	e.must(http.StatusNoContent, e.do("DELETE", "/api/v1/webhooks/"+id, "a-admin", nil))
	e.must(http.StatusNotFound, e.do("DELETE", "/api/v1/webhooks/"+id, "a-admin", nil))
	if eps := e.ob.Endpoints("a"); len(eps) != 0 {
		t.Fatalf("outbox endpoints after delete: %+v", eps)
	}
}

func TestWebhooksWithoutOutbox(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Outbox = nil })
	e.must(http.StatusCreated, e.do("POST", "/api/v1/webhooks", "a-admin", map[string]any{"url": "https://hooks.example/", "events": []string{"conversation.created"}}))
	if r := e.do("GET", "/api/v1/webhooks/dead", "a-admin", nil); r.status != 503 || r.code() != CodeUnavailable {
		t.Fatalf("dead letters without an outbox: %d %s", r.status, r.body)
	}
}

func TestVisitors(t *testing.T) {
	e := newEnv(t)
	if err := e.acc.TouchVisitor("a", "v1", "kefu.js/1.2 (Android)", []string{"vip"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.openConv("a", "v1", "c1")
	e.openConv("a", "v1", "c2")
	e.openConv("a", "v2", "c3")
	v := e.must(http.StatusOK, e.do("GET", "/api/v1/visitors/v1", "a-agent", nil)).json(t)
	if v["id"] != "v1" || v["client"] != "kefu.js/1.2 (Android)" || v["conversations"] != 2.0 || v["tags"].([]any)[0] != "vip" || v["first_seen"] == "" {
		t.Fatalf("visitor: %v", v)
	}
	var ids []string
	for cursor := ""; ; {
		items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/visitors/v1/conversations?limit=1&cursor="+cursor, "a-agent", nil)).items(t)
		for _, it := range items {
			ids = append(ids, it["id"].(string))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(ids) != 2 || ids[0] != "c2" || ids[1] != "c1" {
		t.Fatalf("visitor conversations: %v", ids)
	}
	e.must(http.StatusNotFound, e.do("GET", "/api/v1/visitors/nobody", "a-agent", nil))
	e.must(http.StatusNotFound, e.do("GET", "/api/v1/visitors/nobody/conversations", "a-agent", nil))
	e.must(http.StatusNotFound, e.do("GET", "/api/v1/visitors/v1", "b-agent", nil))
}
