package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/shard/routing"
)

func TestAgentsCRUD(t *testing.T) {
	e := newEnv(t)
	r := e.must(http.StatusCreated, e.do("POST", "/api/v1/agents", "a-admin", map[string]any{
		"email": "new@x.example", "name": "New", "groups": []string{"sales"}, "capacity": 3, "weight": 2}))
	m := r.json(t)
	pw, _ := m["password"].(string)
	ag := m["agent"].(map[string]any)
	id, _ := ag["id"].(string)
	if len(pw) < 20 || ag["role"] != "agent" || ag["capacity"] != 3.0 || id == "" {
		t.Fatalf("create: %s", r.body)
	}
	// The one-time password logs in.
	e.must(http.StatusOK, e.do("POST", "/api/v1/login", "", map[string]string{"site": "a", "email": "new@x.example", "password": pw}))
	// The desk knows the agent with its groups.
	var live routing.Agent
	_ = e.router.Desk().Query(t.Context(), func(rt *routing.Router) { live, _ = rt.Agent("a", id) })
	if !slices.Equal(live.Groups, []string{"sales"}) || live.Capacity != 3 {
		t.Fatalf("desk agent %+v", live)
	}

	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"duplicate email", map[string]any{"email": "NEW@x.example"}, 409, CodeConflict},
		{"bad email", map[string]any{"email": "nope"}, 400, CodeBadRequest},
		{"no email", map[string]any{"name": "x"}, 400, CodeBadRequest},
		{"bad role", map[string]any{"email": "r@x.example", "role": "boss"}, 400, CodeBadRequest},
		{"bad group", map[string]any{"email": "g@x.example", "groups": []string{"a b"}}, 400, CodeBadRequest},
		{"capacity too big", map[string]any{"email": "c@x.example", "capacity": 100000}, 400, CodeBadRequest},
		{"negative weight", map[string]any{"email": "w@x.example", "weight": -1}, 400, CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/agents", "a-admin", tc.body)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}

	// Listing pages through every agent of the site, and only of it.
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/agents?limit=2&cursor="+url.QueryEscape(cursor), "a-agent", nil)).items(t)
		if len(items) > 2 || pages > 3 {
			t.Fatalf("page of %d", len(items))
		}
		for _, it := range items {
			seen = append(seen, it["id"].(string))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{e.ids["a-admin"], e.ids["a-agent"], id}
	slices.Sort(want)
	if !slices.Equal(seen, want) {
		t.Fatalf("listed %v, want %v", seen, want)
	}

	got := e.must(http.StatusOK, e.do("GET", "/api/v1/agents/"+id, "a-agent", nil)).json(t)
	if got["email"] != "new@x.example" || got["status"] != "offline" {
		t.Fatalf("get: %v", got)
	}
	p := e.must(http.StatusOK, e.do("PATCH", "/api/v1/agents/"+id, "a-admin", map[string]any{"name": "Renamed", "capacity": 4, "groups": []string{"support"}})).json(t)
	if p["name"] != "Renamed" || p["capacity"] != 4.0 || p["email"] != "new@x.example" {
		t.Fatalf("patch: %v", p)
	}
	_ = e.router.Desk().Query(t.Context(), func(rt *routing.Router) { live, _ = rt.Agent("a", id) })
	if !slices.Equal(live.Groups, []string{"support"}) || live.Capacity != 4 {
		t.Fatalf("desk after patch %+v", live)
	}
	if r := e.do("PATCH", "/api/v1/agents/"+id, "a-admin", map[string]any{"weight": 0}); r.status != 400 {
		t.Fatalf("invalid patch: %d %s", r.status, r.body)
	}
	if r := e.do("PATCH", "/api/v1/agents/"+e.ids["a-admin"], "a-admin", map[string]any{"role": "agent"}); r.status != 409 {
		t.Fatalf("self-demotion: %d %s", r.status, r.body)
	}
	pw2 := e.must(http.StatusOK, e.do("POST", "/api/v1/agents/"+id+"/password", "a-admin", nil)).json(t)["password"].(string)
	if pw2 == pw {
		t.Fatal("same password")
	}
	e.must(http.StatusUnauthorized, e.do("POST", "/api/v1/login", "", map[string]string{"site": "a", "email": "new@x.example", "password": pw}))
	e.must(http.StatusOK, e.do("POST", "/api/v1/login", "", map[string]string{"site": "a", "email": "new@x.example", "password": pw2}))

	if r := e.do("DELETE", "/api/v1/agents/"+e.ids["a-admin"], "a-admin", nil); r.status != 409 {
		t.Fatalf("self-delete: %d %s", r.status, r.body)
	}
	e.must(http.StatusNoContent, e.do("DELETE", "/api/v1/agents/"+id, "a-admin", nil))
	e.must(http.StatusNotFound, e.do("GET", "/api/v1/agents/"+id, "a-agent", nil))
	_ = e.router.Desk().Query(t.Context(), func(rt *routing.Router) {
		if _, ok := rt.Agent("a", id); ok {
			t.Error("deleted agent still on the desk")
		}
	})
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	g := e.must(http.StatusOK, e.do("PUT", "/api/v1/groups/sales", "a-admin", map[string]any{"tags": []string{"pricing", "en"}})).json(t)
	if g["id"] != "sales" || len(g["tags"].([]any)) != 2 {
		t.Fatalf("put: %v", g)
	}
	e.must(http.StatusOK, e.do("PUT", "/api/v1/groups/support", "a-admin", map[string]any{"tags": []string{}}))
	if r := e.do("PUT", "/api/v1/groups/bad%20id", "a-admin", map[string]any{}); r.status != 400 {
		t.Fatalf("bad id: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", "/api/v1/groups/x", "a-admin", map[string]any{"tags": []string{"a", "a"}}); r.status != 400 {
		t.Fatalf("duplicate tags: %d %s", r.status, r.body)
	}
	items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/groups?limit=1", "a-agent", nil)).items(t)
	if len(items) != 1 || items[0]["id"] != "sales" || next != "sales" {
		t.Fatalf("page 1: %v %q", items, next)
	}
	items, next = e.must(http.StatusOK, e.do("GET", "/api/v1/groups?limit=1&cursor=sales", "a-agent", nil)).items(t)
	if len(items) != 1 || items[0]["id"] != "support" || next != "" {
		t.Fatalf("page 2: %v %q", items, next)
	}
	// The desk routes by the tags.
	var pick string
	_ = e.router.Desk().Query(t.Context(), func(rt *routing.Router) {
		pick, _ = rt.PickGroup(routing.Request{Site: "a", Visitor: "v", Conversation: "c", Tags: []string{"pricing"}})
	})
	if pick != "sales" {
		t.Fatalf("routing picks %q", pick)
	}
	e.must(http.StatusNoContent, e.do("DELETE", "/api/v1/groups/sales", "a-admin", nil))
	e.must(http.StatusNotFound, e.do("DELETE", "/api/v1/groups/sales", "a-admin", nil))
	// The default group cannot be removed (it is the desk's).
	e.must(http.StatusOK, e.do("PUT", "/api/v1/groups/default", "a-admin", map[string]any{"tags": []string{"x"}}))
	if r := e.do("DELETE", "/api/v1/groups/default", "a-admin", nil); r.status != 409 || r.code() != CodeConflict {
		t.Fatalf("delete default: %d %s", r.status, r.body)
	}
}

func TestCanned(t *testing.T) {
	e := newEnv(t)
	c := e.must(http.StatusCreated, e.do("POST", "/api/v1/canned", "a-agent", map[string]string{"shortcut": "hi", "title": "Hello", "body": "Hello, how can I help?"})).json(t)
	id := c["id"].(string)
	for _, s := range []string{"bye", "thanks"} {
		e.must(http.StatusCreated, e.do("POST", "/api/v1/canned", "a-agent", map[string]string{"shortcut": s, "body": s}))
	}
	if r := e.do("POST", "/api/v1/canned", "a-agent", map[string]string{"shortcut": "HI", "body": "x"}); r.status != 409 || r.code() != CodeConflict {
		t.Fatalf("duplicate shortcut: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/api/v1/canned", "a-agent", map[string]string{"shortcut": "a b", "body": "x"}); r.status != 400 {
		t.Fatalf("bad shortcut: %d %s", r.status, r.body)
	}
	got := e.must(http.StatusOK, e.do("GET", "/api/v1/canned/by-shortcut/Hi", "a-agent", nil)).json(t)
	if got["id"] != id || got["body"] != "Hello, how can I help?" {
		t.Fatalf("by shortcut: %v", got)
	}
	var order []string
	for cursor := ""; ; {
		items, next := e.must(http.StatusOK, e.do("GET", "/api/v1/canned?limit=2&cursor="+cursor, "a-agent", nil)).items(t)
		for _, it := range items {
			order = append(order, it["shortcut"].(string))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(order, ",") != "bye,hi,thanks" {
		t.Fatalf("order %v", order)
	}
	up := e.must(http.StatusOK, e.do("PUT", "/api/v1/canned/"+id, "a-agent", map[string]string{"shortcut": "hello", "title": "Hi", "body": "Hi!"})).json(t)
	if up["shortcut"] != "hello" || up["body"] != "Hi!" {
		t.Fatalf("update: %v", up)
	}
	e.must(http.StatusNotFound, e.do("GET", "/api/v1/canned/by-shortcut/hi", "a-agent", nil))
	e.must(http.StatusNoContent, e.do("DELETE", "/api/v1/canned/"+id, "a-agent", nil))
	e.must(http.StatusNotFound, e.do("PUT", "/api/v1/canned/"+id, "a-agent", map[string]string{"shortcut": "x", "body": "y"}))
}

func TestSiteAdmin(t *testing.T) {
	e := newEnv(t)
	s := e.must(http.StatusOK, e.do("GET", "/api/v1/site", "a-admin", nil)).json(t)
	secret := s["secret"].(string)
	if s["id"] != "a" || len(secret) != 64 || s["prev_secret_until"] != nil {
		t.Fatalf("site: %v", s)
	}
	p := e.must(http.StatusOK, e.do("PATCH", "/api/v1/site", "a-admin", map[string]any{
		"origins": []string{"https://shop.example"}, "settings": map[string]any{"queue_message": "Please wait", "max_queue": 3}})).json(t)
	set := p["settings"].(map[string]any)
	if p["origins"].([]any)[0] != "https://shop.example" || set["queue_message"] != "Please wait" || set["max_queue"] != 3.0 {
		t.Fatalf("patch: %v", p)
	}
	// A partial patch keeps the other fields.
	p = e.must(http.StatusOK, e.do("PATCH", "/api/v1/site", "a-admin", map[string]any{"settings": map[string]any{"offline_message": "Back soon"}})).json(t)
	set = p["settings"].(map[string]any)
	if len(p["origins"].([]any)) != 1 || set["queue_message"] != "Please wait" || set["offline_message"] != "Back soon" {
		t.Fatalf("partial patch: %v", p)
	}
	if r := e.do("PATCH", "/api/v1/site", "a-admin", map[string]any{"settings": map[string]any{"max_queue": -1}}); r.status != 400 {
		t.Fatalf("negative max_queue: %d %s", r.status, r.body)
	}
	rot := e.must(http.StatusOK, e.do("POST", "/api/v1/site/secret", "a-admin", nil)).json(t)
	if rot["secret"] == secret || rot["prev_secret_until"] == nil {
		t.Fatalf("rotate: %v", rot)
	}
	// Site b is untouched.
	if b := e.must(http.StatusOK, e.do("GET", "/api/v1/site", "b-admin", nil)).json(t); len(b["origins"].([]any)) != 0 {
		t.Fatalf("site b: %v", b)
	}
}
