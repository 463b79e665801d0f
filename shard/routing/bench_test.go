package routing

import (
	"strconv"
	"testing"
	"time"
)

// staff builds a site "s" with agents spread over groups: agent i serves
// group i%groups, and one agent in four also the next group. Group k
// serves tag "t<k%tags>", so each tag's ring holds groups/tags groups.
func staff(tb testing.TB, o Options, agents, groups, tags, capacity, maxQueue int) *Router {
	tb.Helper()
	r := newTestRouter(tb, o)
	must(tb, r.SetSite(Site{ID: "s", DefaultGroup: "g0", MaxQueue: maxQueue}))
	for k := range groups {
		must(tb, r.SetGroup("s", Group{ID: "g" + strconv.Itoa(k), Tags: []string{"t" + strconv.Itoa(k%tags)}}))
	}
	for i := range agents {
		gs := []string{"g" + strconv.Itoa(i%groups)}
		if i%4 == 0 {
			gs = append(gs, "g"+strconv.Itoa((i+1)%groups))
		}
		_, err := r.SetAgent(nil, Agent{ID: "a" + strconv.Itoa(i), Site: "s", Groups: gs, Capacity: capacity,
			Weight: float64(1 + i%3), Status: StatusOnline}, t0)
		must(tb, err)
	}
	return r
}

// requests prepares n distinct arrivals: visitors from a pool (so that
// some return and meet affinity), one tag each.
func requests(n, visitors, tags int) []Request {
	reqs := make([]Request, n)
	tagSets := make([][]string, tags)
	for i := range tagSets {
		tagSets[i] = []string{"t" + strconv.Itoa(i)}
	}
	for i := range reqs {
		reqs[i] = Request{Site: "s", Conversation: "conv-" + strconv.Itoa(i),
			Visitor: "visitor-" + strconv.Itoa(i%visitors), Tags: tagSets[i%tags]}
	}
	return reqs
}

// BenchmarkAssign routes one arrival and closes one older conversation
// per iteration, in steady state: 1,000 agents (capacity 5) in 20 groups,
// 2,000 conversations open, visitors returning (affinity) and tags hashed
// onto rings of 4 groups; or, without tags, everything through the
// default group (its 300 agents, 200 conversations open).
func BenchmarkAssign(b *testing.B) {
	for _, tc := range []struct {
		name       string
		tags, open int
	}{{"tags+affinity", 5, 2000}, {"default-group", 0, 200}} {
		b.Run(tc.name, func(b *testing.B) {
			r := staff(b, Options{}, 1000, 20, 5, 5, 1000)
			const ring = 8192
			open := tc.open
			reqs := requests(ring, 3000, max(tc.tags, 1))
			if tc.tags == 0 {
				for i := range reqs {
					reqs[i].Tags = nil
				}
			}
			evs := make([]Event, 0, 64)
			var err error
			for i := range open {
				if evs, err = r.Route(evs[:0], reqs[i]); err != nil {
					b.Fatal(err)
				}
			}
			n := open
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if evs, err = r.Route(evs[:0], reqs[n%ring]); err != nil {
					b.Fatal(err)
				}
				if evs, err = r.Close(evs[:0], "s", reqs[(n-open)%ring].Conversation); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n-open)/b.Elapsed().Seconds(), "conv/s")
			check(b, r)
		})
	}
}

// BenchmarkQueuedDrain queues 100,000 arrivals behind 1,000 busy agents
// (capacity 1, 20 groups), then frees agents one conversation at a time
// until the queues are empty: every close assigns the head of a queue
// (when its agent's groups still have one). conv/s counts conversations
// routed out of the queues per second of draining; arrive-conv/s counts
// the 101,000 arrivals (assigned or queued) per second. live10 reports
// the first 10 positions of a queue at once whenever they move (so each
// drained conversation also yields up to 10 position events); live0
// leaves every position to Tick.
func BenchmarkQueuedDrain(b *testing.B) {
	const agents, queued = 1000, 100000
	reqs := requests(agents+queued, 1<<30, 5)
	for i := range reqs {
		reqs[i].Visitor = "" // anonymous: nothing to come back to
	}
	for _, tc := range []struct {
		name string
		live int
	}{{"live10", 10}, {"live0", -1}} {
		b.Run(tc.name, func(b *testing.B) { queuedDrain(b, reqs, tc.live) })
	}
}

func queuedDrain(b *testing.B, reqs []Request, live int) {
	const agents, queued = 1000, 100000
	evs := make([]Event, 0, 64)
	held := make([]string, 0, agents+queued) // FIFO of assigned conversations
	var drainTime, queueTime time.Duration
	drained, arrived := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		r := staff(b, Options{LivePositions: live}, agents, 20, 5, 1, queued)
		held = held[:0]
		var err error
		b.StartTimer()
		start := time.Now()
		for _, req := range reqs {
			if evs, err = r.Route(evs[:0], req); err != nil {
				b.Fatal(err)
			}
			if evs[0].Kind == EventAssigned {
				held = append(held, req.Conversation)
			}
		}
		mid := time.Now()
		waiting, routed := r.queued, 0
		for next := 0; r.queued > 0; next++ {
			if evs, err = r.Close(evs[:0], "s", held[next]); err != nil {
				b.Fatal(err)
			}
			for i := range evs {
				if evs[i].Kind == EventAssigned {
					held = append(held, evs[i].Conversation)
					routed++
				}
			}
		}
		end := time.Now()
		b.StopTimer()
		if routed != waiting || waiting < queued*9/10 {
			b.Fatalf("drained %d of %d waiting", routed, waiting)
		}
		queueTime += mid.Sub(start)
		drainTime += end.Sub(mid)
		drained += routed
		arrived += len(reqs)
		b.StartTimer()
	}
	b.ReportMetric(float64(drained)/drainTime.Seconds(), "conv/s")
	b.ReportMetric(float64(arrived)/queueTime.Seconds(), "arrive-conv/s")
}

// BenchmarkTransfer moves a conversation between two groups and back.
func BenchmarkTransfer(b *testing.B) {
	r := staff(b, Options{}, 1000, 20, 5, 5, 1000)
	reqs := requests(2000, 2000, 5)
	evs := make([]Event, 0, 64)
	var err error
	for _, req := range reqs {
		if evs, err = r.Route(evs[:0], req); err != nil {
			b.Fatal(err)
		}
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		c := reqs[n%len(reqs)].Conversation
		if evs, err = r.TransferToGroup(evs[:0], "s", c, "g"+strconv.Itoa(n%20)); err != nil && err != ErrNoChange {
			b.Fatal(err)
		}
		n++
	}
	check(b, r)
}

// TestSteadyStateNoAllocs: once warm, routing, closing, draining and
// transferring allocate nothing; the caller's event slice is the only
// memory per call.
func TestSteadyStateNoAllocs(t *testing.T) {
	r := staff(t, Options{AffinityEntries: 512}, 200, 10, 5, 2, 100000)
	reqs := requests(4096, 1000, 5) // more visitors than the affinity bound: evictions
	evs := make([]Event, 0, 64)
	var err error
	route := func(i int) {
		if evs, err = r.Route(evs[:0], reqs[i%len(reqs)]); err != nil {
			t.Fatal(err)
		}
	}
	closeConv := func(i int) {
		if evs, err = r.Close(evs[:0], "s", reqs[i%len(reqs)].Conversation); err != nil {
			t.Fatal(err)
		}
	}
	// 400 places; keep 600 open so that 200 wait and every close drains.
	const open = 600
	for i := range open {
		route(i)
	}
	n := open
	cycle := func() {
		route(n)
		closeConv(n - open)
		n++
	}
	for range 5000 { // warm: pools, map buckets, queue slots
		cycle()
	}
	check(t, r)
	if r.queued == 0 {
		t.Fatal("nothing waits: the drain path is not exercised")
	}
	if a := testing.AllocsPerRun(5000, cycle); a != 0 {
		t.Errorf("route+close+drain: %v allocations per cycle, want 0", a)
	}
	k := 0
	transfer := func() {
		c := reqs[(n-1-k%open)%len(reqs)].Conversation // an open one
		if evs, err = r.TransferToGroup(evs[:0], "s", c, "g"+strconv.Itoa(k%10)); err != nil && err != ErrNoChange {
			t.Fatal(err)
		}
		k++
	}
	for range 1000 {
		transfer()
	}
	if a := testing.AllocsPerRun(2000, transfer); a != 0 {
		t.Errorf("transfer: %v allocations per call, want 0", a)
	}
	check(t, r)
}
