package shard

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
)

// BenchmarkDeskAssign measures the routing desk end to end: 1,000 online
// agents of capacity 10 in 10 groups, then 100,000 arrivals pushed through
// the desk's ring (10,000 assigned, 90,000 queued), each decision turned
// into a shard request and agent notices. It reports arrivals routed per
// second; the shards' work on each decision (a storage read of a
// conversation that does not exist) is included.
func BenchmarkDeskAssign(b *testing.B) {
	const agents, capacity, arrivals = 1000, 10, 100000
	st, err := storage.Open(storage.Options{Dir: b.TempDir(), Durability: storage.DurabilityAsync})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	b.StopTimer()
	for range b.N {
		r, err := New(Options{Shards: 4, DeskRingSize: 1 << 17, Routing: routing.Options{MaxQueue: 200000}}, st)
		if err != nil {
			b.Fatal(err)
		}
		r.Start()
		d := r.Desk()
		site := fmt.Sprintf("bench%d", time.Now().UnixNano())
		for i := range agents {
			who := NewIdentity(site, fmt.Sprintf("a%d", i), proto.Role_ROLE_AGENT)
			if err := d.SetAgent(ctx, routing.Agent{ID: who.User, Site: site, Groups: []string{"default", fmt.Sprintf("g%d", i%10)}, Capacity: capacity, Weight: 1}); err != nil {
				b.Fatal(err)
			}
			for !r.SubmitDesk(Request{Op: OpConnect, Sink: &countSink{id: uint64(i + 1)}, Who: who, Env: &proto.Envelope{}}) {
				time.Sleep(time.Millisecond)
			}
		}
		reqs := make([]Request, arrivals)
		for i := range reqs {
			reqs[i] = Request{Op: OpRoute, Who: NewIdentity(site, fmt.Sprintf("v%d", i), proto.Role_ROLE_VISITOR),
				Env: &proto.Envelope{Conversation: fmt.Sprintf("c%d", i), Tags: nil}}
		}
		_ = d.Query(ctx, func(*routing.Router) {})
		b.StartTimer()
		start := time.Now()
		for i := range reqs {
			for !r.SubmitDesk(reqs[i]) {
				time.Sleep(50 * time.Microsecond)
			}
		}
		var stats routing.Stats
		_ = d.Query(ctx, func(rt *routing.Router) { stats = rt.Stats() })
		el := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(arrivals)/el.Seconds(), "arrivals/s")
		if stats.Held != agents*capacity || stats.Waiting != arrivals-agents*capacity {
			b.Fatalf("stats %+v", stats)
		}
		_ = r.Stop(ctx)
	}
}
