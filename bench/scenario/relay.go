package scenario

import (
	"bytes"
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bench/client"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/internal/token"
	pb "github.com/kefu-im/kefu/proto"
)

// Pair states.
const (
	pairPending int32 = iota
	pairReady
	pairFailed
)

// relayScenario runs Pairs visitor/agent pairs, each in its own
// conversation: the visitor OPENs it, the agent JOINs it, then both send
// (open loop at MsgRate in all, or closed loop with Window unacked SENDs
// each) and each receives the other's messages.
//
// With Reply, only visitors send (on the schedule, or their window) and
// each agent answers every MESSAGE it receives with one SEND, right away.
//
// Tags: the visitor of pair i is 2i, its agent 2i+1. A peer's fields are
// written by its connection's loop only, except conv, which the visitor's
// loop writes into both peers before the agent is dialed.
type relayScenario struct {
	base
	peers   []peer
	conns   []client.Conn
	pairs   []atomic.Int32
	nReady  atomic.Int64
	nFailed atomic.Int64
	done    chan struct{}
	agentQ  chan int
	body    []byte
	lr      []loopRelay
	times   atomic.Pointer[relayTimes] // set once by Run; nil before
}

// relayTimes are the pool times of a run and the number of sending
// connections, published once by Run for the loops to read.
type relayTimes struct {
	senders  int64
	startT   time.Duration
	warmEnd  time.Duration
	measEnd  time.Duration
	drainEnd time.Duration
}

type peer struct {
	conv     []byte
	k        uint64 // SENDs made
	inflight int
	lastSeq  uint64 // highest seq received
	lastK    uint64 // highest sender number received
}

// loopRelay is one loop's sending state; only that loop touches it.
type loopRelay struct {
	rt      *relayTimes
	active  bool // the schedule (or the closed loop) runs
	replies bool // Reply: agents answer
	filled  bool
	senders []int
	rr      int
	sched   Schedule
	maxTick int64
	cmid    []byte
	req     client.Request
}

func newRelay(spec Spec) (*relayScenario, error) {
	s := &relayScenario{done: make(chan struct{}), agentQ: make(chan int, spec.Pairs)}
	tick := 100 * time.Millisecond
	if spec.MsgRate > 0 {
		tick = time.Millisecond
	}
	if err := s.init(spec, s, tick); err != nil {
		return nil, err
	}
	s.peers = make([]peer, 2*spec.Pairs)
	s.conns = make([]client.Conn, 2*spec.Pairs)
	s.pairs = make([]atomic.Int32, spec.Pairs)
	s.lr = make([]loopRelay, len(s.pool.Loops()))
	s.body = bytes.Repeat([]byte("x"), spec.Payload)
	s.onDialFail = func(c *client.Conn) { s.failPair(c.Tag / 2) }
	return s, nil
}

func (s *relayScenario) failPair(i int) {
	if s.pairs[i].CompareAndSwap(pairPending, pairFailed) {
		s.nFailed.Add(1)
		s.checkDone()
	}
}

func (s *relayScenario) readyPair(i int) {
	if s.pairs[i].CompareAndSwap(pairPending, pairReady) {
		s.nReady.Add(1)
		s.checkDone()
	}
}

func (s *relayScenario) checkDone() {
	if s.nReady.Load()+s.nFailed.Load() == int64(len(s.pairs)) {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

func (s *relayScenario) Setup(ctx context.Context) error {
	s.startDialers(ctx)
	prefix := s.spec.RunID + "-" + strconv.Itoa(s.spec.Worker) + "-"
	exp := time.Now().Add(24 * time.Hour)
	go s.feed(ctx, s.spec.Pairs, s.spec.ConnRate, func(i int) *client.Conn {
		c := &s.conns[2*i]
		c.Tag = 2 * i
		c.Hello = client.Hello{Site: s.spec.Site, Role: pb.Role_ROLE_VISITOR, User: "bv" + prefix + strconv.Itoa(i), Client: "kefu-bench"}
		return c
	})
	go func() { // agents, once their visitor has a conversation
		for {
			select {
			case i := <-s.agentQ:
				c := &s.conns[2*i+1]
				c.Tag = 2*i + 1
				user := "ba" + prefix + strconv.Itoa(i)
				c.Hello = client.Hello{Site: s.spec.Site, Role: pb.Role_ROLE_AGENT, User: user, Client: "kefu-bench"}
				if s.spec.Secret != "" {
					c.Hello.Token = token.Sign([]byte(s.spec.Secret), s.spec.Site, "agent", user, exp)
				}
				select {
				case s.jobs <- c:
				case <-s.stopDial:
					return
				}
			case <-s.stopDial:
				return
			}
		}
	}()
	err := s.waitSetup(ctx, s.done)
	s.stopDialers()
	if s.nReady.Load() == 0 && err == nil {
		return errSetup
	}
	return err
}

func (s *relayScenario) Run(ctx context.Context, start time.Time) error {
	rt := &relayTimes{startT: s.poolTime(start), senders: 2 * s.nReady.Load()}
	if s.spec.Reply {
		rt.senders = s.nReady.Load()
	}
	rt.warmEnd = rt.startT + s.spec.Warmup
	rt.measEnd = rt.warmEnd + s.spec.Duration
	rt.drainEnd = rt.measEnd + s.spec.Drain
	s.times.Store(rt)
	for _, l := range s.pool.Loops() {
		l.Exec(func() { s.activate(l, rt) })
	}
	s.setPhase("warmup")
	if !s.sleepUntil(ctx, rt.warmEnd) {
		return ctx.Err()
	}
	s.setPhase("measure")
	ok := s.sleepUntil(ctx, rt.measEnd)
	s.measure.Store(int64(min(s.pool.Now(), rt.measEnd) - rt.warmEnd))
	if !ok {
		return ctx.Err()
	}
	s.setPhase("drain")
	if !s.stopSending(ctx, func(l *client.Loop) {
		s.Tick(l, l.Now()) // what is still due before the end of the window
		s.lr[l.Index].active, s.lr[l.Index].replies = false, false
	}) {
		return ctx.Err()
	}
	for s.pool.Now() < rt.drainEnd && !s.drained() {
		if !s.sleepUntil(ctx, s.pool.Now()+10*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// drained reports whether every SEND made has been answered and every
// acknowledged message delivered.
func (s *relayScenario) drained() bool {
	var sent, acked, errs, delivered int64
	for i := range s.stats {
		st := &s.stats[i]
		sent += st.c[cSentAll].Load()
		acked += st.c[cAckedAll].Load()
		errs += st.c[cSendErrorsAll].Load()
		delivered += st.c[cDeliveredAll].Load() - st.c[cDuplicates].Load()
	}
	return sent == acked+errs && delivered >= acked
}

// activate runs on loop l at the start: it lists the loop's connections
// of ready pairs and gives the loop its share of the offered rate.
func (s *relayScenario) activate(l *client.Loop, rt *relayTimes) {
	lr := &s.lr[l.Index]
	lr.rt = rt
	lr.replies = s.spec.Reply
	for _, c := range l.Conns() {
		if c.Ready() && s.pairs[c.Tag/2].Load() == pairReady && (!s.spec.Reply || c.Tag%2 == 0) {
			lr.senders = append(lr.senders, c.Tag)
		}
	}
	if len(lr.senders) == 0 || rt.senders == 0 {
		return
	}
	rate := s.spec.MsgRate * float64(len(lr.senders)) / float64(rt.senders)
	lr.sched = NewSchedule(rt.startT, rate)
	lr.maxTick = max(int64(rate), 1) // at most one second of slots at once
	lr.active = true
}

// measured reports whether a message intended at t is in the window.
func (rt *relayTimes) measured(t time.Duration) bool {
	return rt != nil && t >= rt.warmEnd && t < rt.measEnd
}

// Tick sends what the open-loop schedule says is due, or fills the
// closed-loop windows at the start.
func (s *relayScenario) Tick(l *client.Loop, now time.Duration) {
	lr := &s.lr[l.Index]
	if !lr.active || now < lr.rt.startT {
		return
	}
	if s.spec.MsgRate <= 0 {
		if !lr.filled {
			lr.filled = true
			for _, tag := range lr.senders {
				for range s.spec.Window {
					s.send(lr, tag, now)
				}
			}
		}
		return
	}
	due := lr.sched.Due(now)
	if due > lr.maxTick { // the loop stalled for over a second: skip the excess
		lr.sched.Skip(due - lr.maxTick)
		s.stats[l.Index].c[cSkipped].Add(due - lr.maxTick)
	}
	for {
		t, ok := lr.sched.Next(now)
		if !ok {
			return
		}
		if t >= lr.rt.measEnd {
			lr.active = false
			return
		}
		tag := lr.senders[lr.rr]
		lr.rr++
		if lr.rr == len(lr.senders) {
			lr.rr = 0
		}
		s.send(lr, tag, t)
	}
}

// send makes one SEND from connection tag, intended at t.
func (s *relayScenario) send(lr *loopRelay, tag int, t time.Duration) {
	p := &s.peers[tag]
	c := &s.conns[tag]
	st := s.st(c)
	if p.inflight >= s.spec.MaxInflight || !c.Ready() {
		st.c[cSkipped].Add(1)
		return
	}
	p.k++
	p.inflight++
	lr.cmid = appendCMID(lr.cmid[:0], tag, p.k, t)
	lr.req = client.Request{Type: pb.Type_TYPE_SEND, Conversation: p.conv, ClientMsgID: lr.cmid, Body: s.body}
	c.Send(&lr.req)
	st.c[cSentAll].Add(1)
	if lr.rt.measured(t) {
		st.c[cSent].Add(1)
	}
}

func (s *relayScenario) Ready(c *client.Conn) {
	s.welcomed(c)
	s.releaseSlot()
	if c.Tag%2 == 0 {
		c.Send(&client.Request{Type: pb.Type_TYPE_OPEN})
		return
	}
	c.Send(&client.Request{Type: pb.Type_TYPE_JOIN, Conversation: s.peers[c.Tag].conv})
}

func (s *relayScenario) Message(c *client.Conn, m *client.Msg) {
	now := c.Loop().Now()
	switch m.Type {
	case pb.Type_TYPE_ACK:
		s.onAck(c, m, now)
	case pb.Type_TYPE_MESSAGE:
		s.onMessage(c, m, now)
	case pb.Type_TYPE_JOINED:
		s.st(c).c[cJoined].Add(1)
		i := c.Tag / 2
		if c.Tag%2 == 1 {
			s.readyPair(i)
			return
		}
		if len(s.peers[c.Tag].conv) == 0 && len(m.Conversation) > 0 {
			conv := bytes.Clone(m.Conversation)
			s.peers[c.Tag].conv = conv
			s.peers[c.Tag+1].conv = conv
			s.agentQ <- i // never blocks: one slot per pair
		}
	case pb.Type_TYPE_ERROR:
		s.errorReply(m)
		if s.pairs[c.Tag/2].Load() != pairReady {
			s.failPair(c.Tag / 2)
			return
		}
		st := s.st(c)
		st.c[cSendErrorsAll].Add(1)
		if rt := s.times.Load(); rt != nil && now >= rt.warmEnd && now < rt.drainEnd {
			st.c[cSendErrors].Add(1)
		}
		s.answered(c, now)
	}
}

// answered frees a window slot; closed loop sends the next message.
func (s *relayScenario) answered(c *client.Conn, now time.Duration) {
	p := &s.peers[c.Tag]
	if p.inflight > 0 {
		p.inflight--
	}
	lr := &s.lr[c.Loop().Index]
	if s.spec.MsgRate <= 0 && lr.active && now < lr.rt.measEnd && now >= lr.rt.startT && (!s.spec.Reply || c.Tag%2 == 0) {
		s.send(lr, c.Tag, now)
	}
}

func (s *relayScenario) onAck(c *client.Conn, m *client.Msg, now time.Duration) {
	st := s.st(c)
	st.c[cAckedAll].Add(1)
	if _, t, ok := parseCMID(m.ClientMsgID); ok && s.times.Load().measured(t) {
		st.c[cAcked].Add(1)
		st.h[hAck].Record(int64(now - t))
	}
	s.answered(c, now)
}

func (s *relayScenario) onMessage(c *client.Conn, m *client.Msg, now time.Duration) {
	st := s.st(c)
	p := &s.peers[c.Tag]
	st.c[cDeliveredAll].Add(1)
	if m.Seq <= p.lastSeq { // at-least-once: a copy of what we have
		st.c[cDuplicates].Add(1)
		return
	}
	p.lastSeq = m.Seq
	k, t, ok := parseCMID(m.ClientMsgID)
	if !ok {
		return
	}
	if k < p.lastK {
		st.c[cReordered].Add(1)
	} else {
		p.lastK = k
	}
	if s.times.Load().measured(t) {
		st.c[cDelivered].Add(1)
		st.h[hE2E].Record(int64(now - t))
	}
	if lr := &s.lr[c.Loop().Index]; lr.replies && c.Tag%2 == 1 && now < lr.rt.measEnd {
		s.send(lr, c.Tag, now) // the agent answers
	}
}

func (s *relayScenario) Closed(c *client.Conn, reason string) {
	if !c.Ready() {
		s.releaseSlot()
	}
	s.closed(c, reason)
	s.failPair(c.Tag / 2)
}

func (s *relayScenario) Snapshot() report.Snapshot { return s.snapshot() }

func (s *relayScenario) Close() error { return s.closePool() }
