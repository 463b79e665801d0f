package mqtt

// Store persists what must survive a restart: sessions that outlive their
// connection and retained messages. The broker keeps the live state in
// memory and writes through to the Store:
//
//   - SaveRetained / DeleteRetained when a retained message is set,
//     replaced or deleted (on the publisher's event loop);
//   - SaveSession when a persistent session goes offline and, for every
//     session left, from Broker.Close; DeleteSession when a session ends
//     (clean start, expiry) — from event loops and Broker.Tick;
//   - Load once, from NewBroker.
//
// Methods other than Load are called on event loops: they must not block
// (no disk I/O in the call — queue the write to the store's own writer
// goroutine) and must be safe for concurrent use. The values passed are
// immutable snapshots the Store may keep. An error is logged and counted;
// the broker carries on from memory.
type Store interface {
	SaveRetained(m *Message) error
	DeleteRetained(topic string) error
	SaveSession(s *SessionState) error
	DeleteSession(clientID string) error
	// Load calls retained for every stored retained message and session
	// for every stored session, then returns.
	Load(retained func(*Message), session func(*SessionState)) error
}

// SessionState is a snapshot of a session, as stored.
type SessionState struct {
	ClientID string
	// Version is the protocol level of its last connection (4 or 5).
	Version byte
	// Expiry is the session expiry interval, in nanoseconds.
	Expiry int64
	// ExpiresAt is when the session expires unless a client resumes it,
	// Unix nanoseconds; 0 while a client is connected.
	ExpiresAt     int64
	Subscriptions []StoredSubscription
	// Inflight are QoS 1/2 deliveries sent and not yet acknowledged, in
	// send order, with their packet identifiers.
	Inflight []StoredDelivery
	// Queued are deliveries not sent yet, in order.
	Queued []StoredDelivery
	// AwaitingRelease are the packet identifiers of inbound QoS 2 PUBLISH
	// acknowledged with PUBREC and waiting for PUBREL.
	AwaitingRelease []uint16
	// Will is a delayed will waiting to be published at WillAt (Unix
	// ns), or nil; WillExpiry is its Message Expiry Interval in ns, counted
	// from publication.
	Will       *Message
	WillAt     int64
	WillExpiry int64
}

// StoredSubscription is one subscription of a stored session.
type StoredSubscription struct {
	// Filter is the filter as subscribed, with its $share/{group}/ prefix.
	Filter            string
	QoS               byte
	NoLocal           bool
	RetainAsPublished bool
	RetainHandling    byte
	ID                uint32
}

// StoredDelivery is one message on its way to a stored session.
type StoredDelivery struct {
	Message  *Message
	QoS      byte
	Retain   bool
	SubIDs   []uint32
	PacketID uint16
	// Released is set for QoS 2 deliveries whose PUBREC arrived: the
	// broker owes a PUBREL, not a PUBLISH.
	Released bool
}
