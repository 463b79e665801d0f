package accounts

import (
	"errors"
	"fmt"
	"time"

	"github.com/kefu-im/kefu/storage"
)

// Defaults of Options fields.
const (
	DefaultSessionTTL       = 12 * time.Hour
	DefaultSecretGrace      = 24 * time.Hour
	DefaultLoginMaxFailures = 5
	DefaultLoginWindow      = 15 * time.Minute
	DefaultThrottleEntries  = 10000
)

// Options configures Accounts. Every field but Store has a usable zero
// value.
type Options struct {
	// Store holds the records (table 's'). Required. Accounts never closes
	// it.
	Store *storage.Store
	// SessionTTL is how long a login session lasts. Zero value:
	// DefaultSessionTTL (12h).
	SessionTTL time.Duration
	// SecretGrace is how long the previous site secret keeps verifying
	// visitor tokens after RotateSecret. Zero value: DefaultSecretGrace
	// (24h). Negative: the old secret stops working at once.
	SecretGrace time.Duration
	// Argon2 is the cost of new password hashes. Zero value:
	// DefaultArgon2() (m=19456 KiB, t=2, p=1). Existing hashes carry their
	// own parameters and keep verifying when this changes.
	Argon2 Argon2Params
	// LoginMaxFailures is how many failed logins of one (site, email) are
	// allowed per LoginWindow before Login answers ErrThrottled without
	// checking the password. Zero value: DefaultLoginMaxFailures (5).
	LoginMaxFailures int
	// LoginWindow is the throttle window, counted from the first failure.
	// Zero value: DefaultLoginWindow (15m).
	LoginWindow time.Duration
	// ThrottleEntries bounds the memory of the throttle: at most this many
	// (site, email) pairs are tracked; when full, expired entries go first,
	// then the oldest. Zero value: DefaultThrottleEntries (10,000).
	ThrottleEntries int
	// Now is the clock. Zero value: time.Now.
	Now func() time.Time
}

// EnsureDefaults fills zero-valued fields with their defaults.
func (o *Options) EnsureDefaults() {
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.SecretGrace == 0 {
		o.SecretGrace = DefaultSecretGrace
	}
	if o.Argon2 == (Argon2Params{}) {
		o.Argon2 = DefaultArgon2()
	}
	if o.LoginMaxFailures == 0 {
		o.LoginMaxFailures = DefaultLoginMaxFailures
	}
	if o.LoginWindow == 0 {
		o.LoginWindow = DefaultLoginWindow
	}
	if o.ThrottleEntries == 0 {
		o.ThrottleEntries = DefaultThrottleEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Validate reports the first invalid field. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	switch {
	case o.Store == nil:
		return errors.New("accounts: Options.Store is required")
	case o.SessionTTL < 0:
		return fmt.Errorf("accounts: Options.SessionTTL %v must be > 0", o.SessionTTL)
	case o.LoginMaxFailures < 0:
		return fmt.Errorf("accounts: Options.LoginMaxFailures %d must be > 0", o.LoginMaxFailures)
	case o.LoginWindow < 0:
		return fmt.Errorf("accounts: Options.LoginWindow %v must be > 0", o.LoginWindow)
	case o.ThrottleEntries < 0:
		return fmt.Errorf("accounts: Options.ThrottleEntries %d must be > 0", o.ThrottleEntries)
	case o.Now == nil:
		return errors.New("accounts: Options.Now is nil (call EnsureDefaults)")
	}
	return o.Argon2.Validate()
}
