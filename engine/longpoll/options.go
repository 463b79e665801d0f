package longpoll

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Hard limits that no configuration lifts.
const (
	// MaxWait is the longest a poll may wait for envelopes (CS.md: wait ≤ 30 s).
	MaxWait = 30 * time.Second
	// maxResponseBytes bounds the envelopes one poll answer carries; the
	// rest waits for the next poll (at least one envelope always goes).
	maxResponseBytes = 1 << 20
	// maxBodyHard caps Options.MaxBodyBytes, as gateway.max_frame_bytes is.
	maxBodyHard = 16 << 20
)

// Options configures a Server. Zero values take the documented defaults.
type Options struct {
	// Handler handles the sessions' envelopes: the engine. Required.
	Handler Handler
	// MaxBodyBytes caps a request body (a HELLO, one envelope or a batch);
	// larger bodies get 413. Default 65536 (wire it to
	// gateway.max_frame_bytes, the WebSocket message limit).
	MaxBodyBytes int
	// MaxBatch caps the envelopes of one send request; more get 413.
	// Default 32.
	MaxBatch int
	// MaxSessions caps the sessions of the process; a connect past it
	// gets 503. Default 10000.
	MaxSessions int
	// SessionTimeout drops a session that nobody polls for this long.
	// Default 60s.
	SessionTimeout time.Duration
	// OutboundLimit is the most bytes queued for one session and not yet
	// acknowledged by its client; past it the session is closed as a slow
	// consumer. Default 4 MiB (wire it to gateway.outbound_limit).
	OutboundLimit int
	// Tick is the period of the reaper, which drops timed-out and closed
	// sessions. Default 1s.
	Tick time.Duration
	// Logger receives logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives the metrics. Default: none.
	Registerer prometheus.Registerer
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 65536
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 32
	}
	if o.MaxSessions == 0 {
		o.MaxSessions = 10000
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = 60 * time.Second
	}
	if o.OutboundLimit == 0 {
		o.OutboundLimit = 4 << 20
	}
	if o.Tick == 0 {
		o.Tick = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Handler == nil:
		return errors.New("longpoll: no handler")
	case o.MaxBodyBytes < 0 || o.MaxBodyBytes > maxBodyHard:
		return errors.New("longpoll: max body bytes must be within 1..16 MiB")
	case o.MaxBatch < 0:
		return errors.New("longpoll: max_batch must be positive")
	case o.MaxSessions < 0:
		return errors.New("longpoll: max_sessions must be positive")
	case o.SessionTimeout <= 0:
		return errors.New("longpoll: session_timeout must be positive")
	case o.OutboundLimit < o.MaxBodyBytes:
		return errors.New("longpoll: outbound limit below max body bytes")
	case o.Tick <= 0 || o.Tick > o.SessionTimeout:
		return errors.New("longpoll: tick must be positive and at most session_timeout")
	}
	return nil
}
