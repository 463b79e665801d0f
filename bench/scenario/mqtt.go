package scenario

import (
	"bytes"
	"context"
	"encoding/binary"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bench/client"
	"github.com/kefu-im/kefu/bench/report"
	pb "github.com/kefu-im/kefu/proto"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mqttScenario runs Pairs topic groups: in each, one publisher and Fanout
// subscribers of topic "kefu/<site>/<device>/t", all connections of one
// device (client ids "<site>/<device>/pub", "<site>/<device>/sub",
// "<site>/<device>/sub-2", …), so that Kefu's per-device ACL lets them
// talk. The publishers send at MsgRate in all (open loop) or keep Window
// messages each unfinished (closed loop: unacknowledged at QoS 1 and 2,
// not yet at the first subscriber at QoS 0).
//
// Tags: member r of group g is g×(1+Fanout)+r; r = 0 publishes. A group
// lives on one loop (pickLoop), so that a subscriber's delivery may drive
// its publisher (closed loop at QoS 0) without crossing loops. A peer's
// fields are written by its connection's loop only.
type mqttScenario struct {
	base
	size    int // connections per group: 1 + Fanout
	conns   []client.Conn
	peers   []mqttPeer
	topics  []string       // by group
	members []atomic.Int32 // by group: members set up (publisher connected, subscriber subscribed)
	groups  []atomic.Int32 // by group: pairPending, pairReady, pairFailed
	nReady  atomic.Int64
	nFailed atomic.Int64
	done    chan struct{}
	lm      []loopMQTT
	times   atomic.Pointer[relayTimes]
	qos     byte
}

// mqttPeer is one connection's message state.
type mqttPeer struct {
	k     uint64 // publisher: messages published
	lastK uint64 // subscriber: highest message number received
	win   uint64 // subscriber: bit i set = lastK-i received
}

// loopMQTT is one loop's sending state; only that loop touches it.
type loopMQTT struct {
	rt      *relayTimes
	active  bool
	filled  bool
	senders []int
	rr      int
	sched   Schedule
	maxTick int64
	pay     []byte // the payload: number and time, then filler
}

func newMQTT(spec Spec) (*mqttScenario, error) {
	s := &mqttScenario{done: make(chan struct{}), size: 1 + spec.Fanout, qos: byte(spec.QoS)}
	tick := 100 * time.Millisecond
	if spec.MsgRate > 0 {
		tick = time.Millisecond
	}
	if err := s.init(spec, s, tick); err != nil {
		return nil, err
	}
	n := spec.Pairs * s.size
	s.conns = make([]client.Conn, n)
	s.peers = make([]mqttPeer, n)
	s.topics = make([]string, spec.Pairs)
	s.members = make([]atomic.Int32, spec.Pairs)
	s.groups = make([]atomic.Int32, spec.Pairs)
	s.lm = make([]loopMQTT, len(s.pool.Loops()))
	for i := range s.lm {
		s.lm[i].pay = bytes.Repeat([]byte("x"), spec.Payload)
	}
	loops := s.pool.Loops()
	s.pickLoop = func(c *client.Conn) *client.Loop { return loops[(c.Tag/s.size)%len(loops)] }
	s.onDialFail = func(c *client.Conn) { s.failGroup(c.Tag / s.size) }
	return s, nil
}

// device is the device name of group g.
func (s *mqttScenario) device(g int) string {
	return "dev-" + s.spec.RunID + "-" + strconv.Itoa(s.spec.Worker) + "-" + strconv.Itoa(g)
}

func (s *mqttScenario) failGroup(g int) {
	if s.groups[g].CompareAndSwap(pairPending, pairFailed) {
		s.nFailed.Add(1)
		s.checkDone()
	}
}

// memberUp counts a member of group g set up; the last one readies it.
func (s *mqttScenario) memberUp(g int) {
	if s.members[g].Add(1) == int32(s.size) && s.groups[g].CompareAndSwap(pairPending, pairReady) {
		s.nReady.Add(1)
		s.checkDone()
	}
}

func (s *mqttScenario) checkDone() {
	if s.nReady.Load()+s.nFailed.Load() == int64(len(s.groups)) {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

func (s *mqttScenario) Setup(ctx context.Context) error {
	for g := range s.topics {
		s.topics[g] = s.deviceTopic(s.device(g)) + "t"
	}
	s.startDialers(ctx)
	exp := time.Now().Add(24 * time.Hour)
	go s.feed(ctx, len(s.conns), s.spec.ConnRate, func(i int) *client.Conn {
		c := &s.conns[i]
		c.Tag = i
		suffix := "pub"
		switch r := i % s.size; {
		case r == 1:
			suffix = "sub"
		case r > 1:
			suffix = "sub-" + strconv.Itoa(r)
		}
		s.identify(c, pb.Role_ROLE_UNSPECIFIED, s.device(i/s.size), suffix, exp)
		return c
	})
	err := s.waitSetup(ctx, s.done)
	s.stopDialers()
	if s.nReady.Load() == 0 && err == nil {
		return errSetup
	}
	return err
}

func (s *mqttScenario) Run(ctx context.Context, start time.Time) error {
	rt := &relayTimes{startT: s.poolTime(start), senders: s.nReady.Load()}
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
		s.lm[l.Index].active = false
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

// drained reports whether every PUBLISH made has been answered and every
// delivery due has arrived.
func (s *mqttScenario) drained() bool {
	var sent, acked, errs, delivered, expected int64
	for i := range s.stats {
		st := &s.stats[i]
		sent += st.c[cSentAll].Load()
		acked += st.c[cAckedAll].Load()
		errs += st.c[cSendErrorsAll].Load()
		delivered += st.c[cDeliveredAll].Load() - st.c[cDuplicates].Load()
		expected += st.c[cExpectedAll].Load()
	}
	return sent == acked+errs && delivered >= expected
}

// activate runs on loop l at the start: it lists the loop's publishers of
// ready groups and gives the loop its share of the offered rate.
func (s *mqttScenario) activate(l *client.Loop, rt *relayTimes) {
	lm := &s.lm[l.Index]
	lm.rt = rt
	for _, c := range l.Conns() {
		if c.Tag%s.size == 0 && c.Ready() && s.groups[c.Tag/s.size].Load() == pairReady {
			lm.senders = append(lm.senders, c.Tag)
		}
	}
	if len(lm.senders) == 0 || rt.senders == 0 {
		return
	}
	rate := s.spec.MsgRate * float64(len(lm.senders)) / float64(rt.senders)
	lm.sched = NewSchedule(rt.startT, rate)
	lm.maxTick = max(int64(rate), 1)
	lm.active = true
}

// Tick publishes what the open-loop schedule says is due, or fills the
// closed-loop windows at the start.
func (s *mqttScenario) Tick(l *client.Loop, now time.Duration) {
	lm := &s.lm[l.Index]
	if !lm.active || now < lm.rt.startT {
		return
	}
	if s.spec.MsgRate <= 0 {
		if !lm.filled {
			lm.filled = true
			for _, tag := range lm.senders {
				for range s.spec.Window {
					s.send(lm, tag, now)
				}
			}
		}
		return
	}
	due := lm.sched.Due(now)
	if due > lm.maxTick { // the loop stalled for over a second: skip the excess
		lm.sched.Skip(due - lm.maxTick)
		s.stats[l.Index].c[cSkipped].Add(due - lm.maxTick)
	}
	for {
		t, ok := lm.sched.Next(now)
		if !ok {
			return
		}
		if t >= lm.rt.measEnd {
			lm.active = false
			return
		}
		tag := lm.senders[lm.rr]
		lm.rr++
		if lm.rr == len(lm.senders) {
			lm.rr = 0
		}
		s.send(lm, tag, t)
	}
}

// send publishes one message from publisher tag, intended at t. Its
// payload starts with its number and t (big-endian); at QoS 0 it counts as
// acknowledged once written.
func (s *mqttScenario) send(lm *loopMQTT, tag int, t time.Duration) {
	p := &s.peers[tag]
	c := &s.conns[tag]
	st := s.st(c)
	if s.qos > 0 && c.Inflight() >= s.spec.MaxInflight {
		st.c[cSkipped].Add(1)
		return
	}
	binary.BigEndian.PutUint64(lm.pay[0:8], p.k+1)
	binary.BigEndian.PutUint64(lm.pay[8:16], uint64(t))
	if !c.Publish(s.topics[tag/s.size], s.qos, s.spec.Retain, lm.pay, uint64(t)) {
		st.c[cSkipped].Add(1) // the server's receive maximum, or closing
		return
	}
	p.k++
	measured := lm.rt.measured(t)
	st.c[cSentAll].Add(1)
	if measured {
		st.c[cSent].Add(1)
	}
	if s.qos == 0 {
		s.countAcked(st, measured)
	}
}

// countAcked counts a message the server took, and the deliveries it owes.
func (s *mqttScenario) countAcked(st *loopStats, measured bool) {
	st.c[cAckedAll].Add(1)
	st.c[cExpectedAll].Add(int64(s.spec.Fanout))
	if measured {
		st.c[cAcked].Add(1)
		st.c[cExpected].Add(int64(s.spec.Fanout))
	}
}

// Ready: a publisher is set up; a subscriber subscribes to its group's
// topic.
func (s *mqttScenario) Ready(c *client.Conn) {
	s.welcomed(c)
	s.releaseSlot()
	g := c.Tag / s.size
	if c.Tag%s.size == 0 {
		s.memberUp(g)
		return
	}
	if !c.Subscribe(s.topics[g], s.qos, 0) {
		s.failGroup(g)
	}
}

// Acked ends a SUBSCRIBE (set-up) or a PUBLISH of QoS 1 or 2.
func (s *mqttScenario) Acked(c *client.Conn, a client.Ack) {
	g := c.Tag / s.size
	if a.Type == packets.Suback {
		if a.Refused() {
			s.addReason(s.errors, client.HexReason("suback_", a.Reason))
			s.failGroup(g)
			return
		}
		s.memberUp(g)
		return
	}
	now := c.Loop().Now()
	st := s.st(c)
	rt := s.times.Load()
	t := time.Duration(a.Cookie)
	if a.Refused() {
		s.addReason(s.errors, client.HexReason("puback_", a.Reason))
		st.c[cSendErrorsAll].Add(1)
		if rt.measured(t) {
			st.c[cSendErrors].Add(1)
		}
	} else {
		s.countAcked(st, rt.measured(t))
		if rt.measured(t) {
			st.h[hAck].Record(int64(now - t))
		}
	}
	s.next(c.Tag, now)
}

// next: closed loop, publisher tag sends its next message.
func (s *mqttScenario) next(tag int, now time.Duration) {
	lm := &s.lm[s.conns[tag].Loop().Index]
	if s.spec.MsgRate <= 0 && lm.active && now < lm.rt.measEnd && now >= lm.rt.startT {
		s.send(lm, tag, now)
	}
}

// Received counts a delivery: duplicates and reordering by the sender's
// message number (a window of the last 64), latency from the intended
// send time.
func (s *mqttScenario) Received(c *client.Conn, m *client.Publish) {
	st := s.st(c)
	if len(m.Payload) < MinMQTTPayload || c.Tag%s.size == 0 {
		s.addReason(s.errors, "bad_publish")
		return
	}
	now := c.Loop().Now()
	k := binary.BigEndian.Uint64(m.Payload[0:8])
	t := time.Duration(binary.BigEndian.Uint64(m.Payload[8:16]))
	st.c[cDeliveredAll].Add(1)
	dup, reordered := s.peers[c.Tag].see(k)
	if dup {
		st.c[cDuplicates].Add(1)
		return
	}
	if reordered {
		st.c[cReordered].Add(1)
	}
	if s.times.Load().measured(t) {
		st.c[cDelivered].Add(1)
		st.h[hE2E].Record(int64(now - t))
	}
	if s.qos == 0 && c.Tag%s.size == 1 { // closed loop at QoS 0: the first subscriber paces
		s.next(c.Tag-1, now)
	}
}

// see records message number k: a duplicate if it was seen (or is older
// than the window), reordered if it is new but below the highest.
func (p *mqttPeer) see(k uint64) (dup, reordered bool) {
	if k > p.lastK {
		if d := k - p.lastK; d >= 64 {
			p.win = 0
		} else {
			p.win <<= d
		}
		p.win |= 1
		p.lastK = k
		return false, false
	}
	d := p.lastK - k
	if d >= 64 || p.win&(1<<d) != 0 {
		return true, false
	}
	p.win |= 1 << d
	return false, true
}

func (s *mqttScenario) Closed(c *client.Conn, reason string) {
	if !c.Ready() {
		s.releaseSlot()
	}
	s.closed(c, reason)
	s.failGroup(c.Tag / s.size)
}

// Message is never called on MQTT connections.
func (s *mqttScenario) Message(*client.Conn, *client.Msg) {}

func (s *mqttScenario) Snapshot() report.Snapshot { return s.snapshot() }

func (s *mqttScenario) Close() error { return s.closePool() }
