// Package routing decides which agent gets a conversation: the three
// routing levels, the per-group waiting queues, transfers, claims and the
// offline grace period. It is a deterministic state machine: no
// goroutines, no timers, no I/O, no locks. Every mutation takes the time
// it needs as an argument and appends what happened to a caller-owned
// []Event, which the caller turns into notifications and storage writes.
//
// # Ownership: one routing owner
//
// A Router is not safe for concurrent use. Exactly one goroutine, the
// routing owner, calls its methods (queries included). Everything else
// reaches it by value through a bounded queue, the same way connections
// reach a shard worker:
//
//	event loops     shard workers     REST handlers     ticker
//	(agent status,  (conversation     (claim, transfer, (Tick every
//	 visitor OPEN)   closed)           agents, groups)   second)
//	     │               │                  │               │
//	     └───────────────┴──Command{Op,…}───┴───────────────┘
//	                        ring.MPSC[Command].Push + Notifier.Notify
//	                        (never blocks; false = full → answer BUSY)
//	                                    │
//	                                    ▼
//	                  ┌───────────────────────────────────────┐
//	                  │ routing owner goroutine               │
//	                  │   for each popped cmd:                │
//	                  │     evs, err = r.Apply(evs[:0], &cmd) │
//	                  │ Router: agents, groups, rings,        │
//	                  │ queues, assignments, affinity         │
//	                  └───────────────────┬───────────────────┘
//	                                      │ []Event, in causal order
//	                                      ▼
//	          shard.Router.Submit(conversation's shard): persist the
//	          assignment / queue place, system message, push to the
//	          visitor and agents; the caller's reply (error or ok)
//
// Because one goroutine applies every change, capacity checks and the
// assignments they allow happen in one step: a burst of simultaneous
// arrivals is serialised by the ring and no agent is ever given more than
// its capacity (TestConcurrentBurst pushes arrivals, closes and status
// changes from many goroutines through an MPSC ring and checks every
// invariant after every command).
//
// All state is per site and no operation touches two sites, so the work
// can be split by site: N owners, each with its own Router, with commands
// sent to owner hash(site) % N. One owner routes and closes on the order
// of a million conversations a second (BenchmarkAssign), so one is the
// default.
//
// Queries (Placement, Queue, Agent, Agents, Groups, Waiting, Stats,
// NextDeadline) belong to the owner too: the REST API asks through the
// same queue (or keeps its own copy, fed by the events).
//
// Buffers: the events appended to dst and the Router's own records hold
// strings the caller passed in (ids); they must be ordinary immutable
// strings, never views of a reused buffer. dst is the caller's: the Router
// only appends to it. A Command and everything it points to belongs to
// the owner once pushed.
//
// # Routing
//
//	Route(req) ── level 1: first tag with a ring ──► hash(visitor) on the
//	   │          tag's ring of groups (virtual      ring → group G (groups
//	   │          nodes); no tag → site default      with nobody online are
//	   │                                             skipped while others are)
//	   ├── level 3: visitor's last agent (per-site LRU), if online and
//	   │            under capacity → Assigned (affinity)
//	   ├── level 2: G's free agent with the lowest load/(capacity×weight),
//	   │            least recently assigned first on ties → Assigned
//	   └── nobody free: back of G's queue → Queued{position}
//	                (site's waiting total at its maximum → ErrQueueFull)
//
// A group's free agents (online, under capacity) sit in a heap per group,
// so level 2 is O(1) to read and O(k log n) to update for an agent in k
// groups. Agents that are away or offline are never offered anything.
//
// # Queues
//
// Each group has a FIFO. Whenever capacity appears (a close, a transfer
// away, an agent coming online, a capacity raise, a new membership) the
// queues of that agent's groups drain at once, longest-waiting head first.
// After every call no conversation waits in a group that has a free agent
// allowed to take it (a conversation transferred into a queue is not
// offered back to the agent who transferred it). Conversations that lose
// their agent (offline past the grace period, agent removed) go to the
// FRONT of their queue, oldest first, unless a free agent takes them.
//
// Positions: EventQueued carries the place; when the head of a queue
// moves, the first Options.LivePositions places get EventPositionChanged
// in the same call; places behind them are reported by Tick every
// Options.PositionRefresh (so a drain of a long queue costs O(live) events
// per conversation, not O(queue)).
//
// # Time
//
// The Router has no clock. SetAgent and SetStatus take the time a status
// took effect; Tick(now) requeues the conversations of agents offline for
// longer than Options.OfflineGrace and refreshes positions; NextDeadline
// says when Tick is next needed (for a timing wheel).
//
// # Allocation
//
// Route, Close, Claim, transfers and the drains they trigger allocate
// nothing in steady state (conversation records are recycled, queues
// reuse their slots, affinity reuses evicted nodes): the only memory per
// call is what the caller's dst needs. Configuration calls and queries
// may allocate.
package routing
