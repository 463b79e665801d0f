package shard

import (
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configures a Router. Zero values take the documented defaults.
type Options struct {
	// Shards is the number of shards (workers). Default 2×GOMAXPROCS.
	Shards int
	// RingSize is each shard's queue capacity, rounded up to a power of
	// two. Default 16384.
	RingSize int
	// BatchMax is the most requests a worker takes in one drain, hence the
	// largest group commit. Default 1024.
	BatchMax int
	// ReplayLimit is the page size of a replay when the client asks for
	// none. Default 200.
	ReplayLimit int
	// MaxReplayLimit caps what a client may ask for. Default 1000.
	MaxReplayLimit int
	// DedupWindow is how many recent client_msg_ids per conversation are
	// kept in memory; older resends are found through the log's index.
	// Default 256.
	DedupWindow int
	// MaxConversations is how many conversations a shard keeps in memory
	// before evicting ones without subscribers. Default 100000.
	MaxConversations int
	// IdleConversation is how long a conversation with no subscriber stays
	// in memory. Default 5m.
	IdleConversation time.Duration
	// SweepInterval is how often a worker evicts idle conversations and
	// forgets closed connections. Default 1s.
	SweepInterval time.Duration
	// Logger receives the workers' logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the metrics. Default: none.
	Registerer prometheus.Registerer
	// Now returns the time; tests may replace it. Default time.Now.
	Now func() time.Time

	// DisableRouting turns the desk off: conversations open as "open"
	// with no assigned agent, agents join them by hand, and no presence,
	// queue or assignment is tracked (a plain relay, as a benchmark
	// baseline or for deployments that route elsewhere).
	DisableRouting bool
	// Routing configures the routing desk (queues, grace period,
	// positions); see shard/routing.Options for its defaults.
	Routing routing.Options
	// DeskRingSize is the desk's queue capacity. Default 16384.
	DeskRingSize int
	// DefaultGroup is the group every site routes to when no tag matches,
	// and the group of agents the desk registers by itself (agents
	// authenticated by an HMAC token, unknown to the directory). Default
	// "default".
	DefaultGroup string
	// DefaultCapacity is the capacity of agents the desk registers by
	// itself. Default 8.
	DefaultCapacity int
	// AutoClose closes an open or queued conversation after this long
	// without a request. Default 30m; negative disables it.
	AutoClose time.Duration
	// AgentName returns an agent's display name for system messages;
	// called on the desk goroutine. Default: the agent id.
	AgentName func(site, agent string) string
	// OnEvent, when set, is told about customer-service events as they
	// are committed (for webhooks): kind is "conversation.created",
	// "conversation.assigned", "conversation.closed", "message.created"
	// or "conversation.rated", and b is the batch the event's change is
	// committed in, so an outbox entry added to it commits atomically.
	// Called on the shard's worker goroutine; it must not block.
	OnEvent func(b *storage.Batch, kind string, conv *proto.Conversation, msg *proto.Envelope)
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Shards == 0 {
		o.Shards = 2 * runtime.GOMAXPROCS(0)
	}
	if o.RingSize == 0 {
		o.RingSize = 16384
	}
	if o.BatchMax == 0 {
		o.BatchMax = 1024
	}
	if o.ReplayLimit == 0 {
		o.ReplayLimit = 200
	}
	if o.MaxReplayLimit == 0 {
		o.MaxReplayLimit = 1000
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = 256
	}
	if o.MaxConversations == 0 {
		o.MaxConversations = 100000
	}
	if o.IdleConversation == 0 {
		o.IdleConversation = 5 * time.Minute
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DeskRingSize == 0 {
		o.DeskRingSize = 16384
	}
	if o.DefaultGroup == "" {
		o.DefaultGroup = "default"
	}
	if o.DefaultCapacity == 0 {
		o.DefaultCapacity = 8
	}
	if o.AutoClose == 0 {
		o.AutoClose = 30 * time.Minute
	}
	o.Routing.EnsureDefaults()
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Shards < 1 || o.Shards > 64:
		return errors.New("shard: shards must be 1..64")
	case o.RingSize < 16:
		return errors.New("shard: ring_size must be at least 16")
	case o.BatchMax < 1:
		return errors.New("shard: batch_max must be positive")
	case o.ReplayLimit < 1 || o.MaxReplayLimit < o.ReplayLimit:
		return errors.New("shard: replay limits must satisfy 1 <= replay_limit <= max_replay_limit")
	case o.DedupWindow < 1:
		return errors.New("shard: dedup_window must be positive")
	case o.DeskRingSize < 16:
		return errors.New("shard: desk_ring_size must be at least 16")
	case o.DefaultCapacity < 0 || o.DefaultCapacity > routing.MaxCapacity:
		return errors.New("shard: default_capacity must be 0..10000")
	}
	return o.Routing.Validate()
}
