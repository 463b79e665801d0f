package accounts

import "errors"

// Errors. Callers compare with errors.Is; validation errors wrap ErrInvalid
// with a message naming the field.
var (
	// ErrNotFound means no site or agent with that id exists in the site the
	// call is scoped to. An id of another site is reported the same way, so
	// a caller can never learn that it exists.
	ErrNotFound = errors.New("accounts: not found")
	// ErrSiteExists means CreateSite was given an id already in use.
	ErrSiteExists = errors.New("accounts: site already exists")
	// ErrEmailTaken means another agent of the same site has that email
	// (compared case-insensitively).
	ErrEmailTaken = errors.New("accounts: email already used in this site")
	// ErrInvalid means an argument failed validation; the wrapping error
	// names the field.
	ErrInvalid = errors.New("accounts: invalid argument")
	// ErrBadCredentials means Login was given an unknown email or a wrong
	// password; the two are deliberately indistinguishable.
	ErrBadCredentials = errors.New("accounts: bad email or password")
	// ErrThrottled means too many failed logins for this (site, email) in
	// the throttle window; the caller should answer 429 and retry later.
	ErrThrottled = errors.New("accounts: too many failed logins, try later")
	// ErrInvalidSession means the session token is malformed, unknown,
	// logged out, or belongs to an agent that was deleted or whose password
	// changed since the login.
	ErrInvalidSession = errors.New("accounts: invalid session")
	// ErrSessionExpired means the session token was valid but its expiry
	// has passed.
	ErrSessionExpired = errors.New("accounts: session expired")
	// ErrBadHash means a stored password hash is not a PHC argon2id string
	// this package can verify.
	ErrBadHash = errors.New("accounts: malformed password hash")
	// ErrCorrupt means a stored record does not decode.
	ErrCorrupt = errors.New("accounts: corrupt record")
	// ErrShortcutTaken means another canned reply of the same site has
	// that shortcut (compared case-insensitively).
	ErrShortcutTaken = errors.New("accounts: shortcut already used in this site")
	// ErrTooMany means a per-site limit on a kind of record (webhook
	// endpoints) would be exceeded.
	ErrTooMany = errors.New("accounts: too many records of this kind in the site")
)
