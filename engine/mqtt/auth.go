package mqtt

import "errors"

// Identity is who a client authenticated as. The Authenticator fills it;
// the Authorizer reads it. It is immutable after CONNECT.
type Identity struct {
	// ClientID is the MQTT client identifier (the assigned one when the
	// client sent none). The broker sets it.
	ClientID string
	// Username is the CONNECT user name, as sent.
	Username string
	// Site is the tenant the client belongs to, if the Authenticator knows.
	Site string
	// Device is the device name within the site, if the Authenticator knows.
	Device string
	// Data is whatever else the Authenticator wants its Authorizer to see.
	Data any
}

// Authenticator checks CONNECT credentials. It runs on an event loop: no
// I/O, no blocking (look credentials up in memory). password aliases the
// connection's read buffer: it is valid only during the call.
//
// Return ErrBadCredentials (or any error) to refuse with 0x86 (3.1.1:
// 0x04), ErrNotAuthorized to refuse with 0x87 (3.1.1: 0x05).
type Authenticator interface {
	AuthenticateMQTT(clientID, username string, password []byte) (Identity, error)
}

// Authorizer decides what an authenticated client may do. It runs on
// event loops, concurrently: no I/O, no blocking. filter is the topic
// filter of a subscription without its "$share/{group}/" prefix.
type Authorizer interface {
	CanSubscribe(id *Identity, filter string) bool
	CanPublish(id *Identity, topic string) bool
}

// Errors an Authenticator returns.
var (
	// ErrBadCredentials refuses a CONNECT with reason 0x86 (0x04 in 3.1.1).
	ErrBadCredentials = errors.New("mqtt: bad user name or password")
	// ErrNotAuthorized refuses a CONNECT with reason 0x87 (0x05 in 3.1.1).
	ErrNotAuthorized = errors.New("mqtt: not authorized")
)
