package routing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func newTestRouter(t testing.TB, o Options) *Router {
	t.Helper()
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func check(t testing.TB, r *Router) {
	t.Helper()
	if err := r.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// fixture is a Router with one site "s" (default group "g") and agents.
type fixture struct {
	t   testing.TB
	r   *Router
	now time.Time
}

func newFixture(t testing.TB, o Options, site Site, agents ...Agent) *fixture {
	t.Helper()
	f := &fixture{t: t, r: newTestRouter(t, o), now: t0}
	if site.ID == "" {
		site.ID = "s"
	}
	if site.DefaultGroup == "" {
		site.DefaultGroup = "g"
	}
	must(t, f.r.SetSite(site))
	for _, a := range agents {
		if a.Site == "" {
			a.Site = site.ID
		}
		if a.Groups == nil {
			a.Groups = []string{"g"}
		}
		_, err := f.r.SetAgent(nil, a, f.now)
		must(t, err)
	}
	check(t, f.r)
	return f
}

// result is what a call returned, to be checked.
type result struct {
	f   *fixture
	evs []Event
	err error
}

func (f *fixture) do(evs []Event, err error) result { return result{f, evs, err} }

// want checks the call succeeded, the state is consistent, and the events
// read as lines (Event.String forms).
func (x result) want(lines ...string) []Event {
	x.f.t.Helper()
	x.okay()
	got := make([]string, len(x.evs))
	for i, e := range x.evs {
		got[i] = e.String()
	}
	if len(got) != len(lines) {
		x.f.t.Fatalf("events:\n  %s\nwant:\n  %s", joinLines(got), joinLines(lines))
	}
	for i := range got {
		if got[i] != lines[i] {
			x.f.t.Fatalf("event %d:\n  %s\nwant\n  %s\nall:\n  %s", i, got[i], lines[i], joinLines(got))
		}
	}
	return x.evs
}

// okay checks the call succeeded and the state is consistent.
func (x result) okay() []Event {
	x.f.t.Helper()
	must(x.f.t, x.err)
	check(x.f.t, x.f.r)
	return x.evs
}

// fails checks the call failed with want and changed nothing.
func (x result) fails(want error) {
	x.f.t.Helper()
	if !errors.Is(x.err, want) {
		x.f.t.Fatalf("error %v, want %v", x.err, want)
	}
	if len(x.evs) != 0 {
		x.f.t.Fatalf("failed call reported %v", x.evs)
	}
	check(x.f.t, x.f.r)
}

func joinLines(s []string) string { return strings.Join(s, "\n  ") }

func (f *fixture) route(conv, visitor string, tags ...string) result {
	return f.do(f.r.Route(nil, Request{Site: "s", Visitor: visitor, Conversation: conv, Tags: tags}))
}

func (f *fixture) close(conv string) result { return f.do(f.r.Close(nil, "s", conv)) }

func (f *fixture) status(agent string, st Status) result {
	return f.do(f.r.SetStatus(nil, "s", agent, st, f.now))
}

func (f *fixture) load(agent string) int {
	a, ok := f.r.Agent("s", agent)
	if !ok {
		f.t.Fatalf("no agent %s", agent)
	}
	return a.Load
}

func (f *fixture) position(conv string) int {
	p, ok := f.r.Placement("s", conv)
	if !ok {
		f.t.Fatalf("no conversation %s", conv)
	}
	return p.Position
}

func online(id string, capacity int, groups ...string) Agent {
	return Agent{ID: id, Capacity: capacity, Status: StatusOnline, Groups: groups}
}
