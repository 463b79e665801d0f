package webhook

import "errors"

// ErrURL is returned by SetEndpoints for an endpoint URL that does not parse,
// is not http or https, or has no host.
var ErrURL = errors.New("webhook: endpoint URL must be http(s)://host/...")

// ErrEndpoint is returned by SetEndpoints for an endpoint with an empty or
// over-long ID (1..64 bytes), a duplicate ID within the site, an empty
// secret or no subscribed event types.
var ErrEndpoint = errors.New("webhook: invalid endpoint")

// ErrEventType is returned for an event type that is not one of the
// Event* constants.
var ErrEventType = errors.New("webhook: unknown event type")

// ErrSite is returned for an empty or over-long site key (1..64 bytes).
var ErrSite = errors.New("webhook: site must be 1..64 bytes")

// ErrEventID is returned by Enqueue for a caller-chosen event id that is
// longer than 64 bytes or holds bytes outside printable ASCII (it travels
// in the Kefu-Event-Id header).
var ErrEventID = errors.New("webhook: event id must be 1..64 printable ASCII bytes")

// ErrNotFound is returned by Retry when the site has no dead letter with
// that event id.
var ErrNotFound = errors.New("webhook: no dead letter with that event id")

// ErrStarted is returned by Start on an Outbox that was already started
// (an Outbox runs once: Start, then Stop).
var ErrStarted = errors.New("webhook: outbox already started")

// ErrCursor is returned by DeadLetters for a cursor it did not issue.
var ErrCursor = errors.New("webhook: invalid cursor")

// ErrSignature is returned by Verify when the Kefu-Signature header is
// malformed or does not match the body and timestamp.
var ErrSignature = errors.New("webhook: signature mismatch")

// ErrTimestamp is returned by Verify when Kefu-Timestamp is not a decimal
// Unix time or lies outside the allowed tolerance from now.
var ErrTimestamp = errors.New("webhook: timestamp missing or outside tolerance")
