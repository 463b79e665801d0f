package scenario

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/kefu-im/kefu/bench/report"
)

// mixedScenario is a day at a help desk: Conns idle visitors held with
// heartbeats (a conn scenario, Reconnect of them per second closing and
// coming back), and Pairs visitors chatting with agents (a relay scenario
// with Reply: visitors send at MsgRate in all, agents answer each
// message). The two run side by side, each on its own pool of event loops,
// from one start instant; the reconnections run in the measured window.
// Their snapshots add up, so the report has the relay's message figures
// (sent counts the agents' answers too), the connect latency of every
// welcome, reconnections included, and the reconnections as cycles.
type mixedScenario struct {
	chat *relayScenario
	idle *connScenario
}

func newMixed(spec Spec) (*mixedScenario, error) {
	cs := spec
	cs.Scenario, cs.Reply, cs.Reconnect = "relay", true, 0
	is := spec
	is.Scenario = "conn"
	is.Hold = spec.Warmup + spec.Duration // idle until the chat's window ends
	chat, err := newRelay(cs)
	if err != nil {
		return nil, err
	}
	idle, err := newConn(is)
	if err != nil {
		_ = chat.Close()
		return nil, err
	}
	idle.churnAfter = spec.Warmup // reconnections in the measured window only
	return &mixedScenario{chat: chat, idle: idle}, nil
}

// both runs f on the chat and the idle parts at once.
func (m *mixedScenario) both(f func(Scenario) error) error {
	var wg sync.WaitGroup
	var errChat, errIdle error
	wg.Go(func() { errChat = f(m.chat) })
	wg.Go(func() { errIdle = f(m.idle) })
	wg.Wait()
	return errors.Join(errChat, errIdle)
}

func (m *mixedScenario) Setup(ctx context.Context) error {
	return m.both(func(s Scenario) error { return s.Setup(ctx) })
}

func (m *mixedScenario) Run(ctx context.Context, start time.Time) error {
	return m.both(func(s Scenario) error { return s.Run(ctx, start) })
}

// Snapshot is the sum of both parts; the phase is the chat's.
func (m *mixedScenario) Snapshot() report.Snapshot {
	return report.Merge(m.chat.Snapshot(), m.idle.Snapshot())
}

func (m *mixedScenario) Close() error {
	return m.both(func(s Scenario) error { return s.Close() })
}
