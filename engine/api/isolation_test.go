package api

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/proto"
)

// TestSiteIsolation: for EVERY route of the table, site B's agent and
// admin get 403 or 404 for site A's resources, and A is unchanged after
// all of it. Routes without a path parameter answer B's own data and must
// not leak any of A's identifiers. A new route is covered automatically;
// a new kind of path parameter fails the test until it is given an id of
// site A.
func TestSiteIsolation(t *testing.T) {
	e := newEnv(t)
	// Site A's resources.
	e.connect("a-agent").wait(t, hasType(proto.Type_TYPE_STATUS, 0))
	e.openConv("a", "va", "ca1", "en")
	e.must(http.StatusCreated, e.do("POST", "/api/v1/conversations/ca1/messages", "a-agent", map[string]string{"body": "secret words"}))
	e.must(http.StatusOK, e.do("PUT", "/api/v1/groups/sales", "a-admin", map[string]any{"tags": []string{"pricing"}}))
	canned := e.must(http.StatusCreated, e.do("POST", "/api/v1/canned", "a-agent", map[string]string{"shortcut": "secretshortcut", "body": "A's reply"})).json(t)
	fail := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	hookSrv := newFailingServer(t, fail)
	hook := e.must(http.StatusCreated, e.do("POST", "/api/v1/webhooks", "a-admin", map[string]any{"url": hookSrv, "events": []string{"message.created"}})).json(t)
	event := e.enqueue("a", webhook.EventMessageCreated)
	e.waitDead("a-admin", 1)
	if err := e.acc.TouchVisitor("a", "va", "client-a", []string{"secrettag"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	siteA, _ := e.acc.GetSite("a")
	// B has a conversation too, so its own listings are not empty.
	e.openConv("b", "vb", "cb1")

	ids := map[string]string{ // path prefix of the parameter → A's id
		"/api/v1/agents/":             e.ids["a-agent"],
		"/api/v1/groups/":             "sales",
		"/api/v1/conversations/":      "ca1",
		"/api/v1/canned/by-shortcut/": "secretshortcut",
		"/api/v1/canned/":             canned["id"].(string),
		"/api/v1/visitors/":           "va",
		"/api/v1/webhooks/dead/":      event,
		"/api/v1/webhooks/":           hook["id"].(string),
	}
	// Public by design: a capability URL (the SHA-256 of the content),
	// not a site resource.
	exempt := map[string]bool{"GET /files/{name}": true}
	bodies := map[string]any{
		"PATCH /api/v1/agents/{id}":                map[string]string{"name": "hijack"},
		"PUT /api/v1/groups/{id}":                  map[string]any{"tags": []string{"hijack"}},
		"PUT /api/v1/canned/{id}":                  map[string]string{"shortcut": "hijack", "body": "hijack"},
		"POST /api/v1/conversations/{id}/messages": map[string]string{"body": "hijack"},
		"POST /api/v1/conversations/{id}/transfer": map[string]string{"group": "default"},
	}
	// Upserts create the caller's own record; they must leave A's alone.
	upsert := map[string]bool{"PUT /api/v1/groups/{id}": true}
	leaks := []string{e.ids["a-admin"], e.ids["a-agent"], "ca1", "secret words", "secretshortcut", canned["id"].(string),
		hook["id"].(string), event, "secrettag", siteA.Secret, "a-admin@x.example"}

	checked := 0
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		if exempt[key] || rt.access == public {
			continue
		}
		param := strings.Index(rt.path, "{")
		for _, user := range []string{"b-agent", "b-admin"} {
			if param < 0 {
				if rt.method != "GET" {
					continue // writes without a parameter act on B's own site
				}
				path := rt.path
				if rt.path == "/api/v1/search" {
					path += "?q=" + url.QueryEscape("secret")
				}
				r := e.do(rt.method, path, user, nil)
				for _, s := range leaks {
					if strings.Contains(string(r.body), s) {
						t.Errorf("%s as %s leaks %q: %s", key, user, s, r.body)
					}
				}
				continue
			}
			prefix := rt.path[:param]
			id, ok := ids[prefix]
			if !ok {
				t.Fatalf("%s: no site-A id known for the parameter after %q", key, prefix)
			}
			path := prefix + url.PathEscape(id) + rt.path[strings.Index(rt.path, "}")+1:]
			r := e.do(rt.method, path, user, bodies[key])
			checked++
			switch {
			case r.status == 403 || r.status == 404:
			case upsert[key] && user == "b-admin" && r.status == 200:
				// B made its own record of that id: remove it so the
				// following routes meet only A's.
				if err := e.acc.DeleteGroup("b", id); err != nil {
					t.Fatal(err)
				}
			default:
				t.Errorf("%s (%s) as %s: %d %s", key, path, user, r.status, r.body)
			}
			for _, s := range leaks {
				if s != id && strings.Contains(string(r.body), s) {
					t.Errorf("%s as %s leaks %q: %s", key, user, s, r.body)
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d parameterised calls checked", checked)
	}

	// A is unchanged.
	ag := e.must(http.StatusOK, e.do("GET", "/api/v1/agents/"+e.ids["a-agent"], "a-admin", nil)).json(t)
	if ag["name"] != "a-agent" {
		t.Errorf("a's agent: %v", ag)
	}
	groups, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/groups", "a-agent", nil)).items(t)
	if len(groups) != 1 || groups[0]["tags"].([]any)[0] != "pricing" {
		t.Errorf("a's groups: %v", groups)
	}
	c := e.must(http.StatusOK, e.do("GET", "/api/v1/canned/by-shortcut/secretshortcut", "a-agent", nil)).json(t)
	if c["body"] != "A's reply" {
		t.Errorf("a's canned reply: %v", c)
	}
	conv := e.convState("a-agent", "ca1")
	if conv["state"] != "open" || conv["agent"] != e.ids["a-agent"] || len(conv["agents"].([]any)) != 1 {
		t.Errorf("a's conversation: %v", conv)
	}
	msgs, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/conversations/ca1/messages", "a-agent", nil)).items(t)
	for _, m := range msgs {
		if m["body"] == "hijack" {
			t.Errorf("b wrote into a's conversation: %v", m)
		}
	}
	if hooks, _ := e.must(http.StatusOK, e.do("GET", "/api/v1/webhooks", "a-admin", nil)).items(t); len(hooks) != 1 {
		t.Errorf("a's webhooks: %v", hooks)
	}
	e.waitDead("a-admin", 1)
	if s, _ := e.acc.GetSite("a"); s.Secret != siteA.Secret {
		t.Error("a's secret changed")
	}
}

func newFailingServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
