package bridge

import (
	"errors"
	"log/slog"
	"time"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
)

// Router is what the bridge needs of the shards (*shard.Router).
type Router interface {
	// Submit queues req on the shard of its conversation; false: full.
	Submit(req shard.Request) bool
}

// Publisher is what the bridge needs of the MQTT broker (*mqtt.Broker).
type Publisher interface {
	// Publish routes m to every matching subscription and returns how
	// many sessions it matched.
	Publish(m *mqtt.Message) (int, error)
}

// Options configure a Bridge. Zero values take the documented defaults.
type Options struct {
	// Store holds the device records (table 'b'). Required.
	Store *storage.Store
	// Router takes the bridge's requests. Required.
	Router Router
	// MaxBodyBytes caps a message body; larger ups are refused with 0x97.
	// Zero: 16384 (the engine's max_body_bytes).
	MaxBodyBytes int
	// MaxCatchUp is the most missed messages a device is sent when it
	// comes back; older ones are skipped (EVENT "skipped"). Keep it below
	// the broker's MaxQueued. Zero: 500.
	MaxCatchUp int
	// ReplayPage is how many messages one replay request asks for. Zero:
	// 100.
	ReplayPage int
	// FlushInterval is how long cursor updates wait to be written
	// together; a new conversation is written at once. Zero: 100ms.
	FlushInterval time.Duration
	// Logger receives store failures. Zero: discard.
	Logger *slog.Logger
	// Registerer receives the metrics. Zero: none.
	Registerer prometheus.Registerer
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 16384
	}
	if o.MaxCatchUp == 0 {
		o.MaxCatchUp = 500
	}
	if o.ReplayPage == 0 {
		o.ReplayPage = 100
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.Store == nil || o.Router == nil:
		return errors.New("bridge: Store and Router are required")
	case o.MaxBodyBytes < 1:
		return errors.New("bridge: MaxBodyBytes must be positive")
	case o.MaxCatchUp < 1 || o.ReplayPage < 1:
		return errors.New("bridge: MaxCatchUp and ReplayPage must be positive")
	case o.FlushInterval < 0:
		return errors.New("bridge: negative FlushInterval")
	}
	return nil
}
