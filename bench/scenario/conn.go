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

// connScenario opens Conns connections (visitors), optionally each with an
// open conversation, and holds them with heartbeats.
type connScenario struct {
	base
	resolved  []bool // by Tag, on the conn's loop (or the dialer before enrolling)
	nResolved atomic.Int64
	done      chan struct{}
	conns     []client.Conn
}

func newConn(spec Spec) (*connScenario, error) {
	s := &connScenario{done: make(chan struct{})}
	if err := s.init(spec, s, 100*time.Millisecond); err != nil {
		return nil, err
	}
	s.resolved = make([]bool, spec.Conns)
	s.conns = make([]client.Conn, spec.Conns)
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
	prefix := "bc" + s.spec.RunID + "-" + strconv.Itoa(s.spec.Worker) + "-"
	go s.feed(ctx, s.spec.Conns, s.spec.ConnRate, func(i int) *client.Conn {
		c := &s.conns[i]
		c.Tag = i
		c.Hello = client.Hello{Site: s.spec.Site, Role: pb.Role_ROLE_VISITOR, User: prefix + strconv.Itoa(i), Client: "kefu-bench"}
		return c
	})
	err := s.waitSetup(ctx, s.done)
	s.stopDialers()
	if s.pool.Open() == 0 && err == nil {
		return errSetup
	}
	return err
}

func (s *connScenario) Run(ctx context.Context, start time.Time) error {
	s.setPhase("hold")
	t0 := s.pool.Now()
	s.sleepUntil(ctx, s.poolTime(start)+s.spec.Hold)
	s.measure.Store(int64(s.pool.Now() - t0))
	return ctx.Err()
}

func (s *connScenario) Snapshot() report.Snapshot { return s.snapshot() }

func (s *connScenario) Close() error { return s.closePool() }

// Ready: a visitor with Open asks for its conversation.
func (s *connScenario) Ready(c *client.Conn) {
	s.welcomed(c)
	s.releaseSlot()
	if s.spec.Open {
		c.Send(&client.Request{Type: pb.Type_TYPE_OPEN})
		return
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
	s.closed(c, reason)
	s.resolve(c)
}

func (s *connScenario) Tick(*client.Loop, time.Duration) {}
