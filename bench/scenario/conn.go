package scenario

import (
	"context"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bench/client"
	"github.com/kefu-im/kefu/bench/report"
	pb "github.com/kefu-im/kefu/proto"
)

// connScenario opens Conns connections (visitors, or MQTT devices),
// optionally each with an open conversation (MQTT: a subscription to its
// device's topics), and holds them with heartbeats. With Reconnect, it
// closes connections at that rate during the hold (reason "reconnect",
// round robin on each loop) and dials each again as the same user: a
// completed reconnection counts as a cycle, its dial-to-welcome time in
// the connect histogram.
type connScenario struct {
	base
	resolved  []bool // by Tag, on the conn's loop (or the dialer before enrolling)
	nResolved atomic.Int64
	done      chan struct{}
	conns     []client.Conn
	churn     atomic.Bool       // reconnections are on
	redial    chan *client.Conn // from the loops to the dialers; never blocks a loop
	lc        []loopReconnect   // by loop
	exp       time.Time         // token expiry
	// churnAfter delays the reconnections (and the measured window) from
	// the start of the hold: mixed's warm-up.
	churnAfter time.Duration
}

// loopReconnect is one loop's reconnection schedule; only that loop
// touches it.
type loopReconnect struct {
	active  bool
	sched   Schedule
	maxTick int64
	rr      int
}

func newConn(spec Spec) (*connScenario, error) {
	s := &connScenario{done: make(chan struct{}), exp: time.Now().Add(24 * time.Hour)}
	if err := s.init(spec, s, 100*time.Millisecond); err != nil {
		return nil, err
	}
	s.resolved = make([]bool, spec.Conns)
	s.conns = make([]client.Conn, spec.Conns)
	s.redial = make(chan *client.Conn, spec.Conns)
	s.lc = make([]loopReconnect, len(s.pool.Loops()))
	s.onDialFail = func(c *client.Conn) { s.resolve(c) }
	return s, nil
}

func (s *connScenario) resolve(c *client.Conn) {
	if s.resolved[c.Tag] {
		return
	}
	s.resolved[c.Tag] = true
	if s.nResolved.Add(1) == int64(len(s.resolved)) {
		close(s.done)
	}
}

func (s *connScenario) Setup(ctx context.Context) error {
	s.startDialers(ctx)
	go s.feed(ctx, s.spec.Conns, s.spec.ConnRate, func(i int) *client.Conn {
		c := &s.conns[i]
		c.Tag = i
		s.identify(c, pb.Role_ROLE_VISITOR, s.user(i), "", s.exp)
		return c
	})
	err := s.waitSetup(ctx, s.done)
	if s.spec.Reconnect <= 0 {
		s.stopDialers()
	} else { // the dialers stay for the reconnections
		go func() {
			for {
				select {
				case c := <-s.redial:
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
	}
	if s.pool.Open() == 0 && err == nil {
		return errSetup
	}
	return err
}

func (s *connScenario) Run(ctx context.Context, start time.Time) error {
	s.setPhase("hold")
	t0 := s.pool.Now() + s.churnAfter
	if r := s.spec.Reconnect; r > 0 {
		s.churn.Store(true)
		st := s.poolTime(start) + s.churnAfter
		loops := s.pool.Loops()
		for i, l := range loops {
			l.Exec(func() {
				rate := r / float64(len(loops))
				s.lc[i] = loopReconnect{active: true, sched: NewSchedule(st, rate), maxTick: max(int64(rate), 1)}
			})
		}
	}
	s.sleepUntil(ctx, s.poolTime(start)+s.spec.Hold)
	s.measure.Store(int64(max(s.pool.Now()-t0, 0)))
	if s.spec.Reconnect > 0 {
		s.churn.Store(false)
		s.stopSending(ctx, func(l *client.Loop) { s.lc[l.Index].active = false })
	}
	return ctx.Err()
}

// Tick closes the connections the reconnection schedule says are due.
func (s *connScenario) Tick(l *client.Loop, now time.Duration) {
	lc := &s.lc[l.Index]
	if !lc.active {
		return
	}
	if due := lc.sched.Due(now); due > lc.maxTick {
		lc.sched.Skip(due - lc.maxTick)
	}
	conns := l.Conns()
	for {
		if _, ok := lc.sched.Next(now); !ok {
			return
		}
		for range conns { // the next welcomed connection, round robin
			if lc.rr >= len(conns) {
				lc.rr = 0
			}
			c := conns[lc.rr]
			lc.rr++
			if c.Ready() && !c.Closing() {
				c.Close("reconnect")
				break
			}
		}
	}
}

func (s *connScenario) Snapshot() report.Snapshot { return s.snapshot() }

func (s *connScenario) Close() error { return s.closePool() }

func (s *connScenario) user(i int) string {
	return "bc" + s.spec.RunID + "-" + strconv.Itoa(s.spec.Worker) + "-" + strconv.Itoa(i)
}

// Ready: a visitor with Open asks for its conversation; a device
// subscribes to its topics at QoS 1.
func (s *connScenario) Ready(c *client.Conn) {
	if c != &s.conns[c.Tag] { // a reconnection
		s.welcomedAs(c, cCycles)
	} else {
		s.welcomed(c)
	}
	s.releaseSlot()
	switch {
	case s.spec.Open && s.mqtt:
		if !c.Subscribe(s.deviceTopic(s.user(c.Tag))+"#", 1, 0) {
			s.resolve(c)
		}
	case s.spec.Open:
		c.Send(&client.Request{Type: pb.Type_TYPE_OPEN})
	default:
		s.resolve(c)
	}
}

// Acked: the SUBACK of a device's subscription.
func (s *connScenario) Acked(c *client.Conn, a client.Ack) {
	if a.Refused() {
		s.addReason(s.errors, client.HexReason("suback_", a.Reason))
	} else {
		s.st(c).c[cJoined].Add(1)
	}
	s.resolve(c)
}

func (s *connScenario) Message(c *client.Conn, m *client.Msg) {
	switch m.Type {
	case pb.Type_TYPE_JOINED:
		s.st(c).c[cJoined].Add(1)
		s.resolve(c)
	case pb.Type_TYPE_ERROR:
		s.errorReply(m)
		s.resolve(c)
	}
}

func (s *connScenario) Closed(c *client.Conn, reason string) {
	if !c.Ready() {
		s.releaseSlot()
	}
	if reason == "reconnect" {
		s.open.Add(-1)
		if s.churn.Load() {
			nc := &client.Conn{Tag: c.Tag}
			s.identify(nc, pb.Role_ROLE_VISITOR, s.user(c.Tag), "", s.exp)
			select {
			case s.redial <- nc:
			default: // cannot happen: one slot per connection
			}
		}
		return
	}
	s.closed(c, reason)
	s.resolve(c)
}
