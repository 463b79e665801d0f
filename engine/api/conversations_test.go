package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
)

// convState reads a conversation through the API.
func (e *env) convState(user, id string) map[string]any {
	e.t.Helper()
	return e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/"+id, user, nil)).json(e.t)
}

func (e *env) waitState(user, id, state string) map[string]any {
	e.t.Helper()
	var m map[string]any
	eventually(e.t, id+" "+state, func() bool {
		m = e.convState(user, id)
		return m["state"] == state
	})
	return m
}

// TestConversationFlow: the REST actions go through the same shard and
// desk as the WebSocket ones.
func TestConversationFlow(t *testing.T) {
	e := newEnv(t)
	// The admin is connected but away (takes nothing by routing, may
	// claim); the agent (capacity 2) is online.
	adminSink := e.connect("a-admin")
	adminSink.wait(t, hasType(proto.Type_TYPE_STATUS, 0))
	st := e.must(http.StatusOK, e.do("PUT", "/api/v1/me/status", "a-admin", map[string]string{"status": "away"})).json(t)
	if st["status"] != "away" {
		t.Fatalf("status: %v", st)
	}
	if r := e.do("PUT", "/api/v1/me/status", "a-admin", map[string]string{"status": "asleep"}); r.status != 400 {
		t.Fatalf("bad status: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/me/status", "b-agent", map[string]string{"status": "online"}); r.status != 403 {
		t.Fatalf("status without a connection: %d %s", r.status, r.body)
	}
	e.connect("a-agent").wait(t, hasType(proto.Type_TYPE_STATUS, 0))

	v1 := e.openConv("a", "v1", "c1", "en")
	e.openConv("a", "v2", "c2")
	e.openConv("a", "v3", "c3")
	e.waitState("a-agent", "c1", "open")
	e.waitState("a-agent", "c2", "open")
	c3 := e.waitState("a-agent", "c3", "queued")
	if c3["agent"] != "" || c3["group"] != "default" || c3["visitor"] != "v3" {
		t.Fatalf("c3: %v", c3)
	}

	// The queue shows c3 with its waiting time.
	items, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/queue", "a-agent", nil)).items(t)
	if len(items) != 1 || items[0]["conversation"] != "c3" || items[0]["position"] != 1.0 || items[0]["waiting_ms"].(float64) < 0 {
		t.Fatalf("queue: %v", items)
	}

	// Claim by hand (the away admin), transfer back to the group, claim again.
	e.must(http.StatusOK, e.do("POST", "/api/v1/conversations/c3/claim", "a-admin", nil))
	if m := e.waitState("a-admin", "c3", "open"); m["agent"] != e.ids["a-admin"] {
		t.Fatalf("claimed: %v", m)
	}
	if r := e.do("POST", "/api/v1/conversations/c3/claim", "a-admin", nil); r.status != 404 {
		t.Fatalf("claim of an assigned conversation: %d %s", r.status, r.body)
	}
	for _, body := range []map[string]string{{}, {"agent": "x", "group": "y"}} {
		if r := e.do("POST", "/api/v1/conversations/c3/transfer", "a-admin", body); r.status != 400 {
			t.Fatalf("transfer %v: %d %s", body, r.status, r.body)
		}
	}
	if r := e.do("POST", "/api/v1/conversations/c3/transfer", "a-admin", map[string]string{"agent": e.ids["b-agent"]}); r.status != 404 {
		t.Fatalf("transfer to another site's agent: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/conversations/c3/transfer", "a-admin", map[string]string{"agent": e.ids["a-agent"]}); r.status != 403 {
		t.Fatalf("transfer to a full agent: %d %s", r.status, r.body)
	}
	e.must(http.StatusOK, e.do("POST", "/api/v1/conversations/c3/transfer", "a-admin", map[string]string{"group": "default"}))
	e.waitState("a-admin", "c3", "queued")

	// An agent who is not a participant replies: it joins first.
	sent := e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/c1/messages", "a-admin",
		map[string]string{"body": "Hello from REST", "client_msg_id": "m-1"})).json(t)
	seq := sent["seq"].(float64)
	if seq < 1 || sent["client_msg_id"] != "m-1" {
		t.Fatalf("send: %v", sent)
	}
	v1.wait(t, func(envs []*proto.Envelope) bool {
		for _, m := range envs {
			if m.Type == proto.Type_TYPE_MESSAGE && m.Body == "Hello from REST" && m.Sender == "a:"+e.ids["a-admin"] {
				return true
			}
		}
		return false
	})
	// A resend with the same client_msg_id gets the same seq.
	again := e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/c1/messages", "a-admin",
		map[string]string{"body": "Hello from REST", "client_msg_id": "m-1"})).json(t)
	if again["seq"] != seq {
		t.Fatalf("resend seq %v, first %v", again["seq"], seq)
	}
	for i := range 5 {
		e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/c1/messages", "a-agent", map[string]string{"body": fmt.Sprintf("msg %d", i)}))
	}
	for _, tc := range []struct {
		body   map[string]string
		status int
	}{
		{map[string]string{"body": ""}, 400},
		{map[string]string{"body": "x", "kind": "event"}, 400},
		{map[string]string{"body": "not json", "kind": "image"}, 400},
		{map[string]string{"body": `{"url":"https://evil.example/x.png","name":"x","size":1,"type":"image/png"}`, "kind": "image"}, 400},
		{map[string]string{"body": string(make([]byte, DefaultMaxBodyBytes+1))}, 413},
	} {
		if r := e.do("POST", "/api/v1/conversations/c1/messages", "a-agent", tc.body); r.status != tc.status {
			t.Fatalf("send %.40v: %d %s", tc.body, r.status, r.body)
		}
	}

	// Message pages: the newest page, then back with before, forward with after.
	all := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/c1/messages?limit=1000", "a-agent", nil))
	msgs, next := all.items(t)
	if next != "" || len(msgs) < 7 {
		t.Fatalf("all messages: %d next %q", len(msgs), next)
	}
	last := msgs[len(msgs)-1]["seq"].(float64)
	var back []float64
	for before := ""; ; {
		q := "?limit=3"
		if before != "" {
			q += "&before=" + before
		}
		page, next := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/c1/messages"+q, "a-agent", nil)).items(t)
		for i := len(page) - 1; i >= 0; i-- {
			back = append(back, page[i]["seq"].(float64))
		}
		if next == "" {
			break
		}
		before = next
	}
	if len(back) != len(msgs) || back[0] != last || back[len(back)-1] != 1 {
		t.Fatalf("backwards: %v (of %d)", back, len(msgs))
	}
	fwd, next := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/c1/messages?after=1&limit=2", "a-agent", nil)).items(t)
	if len(fwd) != 2 || fwd[0]["seq"] != 2.0 || next != "3" {
		t.Fatalf("forward: %v %q", fwd, next)
	}
	if r := e.do("GET", "/api/v1/conversations/c1/messages?after=1&before=3", "a-agent", nil); r.status != 400 {
		t.Fatalf("before and after: %d", r.status)
	}

	// Close, reopen (back to a queue and routed again), close again.
	e.must(http.StatusOK, e.do("POST", "/api/v1/conversations/c1/close", "a-agent", nil))
	if m := e.waitState("a-agent", "c1", "closed"); m["closed_by"] != "a:"+e.ids["a-agent"] {
		t.Fatalf("closed: %v", m)
	}
	// The agent's place went to c3, which was waiting: c1 queues again.
	e.must(http.StatusOK, e.do("POST", "/api/v1/conversations/c1/reopen", "a-agent", nil))
	if m := e.waitState("a-agent", "c1", "queued"); m["closed_by"] != "" {
		t.Fatalf("reopened: %v", m)
	}
	e.must(http.StatusOK, e.do("POST", "/api/v1/conversations/c1/close", "a-agent", nil))
	e.waitState("a-agent", "c1", "closed")
	if r := e.do("POST", "/api/v1/conversations/c1/messages", "a-agent", map[string]string{"body": "late"}); r.status != 403 {
		t.Fatalf("send into a closed conversation: %d %s", r.status, r.body)
	}
	// c3 was waiting: the freed place takes it.
	e.waitState("a-agent", "c3", "open")

	// Listing with filters and pages.
	list := func(q string) []string {
		var ids []string
		for cursor := ""; ; {
			items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations?limit=1&"+q+"&cursor="+url.QueryEscape(cursor), "a-agent", nil)).items(t)
			for _, it := range items {
				ids = append(ids, it["id"].(string))
			}
			if next == "" {
				return ids
			}
			cursor = next
		}
	}
	if got := fmt.Sprint(list("")); got != "[c3 c2 c1]" {
		t.Fatalf("all: %s", got)
	}
	if got := fmt.Sprint(list("state=closed")); got != "[c1]" {
		t.Fatalf("closed: %s", got)
	}
	if got := fmt.Sprint(list("tag=en")); got != "[c1]" {
		t.Fatalf("tag: %s", got)
	}
	if got := fmt.Sprint(list("state=open&agent=" + e.ids["a-agent"])); got != "[c3 c2]" {
		t.Fatalf("agent: %s", got)
	}
	future := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	if got := fmt.Sprint(list("since=" + future)); got != "[]" {
		t.Fatalf("since: %s", got)
	}
	if got := fmt.Sprint(list("until=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)))); got != "[c3 c2 c1]" {
		t.Fatalf("until: %s", got)
	}

	// Stats of today.
	s := e.must(http.StatusOK, e.do("GET", "/api/v1/stats", "a-agent", nil)).json(t)
	if s["conversations_today"] != 3.0 || s["agents_online"] != 1.0 || s["waiting_now"] != 0.0 || s["sampled"] != 3.0 {
		t.Fatalf("stats: %v", s)
	}
	if s["median_first_response_ms"].(float64) < 0 || s["median_wait_ms"].(float64) < 0 {
		t.Fatalf("stats medians: %v", s)
	}
}

func TestSearch(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SearchConversations, o.SearchMessages = 2, 7 })
	e.connect("a-agent").wait(t, hasType(proto.Type_TYPE_STATUS, 0))
	for i := range 4 {
		e.openConv("a", fmt.Sprintf("v%d", i), fmt.Sprintf("s%d", i))
		for j := range 3 {
			body := fmt.Sprintf("plain %d-%d", i, j)
			if j == 1 {
				body = fmt.Sprintf("Refund please %d", i)
			}
			e.must(http.StatusCreated, e.do("POST", fmt.Sprintf("/api/v1/conversations/s%d/messages", i), "a-agent", map[string]string{"body": body}))
		}
	}
	e.openConv("b", "v9", "other")
	e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/other/messages", "b-agent", map[string]string{"body": "refund elsewhere"}))

	var found []string
	requests := 0
	for cursor := ""; ; {
		r := e.must(http.StatusOK, e.do("GET", "/api/v1/search?q=REFUND&limit=1&cursor="+url.QueryEscape(cursor), "a-agent", nil))
		m := r.json(t)
		if m["scanned_messages"].(float64) > 7 || m["scanned_conversations"].(float64) > 2 {
			t.Fatalf("search over its limits: %v", m)
		}
		items, next := r.items(t)
		for _, it := range items {
			found = append(found, it["conversation"].(string)+":"+it["body"].(string))
		}
		requests++
		if next == "" {
			break
		}
		if requests > 40 {
			t.Fatal("search cursor does not advance")
		}
		cursor = next
	}
	want := "[s3:Refund please 3 s2:Refund please 2 s1:Refund please 1 s0:Refund please 0]"
	if fmt.Sprint(found) != want {
		t.Fatalf("found %v\nwant %s", found, want)
	}
	for _, q := range []string{"", "%20"} {
		if r := e.do("GET", "/api/v1/search?q="+q, "a-agent", nil); r.status != 400 {
			t.Fatalf("q=%q: %d", q, r.status)
		}
	}
	if r := e.do("GET", "/api/v1/search?q=x&cursor=%21", "a-agent", nil); r.status != 400 {
		t.Fatalf("bad cursor: %d", r.status)
	}
	// A cursor naming another site's conversation is refused.
	forged := (&searchCursor{Conv: "other", Before: 5}).encode()
	if r := e.do("GET", "/api/v1/search?q=refund&cursor="+forged, "a-agent", nil); r.status != 400 {
		t.Fatalf("forged cursor: %d %s", r.status, r.body)
	}
}

func TestFoldContains(t *testing.T) {
	for _, tc := range []struct {
		s, needle string
		want      bool
	}{
		{"Hello World", "world", true},
		{"Hello World", "worlds", false},
		{"", "a", false},
		{"abc", "", true},
		{"ÄRGER im Büro", "ärger", true},
		{"ÄRGER im Büro", "büro", true},
		{"plain ascii", "ü", false},
	} {
		if got := foldContains([]byte(tc.s), tc.needle); got != tc.want {
			t.Errorf("foldContains(%q, %q) = %v", tc.s, tc.needle, got)
		}
	}
}
