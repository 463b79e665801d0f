package clock

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultResolution is the resolution NewCoarse uses for a zero or negative
// argument.
const DefaultResolution = 10 * time.Millisecond

// Coarse is a clock that a ticker goroutine refreshes every resolution, so
// that reading it is a single atomic load instead of a call into the
// runtime's clock. It trails the real time by up to one resolution (more if
// the ticker goroutine is starved) and, like the wall clock it copies, may
// jump when the system clock is set.
//
// Now and NowTime may be called from any goroutine. Start and Stop may be
// called from any goroutine too; they are serialised internally.
type Coarse struct {
	now        atomic.Int64
	resolution time.Duration

	mu   sync.Mutex // guards stop and done
	stop chan struct{}
	done chan struct{}
}

// NewCoarse returns a clock that reads the current time and, once started,
// refreshes it every resolution (DefaultResolution if resolution <= 0).
// Until Start, Now returns the time of NewCoarse.
func NewCoarse(resolution time.Duration) *Coarse {
	if resolution <= 0 {
		resolution = DefaultResolution
	}
	c := &Coarse{resolution: resolution}
	c.now.Store(time.Now().UnixNano())
	return c
}

// Start launches the refreshing goroutine. It refreshes the clock at once,
// so that a clock stopped for a while does not hand out stale time. Starting
// a running clock does nothing.
func (c *Coarse) Start() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop != nil {
		return
	}
	c.now.Store(time.Now().UnixNano())
	c.stop = make(chan struct{})
	c.done = make(chan struct{})
	go c.run(c.stop, c.done)
}

func (c *Coarse) run(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(c.resolution)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			c.now.Store(now.UnixNano())
		case <-stop:
			return
		}
	}
}

// Stop ends the refreshing goroutine and waits for it to exit. Now keeps
// returning the last stored time. Stopping a stopped clock does nothing; a
// stopped clock may be started again.
func (c *Coarse) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stop == nil {
		return
	}
	close(c.stop)
	<-c.done
	c.stop, c.done = nil, nil
}

// Now returns the clock's time in unix nanoseconds. Any goroutine.
func (c *Coarse) Now() int64 { return c.now.Load() }

// NowTime returns the clock's time as a time.Time. It carries no monotonic
// reading, so durations between two NowTime values follow the wall clock.
// Any goroutine.
func (c *Coarse) NowTime() time.Time { return time.Unix(0, c.now.Load()) }

// Resolution returns the refresh interval.
func (c *Coarse) Resolution() time.Duration { return c.resolution }
