package webhook

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults applied by Options.EnsureDefaults.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultBackoffBase  = time.Second
	DefaultBackoffMax   = 10 * time.Minute
	DefaultMaxAttempts  = 8
	DefaultConcurrency  = 4
	DefaultPollInterval = time.Second
	DefaultUserAgent    = "Kefu-Webhook/1"
)

// Limits checked by Options.Validate.
const (
	maxConcurrency = 256
	maxAttempts    = 100
)

// Options configures an Outbox. The zero value of every field is a usable
// default.
type Options struct {
	// Registerer receives the kefu_webhook_* metrics. Zero value (nil): the
	// metrics are kept but not registered.
	Registerer prometheus.Registerer
	// Logger receives delivery failures at Debug and storage errors at Warn.
	// Zero value: a logger that discards everything.
	Logger *slog.Logger
	// Now is the clock for due times, backoff and Kefu-Timestamp. Zero
	// value: time.Now.
	Now func() time.Time
	// Timeout bounds one delivery attempt: connect, request, response
	// headers and the (discarded) first 4 KiB of the body. Zero value:
	// DefaultTimeout (10s).
	Timeout time.Duration
	// BackoffBase is the delay before the first retry; each later retry
	// doubles it, up to BackoffMax, and the actual delay is drawn uniformly
	// from [d/2, d). Zero value: DefaultBackoffBase (1s).
	BackoffBase time.Duration
	// BackoffMax caps the retry delay. Zero value: DefaultBackoffMax (10m).
	BackoffMax time.Duration
	// MaxAttempts is how many failed attempts move a delivery to the dead
	// letters. Zero value: DefaultMaxAttempts (8).
	MaxAttempts int
	// Concurrency is the number of sender goroutines, hence the most
	// requests in flight; the dispatch channel holds as many again. Zero
	// value: DefaultConcurrency (4).
	Concurrency int
	// PollInterval is the longest the worker sleeps between scans of the
	// outbox when nothing wakes it (Notify, a finished delivery, the next
	// due time). Zero value: DefaultPollInterval (1s).
	PollInterval time.Duration
	// UserAgent is sent with every delivery. Zero value: DefaultUserAgent.
	UserAgent string
}

// EnsureDefaults fills zero-valued fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.BackoffBase == 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
}

// Validate reports options that make no sense (after EnsureDefaults).
func (o *Options) Validate() error {
	var errs []error
	if o.Timeout < 0 {
		errs = append(errs, errors.New("webhook: Timeout must be positive"))
	}
	if o.BackoffBase < 0 || o.BackoffMax < 0 || o.BackoffMax < o.BackoffBase {
		errs = append(errs, errors.New("webhook: need 0 < BackoffBase <= BackoffMax"))
	}
	if o.MaxAttempts < 1 || o.MaxAttempts > maxAttempts {
		errs = append(errs, errors.New("webhook: MaxAttempts must be 1..100"))
	}
	if o.Concurrency < 1 || o.Concurrency > maxConcurrency {
		errs = append(errs, errors.New("webhook: Concurrency must be 1..256"))
	}
	if o.PollInterval < 0 {
		errs = append(errs, errors.New("webhook: PollInterval must be positive"))
	}
	return errors.Join(errs...)
}
