package wheel

import (
	"errors"
	"time"

	"github.com/kefu-im/kefu/internal/ring"
)

// Defaults applied by Options.EnsureDefaults.
const (
	DefaultTick      = 100 * time.Millisecond
	DefaultSlots     = 512
	DefaultQueueSize = 1 << 16
)

// Errors returned by Options.Validate and New.
var (
	// ErrTick means Options.Tick is negative.
	ErrTick = errors.New("wheel: tick must be positive")
	// ErrSlots means Options.Slots is negative or not a power of two.
	ErrSlots = errors.New("wheel: slots must be a positive power of two")
	// ErrQueueSize means Options.QueueSize is negative or above ring.MaxCapacity.
	ErrQueueSize = errors.New("wheel: queue size out of range")
)

// Options configures a Wheel. The zero value is usable: EnsureDefaults fills
// every zero field.
type Options struct {
	// Tick is the wheel's resolution: an item fires less than one Tick after
	// its deadline, provided Advance runs at least once per Tick.
	// Zero means DefaultTick (100ms).
	Tick time.Duration
	// Slots is the number of buckets per revolution, a power of two. One
	// revolution spans Tick*Slots; later deadlines wait for their round.
	// Zero means DefaultSlots (512: 51.2s at the default tick).
	Slots int
	// QueueSize bounds the registration ring between Schedule and Advance,
	// rounded up to a power of two. Schedule fails when it is full.
	// Zero means DefaultQueueSize (65536).
	QueueSize int
}

// EnsureDefaults replaces every zero field with its default.
func (o *Options) EnsureDefaults() {
	if o.Tick == 0 {
		o.Tick = DefaultTick
	}
	if o.Slots == 0 {
		o.Slots = DefaultSlots
	}
	if o.QueueSize == 0 {
		o.QueueSize = DefaultQueueSize
	}
}

// Validate reports the first invalid field. Call it after EnsureDefaults.
func (o Options) Validate() error {
	if o.Tick <= 0 {
		return ErrTick
	}
	if o.Slots <= 0 || o.Slots&(o.Slots-1) != 0 {
		return ErrSlots
	}
	if o.QueueSize <= 0 || o.QueueSize > ring.MaxCapacity {
		return ErrQueueSize
	}
	return nil
}
