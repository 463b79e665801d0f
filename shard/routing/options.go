package routing

import (
	"errors"
	"time"
)

// Options configures a Router. Zero values take the documented defaults.
type Options struct {
	// VirtualNodes is how many points each group gets on a tag's hash
	// ring; more points spread visitors more evenly over the groups and
	// cost memory (16 bytes a point). Default 128, at most 4096.
	VirtualNodes int
	// OfflineGrace is how long an agent may stay offline before Tick puts
	// its conversations back at the front of their queues. Default 2m.
	OfflineGrace time.Duration
	// MaxQueue is the most conversations one site may have waiting when
	// its Site.MaxQueue is 0. Default 1000.
	MaxQueue int
	// LivePositions is how many places at the head of each queue are
	// reported at once (EventPositionChanged in the same call) when they
	// change. Positions behind them are reported by Tick, at most every
	// PositionRefresh. Default 10; -1 reports every position through Tick
	// only.
	LivePositions int
	// PositionRefresh is how often Tick reports changed positions behind
	// the live ones. Default 5s.
	PositionRefresh time.Duration
	// AffinityEntries is how many visitors per site have their last agent
	// remembered (least recently routed forgotten first). Default 65536.
	AffinityEntries int
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.VirtualNodes == 0 {
		o.VirtualNodes = 128
	}
	if o.OfflineGrace == 0 {
		o.OfflineGrace = 2 * time.Minute
	}
	if o.MaxQueue == 0 {
		o.MaxQueue = 1000
	}
	if o.LivePositions == 0 {
		o.LivePositions = 10
	}
	if o.PositionRefresh == 0 {
		o.PositionRefresh = 5 * time.Second
	}
	if o.AffinityEntries == 0 {
		o.AffinityEntries = 65536
	}
}

// Validate reports options that cannot work; call it after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.VirtualNodes < 1 || o.VirtualNodes > 4096:
		return errors.New("routing: virtual_nodes must be 1..4096")
	case o.OfflineGrace < 0:
		return errors.New("routing: offline_grace must not be negative")
	case o.MaxQueue < 1:
		return errors.New("routing: max_queue must be positive")
	case o.LivePositions < -1:
		return errors.New("routing: live_positions must be -1 or more")
	case o.PositionRefresh < 0:
		return errors.New("routing: position_refresh must not be negative")
	case o.AffinityEntries < 1 || o.AffinityEntries > 1<<24:
		return errors.New("routing: affinity_entries must be 1..16777216")
	}
	return nil
}

func (o *Options) live() int { return max(o.LivePositions, 0) }
