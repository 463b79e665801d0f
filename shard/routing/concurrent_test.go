package routing

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/internal/ring"
)

// TestConcurrentBurst proves the capacity guarantee under a burst of
// simultaneous arrivals: producer goroutines (visitors arriving, closing,
// and an agent console changing statuses, capacities, transferring and
// claiming) all start at once and push Commands into a bounded lock-free
// ring; one owner goroutine applies them. After every command the owner
// checks every invariant (Router.Check) and replays the events into the
// model: no agent over capacity, no conversation assigned twice or lost,
// FIFO drains, affinity when possible. Run with -race: the detector would
// flag any touch of the Router outside the owner.
func TestConcurrentBurst(t *testing.T) {
	const (
		producers = 8
		perProd   = 1000
	)
	perProdN := perProd
	if testing.Short() {
		perProdN = 300
	}
	h, err := newHarness(randChooser{rand.New(rand.NewPCG(7, 7))})
	if err != nil {
		t.Fatal(err)
	}
	// Start from a known staff: every agent of site A online, and room
	// for a long queue.
	siteA := Site{ID: "A", DefaultGroup: "general", MaxQueue: 40}
	must(t, h.r.SetSite(siteA))
	h.m.addSite(siteA)
	for i := range hAgents["A"] {
		cfg := Agent{ID: agentName("A", i), Site: "A", Groups: []string{hGroupID["A"][i%4], "general"},
			Capacity: 2 + i%4, Weight: hWeights[i%len(hWeights)], Status: StatusOnline}
		if err := h.setAgent(cfg); err != nil {
			t.Fatal(err)
		}
	}

	q := ring.NewMPSC[Command](256)
	note := ring.NewNotifier()
	stop := make(chan struct{})
	start := make(chan struct{})
	var fullRetries atomic.Int64
	push := func(c Command) {
		for !q.Push(c) {
			fullRetries.Add(1)
			time.Sleep(20 * time.Microsecond) // back off; never spin on a full ring
		}
		note.Notify()
	}

	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(p), 99))
			var mine []string
			<-start
			for k := range perProdN {
				switch x := rnd.IntN(100); {
				case p == 0 && x < 60: // the console
					agent := agentName("A", rnd.IntN(hAgents["A"]))
					switch x % 6 {
					case 0, 1:
						push(Command{Op: OpSetStatus, Site: "A", Agent: Agent{ID: agent, Status: Status(rnd.IntN(3))}})
					case 2:
						push(Command{Op: OpSetCapacity, Site: "A", Agent: Agent{ID: agent, Capacity: rnd.IntN(4)}})
					case 3:
						push(Command{Op: OpClaimNext, Site: "A", Agent: Agent{ID: agent}})
					case 4:
						push(Command{Op: OpTick})
					default:
						if len(mine) > 0 {
							push(Command{Op: OpTransferToGroup, Site: "A", Conversation: mine[rnd.IntN(len(mine))], Group: hGroupID["A"][rnd.IntN(4)]})
						}
					}
				case x < 55 || len(mine) == 0:
					id := "p" + strconv.Itoa(p) + "-" + strconv.Itoa(k)
					mine = append(mine, id)
					push(Command{Op: OpRoute, Request: Request{Site: "A", Visitor: "v" + strconv.Itoa(rnd.IntN(40)),
						Conversation: id, Tags: hTags["A"][rnd.IntN(len(hTags["A"]))]}})
				default:
					i := rnd.IntN(len(mine))
					push(Command{Op: OpClose, Site: "A", Conversation: mine[i]})
					mine[i] = mine[len(mine)-1]
					mine = mine[:len(mine)-1]
				}
			}
		}()
	}

	// The routing owner: the only goroutine that touches h.r.
	var ownerErr error
	applied := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		batch := make([]Command, 0, 64)
		for {
			batch = q.PopBatch(batch[:0])
			if len(batch) == 0 {
				if !note.Wait(stop, q.Empty) {
					if q.Empty() {
						return
					}
				}
				continue
			}
			for i := range batch {
				c := &batch[i]
				h.now = h.now.Add(50 * time.Millisecond)
				if c.Op == OpSetStatus || c.Op == OpTick {
					c.Now = h.now
				}
				if c.Op == OpTick {
					c.Now = h.now.Add(h.r.opts.OfflineGrace) // let graces expire
				}
				if err := h.command(c); err != nil && ownerErr == nil {
					ownerErr = err
				}
				applied++
			}
		}
	}()
	close(start)
	wg.Wait()
	close(stop)
	<-done
	if ownerErr != nil {
		t.Fatal(ownerErr)
	}
	if err := h.drainAll(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d commands applied, %d pushes retried on a full ring; %v", applied, fullRetries.Load(), h.stats)
	if h.stats["assigned/drain"] == 0 || h.stats["queued/arrival"] == 0 || h.stats["assigned/affinity"] == 0 {
		t.Errorf("the burst did not exercise queueing, draining and affinity: %v", h.stats)
	}
}
