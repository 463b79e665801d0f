package routing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestDrainWhenCapacityAppears: every way capacity can appear drains the
// queue at once.
func TestDrainWhenCapacityAppears(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 1), Agent{ID: "b", Capacity: 1, Status: StatusOffline, Groups: []string{"other"}})
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.route("c3", "").okay()
	f.route("c4", "").okay()
	f.route("c5", "").okay()
	// capacity raise
	f.do(f.r.SetCapacity(nil, "s", "a", 2)).want(
		"assigned s/c2 agent=a group=g (drain)",
		"position s/c3 group=g pos=1", "position s/c4 group=g pos=2", "position s/c5 group=g pos=3")
	// joining the group (while offline: nothing), then coming online
	f.do(f.r.SetAgent(nil, Agent{ID: "b", Site: "s", Capacity: 1, Groups: []string{"other", "g"}}, f.now)).want()
	f.status("b", StatusOnline).want(
		"assigned s/c3 agent=b group=g (drain)",
		"position s/c4 group=g pos=1", "position s/c5 group=g pos=2")
	// a close
	f.close("c1").want("closed s/c1 agent=a group=g",
		"assigned s/c4 agent=a group=g (drain)", "position s/c5 group=g pos=1")
	// a transfer away
	f.do(f.r.TransferToGroup(nil, "s", "c3", "other")).want(
		"unassigned s/c3 agent=b group=g (transfer)",
		"queued s/c3 from=b group=other pos=1 (transfer)",
		"assigned s/c5 agent=b group=g (drain)")
}

// TestDrainLongestWaitingAcrossGroups: an agent in two groups takes the
// head that has waited longest.
func TestDrainLongestWaitingAcrossGroups(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, Agent{ID: "a", Capacity: 2, Status: StatusAway, Groups: []string{"x", "y"}})
	must(t, f.r.SetGroup("s", Group{ID: "x", Tags: []string{"x"}}))
	must(t, f.r.SetGroup("s", Group{ID: "y", Tags: []string{"y"}}))
	f.route("c1", "", "y").okay()
	f.route("c2", "", "x").okay()
	f.route("c3", "", "y").okay()
	f.status("a", StatusOnline).want(
		"assigned s/c1 agent=a group=y (drain)",
		"assigned s/c2 agent=a group=x (drain)",
		"position s/c3 group=y pos=1")
}

func TestClaim(t *testing.T) {
	f := newFixture(t, Options{}, Site{},
		online("busy", 1, "g"),
		Agent{ID: "away", Capacity: 2, Status: StatusAway, Groups: []string{"g", "h"}},
		Agent{ID: "off", Capacity: 2, Status: StatusOffline, Groups: []string{"g"}},
		Agent{ID: "stranger", Capacity: 2, Status: StatusAway, Groups: []string{"h"}})
	must(t, f.r.SetGroup("s", Group{ID: "h", Tags: []string{"h"}}))
	f.route("c1", "").want("assigned s/c1 agent=busy group=g (arrival)")
	f.route("c2", "").okay()
	f.route("c3", "").okay()
	f.route("c4", "", "h").okay()
	claim := func(agent, conv string) result { return f.do(f.r.Claim(nil, "s", agent, conv)) }
	claim("busy", "c2").fails(ErrAgentFull)
	claim("off", "c2").fails(ErrAgentUnavailable)
	claim("stranger", "c2").fails(ErrNotMember)
	claim("away", "c1").fails(ErrNotQueued)
	claim("away", "nope").fails(ErrUnknownConversation)
	claim("ghost", "c2").fails(ErrUnknownAgent)
	// An away agent may claim by hand, out of order.
	claim("away", "c3").want("assigned s/c3 agent=away group=g (claim)")
	// ClaimNext: the longest-waiting head of the agent's groups (c2 in g
	// arrived before c4 in h).
	f.do(f.r.ClaimNext(nil, "s", "away")).want("assigned s/c2 agent=away group=g (claim)")
	f.do(f.r.ClaimNext(nil, "s", "away")).fails(ErrAgentFull)
	f.do(f.r.ClaimNext(nil, "s", "off")).fails(ErrAgentUnavailable)
	f.do(f.r.SetCapacity(nil, "s", "away", 5)).okay()
	f.do(f.r.ClaimNext(nil, "s", "away")).want("assigned s/c4 agent=away group=h (claim)")
	f.do(f.r.ClaimNext(nil, "s", "away")).fails(ErrQueueEmpty)
}

func TestTransferToAgent(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 1), online("b", 1, "other"), Agent{ID: "z", Capacity: 3, Status: StatusAway})
	f.route("c1", "v1").want("assigned s/c1 agent=a group=g (arrival)")
	f.route("c2", "").want("queued s/c2 group=g pos=1 (arrival)")
	tr := func(conv, agent string) result { return f.do(f.r.TransferToAgent(nil, "s", conv, agent)) }
	tr("c1", "a").fails(ErrNoChange)
	tr("c1", "z").fails(ErrAgentUnavailable)
	tr("c1", "ghost").fails(ErrUnknownAgent)
	tr("nope", "b").fails(ErrUnknownConversation)
	// b is in another group: a transfer does not need membership. a's
	// freed place goes to c2 at once.
	tr("c1", "b").want(
		"unassigned s/c1 agent=a group=g (transfer)",
		"assigned s/c1 agent=b from=a group=g (transfer)",
		"assigned s/c2 agent=a group=g (drain)")
	tr("c2", "b").fails(ErrAgentFull)
	if f.load("a") != 1 || f.load("b") != 1 {
		t.Errorf("loads a=%d b=%d", f.load("a"), f.load("b"))
	}
	// The visitor's affinity follows the transfer.
	f.close("c1").okay()
	f.route("c3", "v1").want("assigned s/c3 agent=b group=g (affinity)")
	// A waiting conversation can be handed to an agent directly, group
	// or not.
	f.route("c4", "").want("queued s/c4 group=g pos=1 (arrival)")
	tr("c4", "b").fails(ErrAgentFull)
	f.do(f.r.SetCapacity(nil, "s", "b", 2)).want() // b is not in g: nothing drains
	tr("c4", "b").want("assigned s/c4 agent=b group=g (transfer)")
}

// TestTransferToGroup: the best free agent other than the sender, else the
// front of the queue, never offered back to the sender by the queue.
func TestTransferToGroup(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 2, "g", "vip"), online("b", 1, "vip"))
	must(t, f.r.SetGroup("s", Group{ID: "vip", Tags: []string{"vip"}}))
	f.route("c1", "").want("assigned s/c1 agent=a group=g (arrival)")
	f.route("c2", "", "vip").want("assigned s/c2 agent=b group=vip (arrival)")
	f.route("c3", "", "vip").want("assigned s/c3 agent=a group=vip (arrival)")
	f.route("c4", "", "vip").want("queued s/c4 group=vip pos=1 (arrival)")
	tg := func(conv, group string) result { return f.do(f.r.TransferToGroup(nil, "s", conv, group)) }
	tg("c1", "nope").fails(ErrUnknownGroup)
	tg("c4", "vip").fails(ErrNoChange)
	// a hands c1 to vip: b is full, a is excluded → front of vip's queue,
	// and a's freed place goes to c4, not back to c1.
	tg("c1", "vip").want(
		"unassigned s/c1 agent=a group=g (transfer)",
		"queued s/c1 from=a group=vip pos=1 (transfer)",
		"assigned s/c4 agent=a group=vip (drain)")
	// b frees up: c1 goes to b.
	f.close("c2").want("closed s/c2 agent=b group=vip", "assigned s/c1 agent=b from=a group=vip (drain)")
	// a may still claim what it transferred away, by hand.
	f.route("c5", "", "vip").okay()
	tg("c5", "g").want("queued s/c5 group=g pos=1 (transfer)")
	f.close("c4").want("closed s/c4 agent=a group=vip", "assigned s/c5 agent=a group=g (drain)")
	// Transfer within the same group: someone else takes it.
	f.do(f.r.SetCapacity(nil, "s", "b", 2)).want()
	tg("c3", "vip").want(
		"unassigned s/c3 agent=a group=vip (transfer)",
		"assigned s/c3 agent=b from=a group=vip (transfer)")
}

// TestTransferredOnlyFreeAgentIsSender: the queue skips a conversation
// whose sender is the only free agent, and serves the next one.
func TestTransferredOnlyFreeAgentIsSender(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 1))
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.do(f.r.TransferToGroup(nil, "s", "c1", "g")).want(
		"unassigned s/c1 agent=a group=g (transfer)",
		"queued s/c1 from=a group=g pos=1 (transfer)",
		"assigned s/c2 agent=a group=g (drain)")
	f.close("c2").want("closed s/c2 agent=a group=g")
	f.do(f.r.Claim(nil, "s", "a", "c1")).want("assigned s/c1 agent=a from=a group=g (claim)")
}

// TestOfflineGrace: an agent offline for less than the grace keeps its
// conversations; past it they go to the front of the queue, oldest first.
func TestOfflineGrace(t *testing.T) {
	grace := time.Minute
	f := newFixture(t, Options{OfflineGrace: grace, PositionRefresh: time.Hour}, Site{}, online("a", 3), online("b", 1))
	f.route("c1", "").want("assigned s/c1 agent=a group=g (arrival)")
	f.route("c2", "").want("assigned s/c2 agent=b group=g (arrival)")
	f.route("c3", "").want("assigned s/c3 agent=a group=g (arrival)")
	f.route("c4", "").want("assigned s/c4 agent=a group=g (arrival)")
	f.route("c5", "").want("queued s/c5 group=g pos=1 (arrival)")
	f.status("a", StatusOffline).want()
	if d, ok := f.r.NextDeadline(); !ok || !d.IsZero() {
		t.Errorf("NextDeadline %v %v", d, ok)
	}
	f.do(f.r.Tick(nil, t0), nil).want()
	if d, ok := f.r.NextDeadline(); !ok || !d.Equal(t0.Add(grace)) {
		t.Errorf("NextDeadline %v %v, want the end of the grace", d, ok)
	}
	f.do(f.r.Tick(nil, t0.Add(grace-time.Nanosecond)), nil).want()
	// Back in time: keeps everything; a later absence restarts the clock.
	f.now = t0.Add(30 * time.Second)
	f.status("a", StatusAway).want()
	f.do(f.r.Tick(nil, t0.Add(2*grace)), nil).want()
	f.now = t0.Add(2 * grace)
	f.status("a", StatusOffline).want()
	f.do(f.r.Tick(nil, f.now.Add(grace-time.Second)), nil).want()
	f.do(f.r.Tick(nil, f.now.Add(grace)), nil).want(
		"unassigned s/c1 agent=a group=g (offline)",
		"unassigned s/c3 agent=a group=g (offline)",
		"unassigned s/c4 agent=a group=g (offline)",
		"queued s/c1 group=g pos=1 (offline)",
		"queued s/c3 group=g pos=2 (offline)",
		"queued s/c4 group=g pos=3 (offline)",
		"position s/c5 group=g pos=4")
	if f.load("a") != 0 {
		t.Errorf("offline agent keeps %d", f.load("a"))
	}
	// The front of the queue is served first.
	f.close("c2").want("closed s/c2 agent=b group=g",
		"assigned s/c1 agent=b group=g (drain)",
		"position s/c3 group=g pos=1", "position s/c4 group=g pos=2", "position s/c5 group=g pos=3")
	if _, ok := f.r.NextDeadline(); !ok {
		t.Error("no deadline while conversations wait")
	}
}

// TestOfflineRequeueTakesFreeAgent: a conversation losing its agent goes
// straight to a free agent if there is one.
func TestOfflineRequeueTakesFreeAgent(t *testing.T) {
	f := newFixture(t, Options{OfflineGrace: time.Second}, Site{}, online("a", 2), Agent{ID: "b", Capacity: 1, Status: StatusAway})
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.status("a", StatusOffline).okay()
	f.status("b", StatusOnline).okay()
	f.do(f.r.Tick(nil, t0.Add(time.Second)), nil).want(
		"unassigned s/c1 agent=a group=g (offline)",
		"unassigned s/c2 agent=a group=g (offline)",
		"assigned s/c1 agent=b group=g (offline)",
		"queued s/c2 group=g pos=1 (offline)")
	if _, ok := f.r.NextDeadline(); !ok {
		t.Error("waiting conversations but no deadline")
	}
}

// TestCapacityCut: lowering capacity under the load takes nothing away
// and gives nothing new until the load is under it.
func TestCapacityCut(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 3))
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.route("c3", "").okay()
	f.do(f.r.SetCapacity(nil, "s", "a", 1)).want()
	f.route("c4", "").want("queued s/c4 group=g pos=1 (arrival)")
	f.close("c1").want("closed s/c1 agent=a group=g")
	f.close("c2").want("closed s/c2 agent=a group=g")
	f.close("c3").want("closed s/c3 agent=a group=g", "assigned s/c4 agent=a group=g (drain)")
	f.do(f.r.SetCapacity(nil, "s", "a", -1)).fails(ErrInvalid)
	f.do(f.r.SetCapacity(nil, "s", "ghost", 1)).fails(ErrUnknownAgent)
}

func TestRemoveAgent(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, online("a", 2), online("b", 1, "x"))
	f.route("c1", "").okay()
	f.route("c2", "").okay()
	f.route("c3", "").okay()
	f.do(f.r.TransferToGroup(nil, "s", "c1", "x")).okay() // b takes it
	f.do(f.r.TransferToGroup(nil, "s", "c1", "g")).want(
		"unassigned s/c1 agent=b group=x (transfer)",
		"queued s/c1 from=b group=g pos=1 (transfer)")
	f.do(f.r.RemoveAgent(nil, "s", "a")).want(
		"unassigned s/c2 agent=a group=g (removed)",
		"unassigned s/c3 agent=a group=g (removed)",
		"queued s/c2 group=g pos=1 (removed)",
		"queued s/c3 group=g pos=2 (removed)",
		"position s/c1 group=g pos=3")
	f.do(f.r.RemoveAgent(nil, "s", "a")).fails(ErrUnknownAgent)
	if _, ok := f.r.Agent("s", "a"); ok {
		t.Error("removed agent still listed")
	}
	// b removed: c1's exclusion of b is forgotten; a new b is a new agent.
	f.do(f.r.RemoveAgent(nil, "s", "b")).want()
	if p, _ := f.r.Placement("s", "c1"); p.From != "" {
		t.Errorf("exclusion of a removed agent kept: %+v", p)
	}
	f.do(f.r.SetAgent(nil, Agent{ID: "b", Site: "s", Groups: []string{"g"}, Capacity: 3, Status: StatusOnline}, f.now)).want(
		"assigned s/c2 agent=b group=g (drain)",
		"assigned s/c3 agent=b group=g (drain)",
		"assigned s/c1 agent=b group=g (drain)")
}

func TestRemoveGroup(t *testing.T) {
	f := newFixture(t, Options{}, Site{}, Agent{ID: "a", Capacity: 1, Status: StatusAway, Groups: []string{"g", "x"}})
	must(t, f.r.SetGroup("s", Group{ID: "x", Tags: []string{"x"}}))
	f.route("c1", "").okay()
	f.route("c2", "", "x").okay()
	f.route("c3", "", "x").okay()
	f.do(f.r.RemoveGroup(nil, "s", "g")).fails(ErrDefaultGroup)
	f.do(f.r.RemoveGroup(nil, "s", "nope")).fails(ErrUnknownGroup)
	f.do(f.r.RemoveGroup(nil, "s", "x")).want(
		"queued s/c2 group=g pos=2 (regroup)",
		"queued s/c3 group=g pos=3 (regroup)")
	if g, _ := f.r.PickGroup(Request{Site: "s", Conversation: "c", Tags: []string{"x"}}); g != "g" {
		t.Errorf("removed group still picked: %s", g)
	}
	gs := f.r.Groups(nil, "s")
	if len(gs) != 2 || gs[1].ID != "x" || gs[1].Configured || gs[1].Members != 1 || gs[0].Waiting != 3 {
		t.Errorf("groups %+v", gs)
	}
	f.status("a", StatusOnline).want("assigned s/c1 agent=a group=g (drain)",
		"position s/c2 group=g pos=1", "position s/c3 group=g pos=2")
}

// TestRestore: assignments come back as they were (even over capacity or
// offline, where the grace runs), waiting conversations in order.
func TestRestore(t *testing.T) {
	f := newFixture(t, Options{OfflineGrace: time.Minute}, Site{}, Agent{ID: "a", Capacity: 1, Status: StatusOffline})
	rs := func(conv, agent, group string) result {
		return f.do(f.r.Restore(nil, Request{Site: "s", Conversation: conv, Visitor: "v-" + conv}, agent, group))
	}
	rs("c1", "a", "").want("assigned s/c1 agent=a group=g (restore)")
	rs("c2", "a", "g").want("assigned s/c2 agent=a group=g (restore)") // over capacity
	rs("c3", "", "g").want("queued s/c3 group=g pos=1 (restore)")
	rs("c4", "", "").want("queued s/c4 group=g pos=2 (restore)")
	rs("c4", "", "").fails(ErrDuplicateConversation)
	rs("c5", "ghost", "").fails(ErrUnknownAgent)
	rs("c5", "", "nope").fails(ErrUnknownGroup)
	if f.load("a") != 2 {
		t.Errorf("load %d", f.load("a"))
	}
	f.do(f.r.Tick(nil, t0.Add(time.Minute)), nil).want(
		"unassigned s/c1 agent=a group=g (offline)",
		"unassigned s/c2 agent=a group=g (offline)",
		"queued s/c1 group=g pos=1 (offline)",
		"queued s/c2 group=g pos=2 (offline)",
		"position s/c3 group=g pos=3",
		"position s/c4 group=g pos=4")
	// Restoring a waiting conversation while an agent is free assigns it.
	f.status("a", StatusOnline).want("assigned s/c1 agent=a group=g (drain)",
		"position s/c2 group=g pos=1", "position s/c3 group=g pos=2", "position s/c4 group=g pos=3")
	f.do(f.r.SetCapacity(nil, "s", "a", 5)).okay()
	rs("c9", "", "").want("queued s/c9 group=g pos=1 (restore)", "assigned s/c9 agent=a group=g (drain)")
}

// TestSiteIsolation: nothing of site A can be seen or touched through
// site B, even with the same agent and group ids.
func TestSiteIsolation(t *testing.T) {
	f := newFixture(t, Options{}, Site{ID: "A", DefaultGroup: "g"}, Agent{ID: "a", Site: "A", Capacity: 1, Status: StatusOnline})
	must(t, f.r.SetSite(Site{ID: "B", DefaultGroup: "g"}))
	_, err := f.r.SetAgent(nil, Agent{ID: "a", Site: "B", Groups: []string{"g"}, Capacity: 5, Status: StatusOnline}, t0)
	must(t, err)
	f.do(f.r.Route(nil, Request{Site: "A", Conversation: "c1"})).want("assigned A/c1 agent=a group=g (arrival)")
	f.do(f.r.Route(nil, Request{Site: "A", Conversation: "c2"})).want("queued A/c2 group=g pos=1 (arrival)")
	for name, x := range map[string]result{
		"close":       f.do(f.r.Close(nil, "B", "c1")),
		"claim":       f.do(f.r.Claim(nil, "B", "a", "c2")),
		"transfer":    f.do(f.r.TransferToAgent(nil, "B", "c1", "a")),
		"transfer-g":  f.do(f.r.TransferToGroup(nil, "B", "c2", "g")),
		"unknown":     f.do(f.r.Close(nil, "C", "c1")),
		"claim-other": f.do(f.r.ClaimNext(nil, "B", "a")),
	} {
		switch name {
		case "unknown":
			x.fails(ErrUnknownSite)
		case "claim-other":
			x.fails(ErrQueueEmpty) // B's a sees no A queue
		default:
			t.Run(name, func(t *testing.T) { x.fails(ErrUnknownConversation) })
		}
	}
	if _, ok := f.r.Placement("B", "c1"); ok {
		t.Error("site B sees site A's conversation")
	}
	if q := f.r.Queue(nil, "B", "g", 0, 10); len(q) != 0 {
		t.Errorf("site B sees %v", q)
	}
	if a, _ := f.r.Agent("B", "a"); a.Load != 0 || a.Capacity != 5 {
		t.Errorf("site B's agent a: %+v", a)
	}
	if got := f.r.AgentConversations(nil, "A", "a"); len(got) != 1 || got[0] != "c1" {
		t.Errorf("A/a holds %v", got)
	}
	if got := f.r.AgentConversations(nil, "B", "a"); len(got) != 0 {
		t.Errorf("B/a holds %v", got)
	}
}

func TestValidation(t *testing.T) {
	r := newTestRouter(t, Options{})
	long := strings.Repeat("x", MaxIDLen+1)
	must(t, r.SetSite(Site{ID: "s", DefaultGroup: "g"}))
	many := make([]string, MaxGroupsPerAgent+1)
	for i := range many {
		many[i] = "g"
	}
	for name, err := range map[string]error{
		"site id":       r.SetSite(Site{}),
		"site long":     r.SetSite(Site{ID: long}),
		"default long":  r.SetSite(Site{ID: "s", DefaultGroup: long}),
		"max queue":     r.SetSite(Site{ID: "s", MaxQueue: -1}),
		"group id":      r.SetGroup("s", Group{}),
		"group tag":     r.SetGroup("s", Group{ID: "g", Tags: []string{""}}),
		"group tags":    r.SetGroup("s", Group{ID: "g", Tags: make([]string, MaxTagsPerGroup+1)}),
		"agent id":      errOf(r.SetAgent(nil, Agent{Site: "s"}, t0)),
		"agent site":    errOf(r.SetAgent(nil, Agent{ID: "a"}, t0)),
		"agent groups":  errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Groups: many}, t0)),
		"agent group":   errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Groups: []string{long}}, t0)),
		"capacity":      errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Capacity: MaxCapacity + 1}, t0)),
		"weight":        errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Weight: -1}, t0)),
		"weight big":    errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Weight: MaxWeight * 2}, t0)),
		"status":        errOf(r.SetAgent(nil, Agent{ID: "a", Site: "s", Status: 9}, t0)),
		"set status":    errOf(r.SetStatus(nil, "s", "a", 9, t0)),
		"route site":    errOf(r.Route(nil, Request{Conversation: "c"})),
		"route conv":    errOf(r.Route(nil, Request{Site: "s"})),
		"route visitor": errOf(r.Route(nil, Request{Site: "s", Conversation: "c", Visitor: long})),
		"restore conv":  errOf(r.Restore(nil, Request{Site: "s"}, "", "")),
		"apply":         errOf(r.Apply(nil, &Command{Op: 99})),
		"parse":         errOf(nil, func() error { _, err := ParseStatus("busy"); return err }()),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := r.SetAgent(nil, Agent{ID: "a", Site: "nope"}, t0); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("unknown site: %v", err)
	}
	if err := r.SetGroup("nope", Group{ID: "g"}); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("unknown site: %v", err)
	}
	check(t, r)
	for _, o := range []Options{{VirtualNodes: 5000}, {OfflineGrace: -1}, {MaxQueue: -1}, {LivePositions: -2},
		{PositionRefresh: -1}, {AffinityEntries: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func errOf(_ []Event, err error) error { return err }

func TestStrings(t *testing.T) {
	for s := StatusOffline; s <= StatusOnline; s++ {
		if p, err := ParseStatus(s.String()); err != nil || p != s {
			t.Errorf("ParseStatus(%q) = %v, %v", s.String(), p, err)
		}
	}
	for _, s := range []interface{ String() string }{Status(7), EventKind(0), EventKind(9), Reason(99), Op(0), Op(99)} {
		if s.String() == "" {
			t.Errorf("%#v has no name", s)
		}
	}
	for o := OpRoute; o <= OpQuery; o++ {
		if strings.HasPrefix(o.String(), "op(") {
			t.Errorf("op %d has no name", o)
		}
	}
}

// TestApply: every op reaches its method.
func TestApply(t *testing.T) {
	f := newFixture(t, Options{OfflineGrace: time.Second}, Site{}, online("a", 1, "g", "x"))
	must(t, f.r.SetGroup("s", Group{ID: "x", Tags: []string{"x"}}))
	apply := func(c Command) result { return f.do(f.r.Apply(nil, &c)) }
	apply(Command{Op: OpRoute, Request: Request{Site: "s", Conversation: "c1"}}).want("assigned s/c1 agent=a group=g (arrival)")
	apply(Command{Op: OpRoute, Request: Request{Site: "s", Conversation: "c2"}}).want("queued s/c2 group=g pos=1 (arrival)")
	apply(Command{Op: OpSetCapacity, Site: "s", Agent: Agent{ID: "a", Capacity: 2}}).want("assigned s/c2 agent=a group=g (drain)")
	apply(Command{Op: OpTransferToGroup, Site: "s", Conversation: "c2", Group: "x"}).want(
		"unassigned s/c2 agent=a group=g (transfer)", "queued s/c2 from=a group=x pos=1 (transfer)")
	apply(Command{Op: OpSetAgent, Agent: Agent{ID: "b", Site: "s", Capacity: 1, Status: StatusOnline, Groups: []string{"x"}}, Now: t0}).want(
		"assigned s/c2 agent=b from=a group=x (drain)")
	apply(Command{Op: OpTransferToAgent, Site: "s", Conversation: "c2", Agent: Agent{ID: "a"}}).want(
		"unassigned s/c2 agent=b group=x (transfer)", "assigned s/c2 agent=a from=b group=x (transfer)")
	apply(Command{Op: OpClose, Site: "s", Conversation: "c1"}).want("closed s/c1 agent=a group=g")
	apply(Command{Op: OpRoute, Request: Request{Site: "s", Conversation: "c3", Tags: []string{"x"}}}).want("assigned s/c3 agent=b group=x (arrival)")
	apply(Command{Op: OpRoute, Request: Request{Site: "s", Conversation: "c4", Tags: []string{"x"}}}).want("assigned s/c4 agent=a group=x (arrival)")
	apply(Command{Op: OpRoute, Request: Request{Site: "s", Conversation: "c5", Tags: []string{"x"}}}).want("queued s/c5 group=x pos=1 (arrival)")
	apply(Command{Op: OpClaim, Site: "s", Conversation: "c5", Agent: Agent{ID: "a"}}).fails(ErrAgentFull)
	apply(Command{Op: OpClaimNext, Site: "s", Agent: Agent{ID: "a"}}).fails(ErrAgentFull)
	apply(Command{Op: OpSetStatus, Site: "s", Agent: Agent{ID: "b", Status: StatusOffline}, Now: t0}).want()
	apply(Command{Op: OpTick, Now: t0.Add(time.Second)}).want(
		"unassigned s/c3 agent=b group=x (offline)", "queued s/c3 group=x pos=1 (offline)", "position s/c5 group=x pos=2")
	apply(Command{Op: OpRemoveGroup, Site: "s", Group: "x"}).okay()
	apply(Command{Op: OpRemoveAgent, Site: "s", Agent: Agent{ID: "b"}}).want()
	apply(Command{Op: OpSetSite, SiteConfig: Site{ID: "s2", DefaultGroup: "d"}}).want()
	apply(Command{Op: OpSetGroup, Site: "s2", Group: "y", Tags: []string{"y"}}).want()
	if g, err := f.r.PickGroup(Request{Site: "s2", Conversation: "q", Tags: []string{"y"}}); err != nil || g != "y" {
		t.Errorf("configured through Apply: %q %v", g, err)
	}
	var waiting int
	apply(Command{Op: OpQuery, Query: func(r *Router) { waiting = r.Waiting("s") }}).want()
	if waiting != 2 {
		t.Errorf("query saw %d waiting, want 2", waiting)
	}
	apply(Command{Op: OpQuery}).fails(ErrInvalid)
	apply(Command{Op: OpSetGroup, Site: "s2"}).fails(ErrInvalid)
}
