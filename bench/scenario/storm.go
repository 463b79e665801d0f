package scenario

import (
	"context"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/bench/client"
	"github.com/kefu-im/kefu/bench/report"
	pb "github.com/kefu-im/kefu/proto"
)

// stormScenario churns connections for Duration: it dials at ConnRate
// (or as fast as it can) with at most Conns open at once, and closes each
// connection LifeTime after its WELCOME.
type stormScenario struct {
	base
}

func newStorm(spec Spec) (*stormScenario, error) {
	s := &stormScenario{}
	spec.MaxHandshakes = spec.Conns // a slot is held from dial to close
	if err := s.init(spec, s, 10*time.Millisecond); err != nil {
		return nil, err
	}
	return s, nil
}

// Setup has nothing to open: the storm is the run.
func (s *stormScenario) Setup(context.Context) error {
	s.setPhase("ready")
	return nil
}

func (s *stormScenario) Run(ctx context.Context, start time.Time) error {
	if !s.sleepUntil(ctx, s.poolTime(start)) {
		return ctx.Err()
	}
	s.setPhase("churn")
	t0 := s.pool.Now()
	runCtx, cancel := context.WithTimeout(ctx, s.spec.Duration)
	defer cancel()
	s.startDialers(ctx) // dials in flight at the end finish normally
	prefix := "bs" + s.spec.RunID + "-" + strconv.Itoa(s.spec.Worker) + "-"
	exp := time.Now().Add(24 * time.Hour)
	s.feed(runCtx, s.spec.MaxConnects, s.spec.ConnRate, func(i int) *client.Conn {
		c := &client.Conn{Tag: i}
		s.identify(c, pb.Role_ROLE_VISITOR, prefix+strconv.Itoa(i), "", exp)
		return c
	})
	<-runCtx.Done()
	s.stopDialers()
	s.measure.Store(int64(s.pool.Now() - t0))
	s.markSetupEnd()
	return ctx.Err()
}

func (s *stormScenario) Ready(c *client.Conn) {
	s.welcomed(c)
	if s.spec.LifeTime <= 0 {
		s.finish(c)
	}
}

func (s *stormScenario) finish(c *client.Conn) {
	if s.spec.RST {
		c.SetLinger0()
	}
	c.Close("client_close")
}

func (s *stormScenario) Message(c *client.Conn, m *client.Msg) {
	if m.Type == pb.Type_TYPE_ERROR {
		s.errorReply(m)
	}
}

func (s *stormScenario) Closed(c *client.Conn, reason string) {
	s.releaseSlot()
	if c.Ready() && reason == "client_close" {
		s.st(c).c[cCycles].Add(1)
	}
	s.closed(c, reason)
}

// Tick closes the connections whose life time is over.
func (s *stormScenario) Tick(l *client.Loop, now time.Duration) {
	if s.spec.LifeTime <= 0 {
		return
	}
	for _, c := range l.Conns() {
		if c.Ready() && now-c.Welcomed >= s.spec.LifeTime {
			s.finish(c)
		}
	}
}

func (s *stormScenario) Snapshot() report.Snapshot { return s.snapshot() }

func (s *stormScenario) Close() error { return s.closePool() }
