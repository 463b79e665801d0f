package routing

import (
	"fmt"
	"math"
	"strconv"
	"testing"
)

func ringGroups(n int) []*group {
	gs := make([]*group, n)
	for i := range gs {
		gs[i] = &group{id: "group-" + strconv.Itoa(i)}
	}
	return gs
}

const ringKeys = 100000

func owners(h *hashRing) []*group {
	out := make([]*group, ringKeys)
	for i := range out {
		out[i] = h.owner(keyHash("visitor-" + strconv.Itoa(i)))
	}
	return out
}

// TestRingAddMovesOneNth measures how many keys move when a group joins a
// tag's ring: about 1/(N+1), and every one of them to the new group.
func TestRingAddMovesOneNth(t *testing.T) {
	for _, n := range []int{1, 2, 5, 10, 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			gs := ringGroups(n + 1)
			before := owners(buildRing(gs[:n], 128))
			after := owners(buildRing(gs, 128))
			moved := 0
			for i := range before {
				if before[i] != after[i] {
					moved++
					if after[i] != gs[n] {
						t.Fatalf("key %d moved from %s to %s, not to the new group", i, before[i].id, after[i].id)
					}
				}
			}
			frac, ideal := float64(moved)/ringKeys, 1/float64(n+1)
			t.Logf("%d→%d groups: %.4f of keys moved (ideal %.4f)", n, n+1, frac, ideal)
			if frac < 0.6*ideal || frac > 1.5*ideal {
				t.Errorf("moved %.4f of keys, want about %.4f", frac, ideal)
			}
		})
	}
}

// TestRingRemoveMovesOnlyItsKeys: removing a group moves exactly the keys
// it owned (about 1/N) and no other.
func TestRingRemoveMovesOnlyItsKeys(t *testing.T) {
	for _, n := range []int{2, 5, 10, 20} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			gs := ringGroups(n)
			gone := gs[n/2]
			rest := append(append([]*group(nil), gs[:n/2]...), gs[n/2+1:]...)
			before := owners(buildRing(gs, 128))
			after := owners(buildRing(rest, 128))
			moved := 0
			for i := range before {
				switch {
				case before[i] == gone:
					moved++
				case before[i] != after[i]:
					t.Fatalf("key %d of %s moved to %s though its group stayed", i, before[i].id, after[i].id)
				}
			}
			frac, ideal := float64(moved)/ringKeys, 1/float64(n)
			t.Logf("%d→%d groups: %.4f of keys moved (ideal %.4f)", n, n-1, frac, ideal)
			if frac < 0.6*ideal || frac > 1.5*ideal {
				t.Errorf("moved %.4f of keys, want about %.4f", frac, ideal)
			}
		})
	}
}

// TestRingBalance measures how evenly virtual nodes spread keys.
func TestRingBalance(t *testing.T) {
	for _, tc := range []struct {
		groups, vnodes int
		tol            float64
	}{{10, 128, 0.35}, {20, 128, 0.4}, {10, 512, 0.2}} {
		t.Run(fmt.Sprintf("%dx%d", tc.groups, tc.vnodes), func(t *testing.T) {
			count := map[*group]int{}
			for _, g := range owners(buildRing(ringGroups(tc.groups), tc.vnodes)) {
				count[g]++
			}
			ideal := float64(ringKeys) / float64(tc.groups)
			worst := 0.0
			for _, c := range count {
				worst = max(worst, math.Abs(float64(c)-ideal)/ideal)
			}
			t.Logf("%d groups × %d points: worst share off by %.1f%%", tc.groups, tc.vnodes, 100*worst)
			if len(count) != tc.groups || worst > tc.tol {
				t.Errorf("%d groups own keys, worst deviation %.2f (tolerance %.2f)", len(count), worst, tc.tol)
			}
		})
	}
}

func TestRingIndexWraps(t *testing.T) {
	h := buildRing(ringGroups(3), 4)
	if got := h.index(h.points[len(h.points)-1] + 1); got != 0 {
		t.Errorf("key past the last point owned by point %d, want 0", got)
	}
	if got := h.index(0); got != 0 {
		t.Errorf("key 0 owned by point %d, want 0", got)
	}
	for i, p := range h.points {
		if got := h.index(p); got != i && h.points[got] != p {
			t.Errorf("point %d's own key owned by point %d", i, got)
		}
	}
	if buildRing(nil, 4) != nil {
		t.Error("empty ring built")
	}
}

// TestPickGroupLevel1 covers level 1 through the Router: the first tag
// with a ring decides, the visitor id is the key, the default catches the
// rest, and groups with nobody online are skipped while others have
// someone.
func TestPickGroupLevel1(t *testing.T) {
	r := newTestRouter(t, Options{})
	must(t, r.SetSite(Site{ID: "s", DefaultGroup: "general"}))
	must(t, r.SetGroup("s", Group{ID: "fr", Tags: []string{"fr"}}))
	for i := range 4 {
		must(t, r.SetGroup("s", Group{ID: "en" + strconv.Itoa(i), Tags: []string{"en"}}))
	}
	pick := func(visitor string, tags ...string) string {
		t.Helper()
		g, err := r.PickGroup(Request{Site: "s", Visitor: visitor, Conversation: "c-" + visitor, Tags: tags})
		must(t, err)
		return g
	}
	if g := pick("v1"); g != "general" {
		t.Errorf("no tags → %s, want general", g)
	}
	if g := pick("v1", "unknown", "fr", "en"); g != "fr" {
		t.Errorf("first known tag → %s, want fr", g)
	}
	seen := map[string]int{}
	for i := range 400 {
		v := "v" + strconv.Itoa(i)
		g := pick(v, "en")
		if g2 := pick(v, "en"); g2 != g {
			t.Fatalf("visitor %s picked %s then %s", v, g, g2)
		}
		seen[g]++
	}
	if len(seen) != 4 {
		t.Fatalf("en visitors spread over %v, want all 4 groups", seen)
	}
	// Only en2 has someone online: every en visitor goes there.
	_, err := r.SetAgent(nil, Agent{ID: "a", Site: "s", Groups: []string{"en2"}, Capacity: 1, Status: StatusOnline}, t0)
	must(t, err)
	for i := range 50 {
		if g := pick("v"+strconv.Itoa(i), "en"); g != "en2" {
			t.Fatalf("visitor routed to %s with nobody online there", g)
		}
	}
	// Nobody online anywhere on the ring: the visitor's own group.
	_, err = r.SetStatus(nil, "s", "a", StatusAway, t0)
	must(t, err)
	for i := range 50 {
		v := "v" + strconv.Itoa(i)
		if g := pick(v, "en"); g != r.sites["s"].rings["en"].owner(keyHash(v)).id {
			t.Fatalf("visitor %s routed to %s, not its own group, with nobody online", v, g)
		}
	}
	if _, err := r.PickGroup(Request{Site: "x", Conversation: "c"}); err != ErrUnknownSite {
		t.Errorf("unknown site: %v", err)
	}
	must(t, r.SetSite(Site{ID: "nodefault"}))
	if _, err := r.PickGroup(Request{Site: "nodefault", Conversation: "c", Tags: []string{"en"}}); err != ErrNoGroup {
		t.Errorf("no group: %v", err)
	}
}
