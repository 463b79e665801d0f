package routing

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLevel2WeightedLoad: the lowest load/(capacity×weight) wins, ties go
// to the least recently assigned, nobody goes past capacity, and the
// next arrival waits.
func TestLevel2WeightedLoad(t *testing.T) {
	f := newFixture(t, Options{}, Site{},
		Agent{ID: "a", Capacity: 2, Status: StatusOnline},
		Agent{ID: "b", Capacity: 4, Status: StatusOnline},
		Agent{ID: "c", Capacity: 4, Weight: 2, Status: StatusOnline})
	want := "a b c c b c c a b b"
	var got []string
	for i := range 10 {
		evs := f.route("c"+strconv.Itoa(i), "").okay()
		if len(evs) != 1 || evs[0].Kind != EventAssigned || evs[0].Reason != ReasonArrival {
			t.Fatalf("arrival %d: %v", i, evs)
		}
		got = append(got, evs[0].Agent)
	}
	if strings.Join(got, " ") != want {
		t.Errorf("assignment order %q, want %q", strings.Join(got, " "), want)
	}
	f.route("c10", "").want("queued s/c10 group=g pos=1 (arrival)")
	for id, want := range map[string]int{"a": 2, "b": 4, "c": 4} {
		if got := f.load(id); got != want {
			t.Errorf("load(%s) = %d, want %d", id, got, want)
		}
	}
}

// TestTieBreakSpreadsLoad: equal agents take turns, also across closes.
func TestTieBreakSpreadsLoad(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 10), online("b", 10), online("c", 10))
	var got []string
	for i := range 12 {
		if i == 9 { // a and b drop to 2 each, c keeps 3
			f.close("c0").okay()
			f.close("c4").okay()
		}
		evs := f.route("c"+strconv.Itoa(i), "").okay()
		got = append(got, evs[0].Agent)
	}
	// Equal loads rotate; after the closes a and b are least loaded
	// (a assigned longer ago first), then all three are equal again and c
	// has waited longest.
	if s := strings.Join(got, ""); s != "abcabcabcabc" {
		t.Errorf("order %s, want abcabcabcabc", s)
	}
}

// TestAwayAndOfflineGetNothing: only online agents are offered anything.
func TestAwayAndOfflineGetNothing(t *testing.T) {
	f := newFixture(t, Options{}, Site{},
		Agent{ID: "away", Capacity: 5, Status: StatusAway},
		Agent{ID: "off", Capacity: 5, Status: StatusOffline},
		Agent{ID: "zero", Capacity: 0, Status: StatusOnline})
	f.route("c1", "v").want("queued s/c1 group=g pos=1 (arrival)")
	f.status("away", StatusOnline).want("assigned s/c1 agent=away group=g (drain)")
}

// TestAffinity: a returning visitor goes back to their previous agent,
// even when another is less loaded or in another group, unless that agent
// is full or not online.
func TestAffinity(t *testing.T) {
	f := newFixture(t, Options{AffinityEntries: 2}, Site{},
		online("a", 2, "g"), online("b", 3, "g"), online("fr", 1, "fr"))
	must(t, f.r.SetGroup("s", Group{ID: "fr", Tags: []string{"fr"}}))
	f.route("c1", "v1").want("assigned s/c1 agent=a group=g (arrival)")
	f.route("c2", "v2").want("assigned s/c2 agent=b group=g (arrival)")
	// Level 2 would pick b (1/3 < 1/2); affinity decides.
	f.route("c3", "v1").want("assigned s/c3 agent=a group=g (affinity)")
	// a is full now: v1 goes by level 2.
	f.route("c4", "v1").want("assigned s/c4 agent=b group=g (arrival)")
	// The French group's agent serves v3; remembering v3 forgets v2, the
	// least recently routed of the two visitors the bound allows.
	f.route("c5", "v3", "fr").want("assigned s/c5 agent=fr group=fr (arrival)")
	f.close("c5").want("closed s/c5 agent=fr group=fr")
	// v3 comes back without the tag: still goes to fr (affinity), routed
	// through the default group.
	f.route("c6", "v3").want("assigned s/c6 agent=fr group=g (affinity)")
	f.close("c6").want("closed s/c6 agent=fr group=g")
	// fr away: v3 goes by level 2 (b has room).
	f.status("fr", StatusAway).okay()
	f.route("c7", "v3").want("assigned s/c7 agent=b group=g (arrival)")
	if f.r.sites["s"].aff.get("v2") != nil {
		t.Error("affinity kept more visitors than its bound")
	}
	if a := f.r.sites["s"].aff.get("v1"); a == nil || a.id != "b" {
		t.Errorf("v1's last agent is %v, want b", a)
	}
	// Anonymous visitors have no affinity.
	f.close("c1").okay()
	f.route("c8", "").want("assigned s/c8 agent=a group=g (arrival)")
}

// TestQueueFIFOAndPositions: the queue drains in order as capacity
// appears and every waiting visitor is told their new place.
func TestQueueFIFOAndPositions(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 1))
	f.route("c1", "").want("assigned s/c1 agent=a group=g (arrival)")
	for i := 2; i <= 5; i++ {
		c := "c" + strconv.Itoa(i)
		f.route(c, "").want("queued s/" + c + " group=g pos=" + strconv.Itoa(i-1) + " (arrival)")
	}
	f.close("c1").want("closed s/c1 agent=a group=g",
		"assigned s/c2 agent=a group=g (drain)",
		"position s/c3 group=g pos=1",
		"position s/c4 group=g pos=2",
		"position s/c5 group=g pos=3")
	f.close("c4").want("closed s/c4 group=g", "position s/c5 group=g pos=2")
	if p := f.position("c5"); p != 2 {
		t.Errorf("position(c5) = %d, want 2", p)
	}
	if p := f.position("c2"); p != 0 {
		t.Errorf("position of an assigned conversation = %d, want 0", p)
	}
	q := f.r.Queue(nil, "s", "g", 0, 10)
	if len(q) != 2 || q[0].Conversation != "c3" || q[1].Conversation != "c5" || q[1].Position != 2 {
		t.Errorf("queue view %+v", q)
	}
	if q := f.r.Queue(nil, "s", "g", 1, 10); len(q) != 1 || q[0].Conversation != "c5" {
		t.Errorf("queue view with offset %+v", q)
	}
	if f.r.Waiting("s") != 2 {
		t.Errorf("waiting %d, want 2", f.r.Waiting("s"))
	}
}

// TestLivePositionsAndRefresh: only the head of the queue is told at
// once; Tick tells the rest every PositionRefresh.
func TestLivePositionsAndRefresh(t *testing.T) {
	f := newFixture(t, Options{LivePositions: 2, PositionRefresh: 5 * time.Second}, Site{}, online("a", 1))
	f.route("c0", "").okay()
	for i := 1; i <= 5; i++ {
		f.route("c"+strconv.Itoa(i), "").okay()
	}
	f.close("c0").want("closed s/c0 agent=a group=g",
		"assigned s/c1 agent=a group=g (drain)",
		"position s/c2 group=g pos=1",
		"position s/c3 group=g pos=2")
	if d, ok := f.r.NextDeadline(); !ok || !d.IsZero() {
		t.Errorf("NextDeadline = %v,%v; want now (refresh not armed)", d, ok)
	}
	f.do(f.r.Tick(nil, t0), nil).want() // arms the refresh
	if d, ok := f.r.NextDeadline(); !ok || !d.Equal(t0.Add(5*time.Second)) {
		t.Errorf("NextDeadline = %v,%v; want t0+5s", d, ok)
	}
	f.do(f.r.Tick(nil, t0.Add(4*time.Second)), nil).want()
	f.do(f.r.Tick(nil, t0.Add(5*time.Second)), nil).want("position s/c4 group=g pos=3",
		"position s/c5 group=g pos=4")
	f.do(f.r.Tick(nil, t0.Add(20*time.Second)), nil).want() // nothing changed since
}

func TestMaxQueue(t *testing.T) {
	f := newFixture(t, Options{}, Site{MaxQueue: 2}, online("a", 1), online("b", 1, "other"))
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.route("c3", "").okay()
	x := f.route("c4", "")
	x.fails(ErrQueueFull)
	if !strings.Contains(x.err.Error(), "site s: 2 waiting") {
		t.Errorf("error %q does not say which site and how many wait", x.err)
	}
	if _, ok := f.r.Placement("s", "c4"); ok {
		t.Error("refused conversation is known")
	}
	// A conversation already in the system is never refused: c1 (held by
	// a) moves into the full queue, at its front.
	f.do(f.r.TransferToGroup(nil, "s", "c1", "g")).want(
		"unassigned s/c1 agent=a group=g (transfer)",
		"queued s/c1 from=a group=g pos=1 (transfer)",
		// a is free again, but c1 is not offered back to a: c2 is.
		"assigned s/c2 agent=a group=g (drain)")
	if f.r.Waiting("s") != 2 {
		t.Errorf("waiting %d", f.r.Waiting("s"))
	}
	// Site-level default from Options.
	f2 := newFixture(t, Options{MaxQueue: 1}, Site{})
	f2.route("x1", "").okay()
	f2.route("x2", "").fails(ErrQueueFull)
}

func TestNoGroupAndDuplicates(t *testing.T) {
	r := newTestRouter(t, Options{})
	must(t, r.SetSite(Site{ID: "s"}))
	if _, err := r.Route(nil, Request{Site: "s", Conversation: "c"}); !errors.Is(err, ErrNoGroup) {
		t.Errorf("no default group: %v", err)
	}
	if _, err := r.Route(nil, Request{Site: "nope", Conversation: "c"}); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("unknown site: %v", err)
	}
	must(t, r.SetSite(Site{ID: "s", DefaultGroup: "g"}))
	if _, err := r.Route(nil, Request{Site: "s", Conversation: "c"}); err != nil {
		t.Fatal(err)
	}
	must(t, r.SetSite(Site{ID: "t", DefaultGroup: "g"}))
	for _, site := range []string{"s", "t"} { // ids are global
		if _, err := r.Route(nil, Request{Site: site, Conversation: "c"}); !errors.Is(err, ErrDuplicateConversation) {
			t.Errorf("duplicate in %s: %v", site, err)
		}
	}
	check(t, r)
}
