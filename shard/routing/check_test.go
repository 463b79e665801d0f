package routing

import "testing"

// TestCheckCatchesCorruption: each invariant Check claims is really
// checked (a checker that always passes would make the property and
// concurrency tests vacuous).
func TestCheckCatchesCorruption(t *testing.T) {
	build := func() (*Router, *site) {
		f := newFixture(t, Options{}, Site{}, online("a", 2), online("b", 2), online("c", 1, "x"))
		for _, c := range []string{"c1", "c2", "c3", "c4", "c5", "c6"} {
			f.route(c, "v-"+c).okay()
		}
		return f.r, f.r.sites["s"]
	}
	for name, corrupt := range map[string]func(r *Router, s *site){
		"load":        func(r *Router, s *site) { s.agents["a"].load++ },
		"over cap":    func(r *Router, s *site) { s.agents["a"].capacity = 1 },
		"held twice":  func(r *Router, s *site) { c := r.convs["c1"]; c.group.q.pushBack(c) },
		"lost":        func(r *Router, s *site) { r.convs["ghost"] = &conv{id: "ghost", site: s, group: s.def, slot: -1} },
		"wrong agent": func(r *Router, s *site) { r.convs["c1"].agent = s.agents["c"] },
		"heap order": func(r *Router, s *site) {
			for _, id := range []string{"a", "b"} {
				if _, err := r.SetCapacity(nil, "s", id, 9); err != nil {
					t.Fatal(err)
				}
			}
			h := s.groups["g"].free
			if len(h) != 2 {
				t.Fatalf("free heap holds %d", len(h))
			}
			h[0].a.score = 1 // the root is now worse than its child
		},
		"not drained": func(r *Router, s *site) {
			a := s.agents["b"]
			a.capacity = 9
			r.refresh(a) // room appears without a drain
		},
		"told":     func(r *Router, s *site) { s.def.q.front().told = 7 },
		"waiting":  func(r *Router, s *site) { s.queued++ },
		"online":   func(r *Router, s *site) { s.groups["g"].online++ },
		"pending":  func(r *Router, s *site) { s.agents["a"].pending = true },
		"dirty":    func(r *Router, s *site) { r.markDirty(s.def) },
		"position": func(r *Router, s *site) { s.def.q.add(s.def.q.lo, 1) },
	} {
		r, s := build()
		if r.queued == 0 {
			t.Fatal("fixture has nothing waiting")
		}
		corrupt(r, s)
		if err := r.Check(); err == nil {
			t.Errorf("%s: corruption not detected", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}
