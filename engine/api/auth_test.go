package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestLoginMeLogout(t *testing.T) {
	e := newEnv(t)
	r := e.must(http.StatusOK, e.do("POST", "/api/v1/login", "", map[string]string{
		"site": "a", "email": "A-AGENT@x.example", "password": "password-a-agent"}))
	m := r.json(t)
	tok, _ := m["token"].(string)
	ag, _ := m["agent"].(map[string]any)
	if len(tok) != 43 || ag["id"] != e.ids["a-agent"] || ag["role"] != "agent" || m["expires_at"] == "" {
		t.Fatalf("login: %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("headers %v", r.header)
	}
	e.tokens["fresh"] = tok
	me := e.must(http.StatusOK, e.do("GET", "/api/v1/me", "fresh", nil)).json(t)
	if me["site"] != "a" || me["agent"].(map[string]any)["status"] != "offline" {
		t.Fatalf("me: %v", me)
	}
	e.must(http.StatusNoContent, e.do("POST", "/api/v1/logout", "fresh", nil))
	if r := e.do("GET", "/api/v1/me", "fresh", nil); r.status != http.StatusUnauthorized || r.code() != CodeUnauthenticated {
		t.Fatalf("after logout: %d %s", r.status, r.body)
	}
}

// TestRequestErrors: every refusal is JSON with a stable code.
func TestRequestErrors(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name         string
		method, path string
		user         string
		body         any
		hdr          []string
		status       int
		code         string
	}{
		{"no credentials", "GET", "/api/v1/me", "", nil, nil, 401, CodeUnauthenticated},
		{"bad scheme", "GET", "/api/v1/me", "", nil, []string{"Authorization", "Basic eDp5"}, 401, CodeUnauthenticated},
		{"unknown token", "GET", "/api/v1/me", "", nil, []string{"Authorization", "Bearer " + strings.Repeat("A", 43)}, 401, CodeUnauthenticated},
		{"visitor scheme on an agent route", "GET", "/api/v1/me", "", nil, []string{"Authorization", "Visitor e30"}, 401, CodeUnauthenticated},
		{"token in the URL", "GET", "/api/v1/me?access_token=x", "a-agent", nil, nil, 400, CodeBadRequest},
		{"unknown endpoint", "GET", "/api/v1/nope", "a-agent", nil, nil, 404, CodeNotFound},
		{"wrong method", "DELETE", "/api/v1/me", "a-agent", nil, nil, 405, CodeMethodNotAllowed},
		{"malformed JSON", "POST", "/api/v1/login", "", "{", nil, 400, CodeBadRequest},
		{"empty body", "POST", "/api/v1/login", "", "", []string{"Content-Type", "application/json"}, 400, CodeBadRequest},
		{"unknown field", "POST", "/api/v1/login", "", map[string]string{"site": "a", "user": "x"}, nil, 400, CodeBadRequest},
		{"wrong field type", "POST", "/api/v1/login", "", map[string]int{"site": 1}, nil, 400, CodeBadRequest},
		{"two objects", "POST", "/api/v1/login", "", `{"site":"a"} {}`, nil, 400, CodeBadRequest},
		{"not JSON", "POST", "/api/v1/login", "", "site=a", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, CodeUnsupportedType},
		{"body too large", "POST", "/api/v1/login", "", `{"site":"` + strings.Repeat("a", maxJSONBody) + `"}`, nil, 413, CodeTooLarge},
		{"missing fields", "POST", "/api/v1/login", "", map[string]string{"site": "a"}, nil, 400, CodeBadRequest},
		{"wrong password", "POST", "/api/v1/login", "", map[string]string{"site": "a", "email": "a-agent@x.example", "password": "nope"}, nil, 401, CodeUnauthenticated},
		{"unknown site", "POST", "/api/v1/login", "", map[string]string{"site": "zz", "email": "a-agent@x.example", "password": "x"}, nil, 401, CodeUnauthenticated},
		{"malformed site", "POST", "/api/v1/login", "", map[string]string{"site": "a b", "email": "a-agent@x.example", "password": "x"}, nil, 401, CodeUnauthenticated},
		{"bad limit", "GET", "/api/v1/agents?limit=0", "a-agent", nil, nil, 400, CodeBadRequest},
		{"bad cursor", "GET", "/api/v1/conversations?cursor=!!", "a-agent", nil, nil, 400, CodeBadRequest},
		{"bad time", "GET", "/api/v1/conversations?since=yesterday", "a-agent", nil, nil, 400, CodeBadRequest},
		{"bad state", "GET", "/api/v1/conversations?state=lost", "a-agent", nil, nil, 400, CodeBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.user, tc.body, tc.hdr...)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("headers %v", r.header)
			}
			if tc.status == 405 && r.header.Get("Allow") != "GET" {
				t.Fatalf("Allow %q", r.header.Get("Allow"))
			}
		})
	}
}

// TestLoginThrottled: past LoginMaxFailures (3 here) failures, even the
// right password answers 429 with Retry-After.
func TestLoginThrottled(t *testing.T) {
	e := newEnv(t)
	bad := map[string]string{"site": "a", "email": "a-admin@x.example", "password": "wrong"}
	for range 3 {
		e.must(http.StatusUnauthorized, e.do("POST", "/api/v1/login", "", bad))
	}
	good := map[string]string{"site": "a", "email": "a-admin@x.example", "password": "password-a-admin"}
	r := e.do("POST", "/api/v1/login", "", good)
	if r.status != http.StatusTooManyRequests || r.code() != CodeThrottled || r.header.Get("Retry-After") == "" {
		t.Fatalf("throttled login: %d %s %v", r.status, r.body, r.header)
	}
	// Another email of the site is not throttled.
	e.must(http.StatusOK, e.do("POST", "/api/v1/login", "", map[string]string{"site": "a", "email": "a-agent@x.example", "password": "password-a-agent"}))
}

// TestAdminOnlyRoutes: every admin route refuses an agent with 403
// (iterating the route table, so a new admin route is covered).
func TestAdminOnlyRoutes(t *testing.T) {
	e := newEnv(t)
	n := 0
	for _, rt := range routes {
		if rt.access != adminRole {
			continue
		}
		n++
		path := strings.NewReplacer("{id}", "x1").Replace(rt.path)
		r := e.do(rt.method, path, "a-agent", map[string]any{})
		if r.status != http.StatusForbidden || r.code() != CodeForbidden {
			t.Errorf("%s %s as agent: %d %s", rt.method, rt.path, r.status, r.body)
		}
	}
	if n < 10 {
		t.Fatalf("only %d admin routes", n)
	}
}
