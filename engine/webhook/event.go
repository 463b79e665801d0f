package webhook

import (
	"net/url"
	"slices"
	"time"
)

// EventType names what happened; it is sent in Kefu-Event-Type and in the
// body's "type" field.
type EventType string

// The event types an endpoint can subscribe to.
const (
	EventConversationCreated  EventType = "conversation.created"
	EventConversationAssigned EventType = "conversation.assigned"
	EventConversationClosed   EventType = "conversation.closed"
	EventMessageCreated       EventType = "message.created"
	EventConversationRated    EventType = "conversation.rated"
)

// EventTypes lists every event type, in documentation order.
var EventTypes = [...]EventType{
	EventConversationCreated, EventConversationAssigned, EventConversationClosed,
	EventMessageCreated, EventConversationRated,
}

// Valid reports whether t is one of the Event* constants.
func (t EventType) Valid() bool {
	return slices.Contains(EventTypes[:], t)
}

// Length limits of identifiers.
const (
	MaxSiteLen       = 64
	MaxEndpointIDLen = 64
	MaxEventIDLen    = 64
)

// Endpoint is one receiver of a site's events.
type Endpoint struct {
	// ID names the endpoint within its site (1..64 bytes). Pending
	// deliveries refer to it, so a changed URL or rotated secret applies to
	// deliveries not yet made.
	ID string
	// URL is where events are POSTed: http or https with a host.
	URL string
	// Secret is the HMAC-SHA256 key of Kefu-Signature. Non-empty; use at
	// least 32 random bytes.
	Secret string
	// Events are the subscribed event types (at least one).
	Events []EventType
}

// Subscribed reports whether e receives events of type t.
func (e *Endpoint) Subscribed(t EventType) bool {
	return slices.Contains(e.Events, t)
}

// Validate checks the endpoint's fields (ErrEndpoint, ErrURL, ErrEventType).
func (e *Endpoint) Validate() error {
	if len(e.ID) == 0 || len(e.ID) > MaxEndpointIDLen || e.Secret == "" || len(e.Events) == 0 {
		return ErrEndpoint
	}
	if err := ValidURL(e.URL); err != nil {
		return err
	}
	for _, t := range e.Events {
		if !t.Valid() {
			return ErrEventType
		}
	}
	return nil
}

// ValidURL returns ErrURL unless raw is an absolute http or https URL with
// a host.
func ValidURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return ErrURL
	}
	return nil
}

// Event is one occurrence to deliver to the site's subscribed endpoints.
type Event struct {
	// ID is the event id sent as Kefu-Event-Id, the same on every attempt
	// and every endpoint. Zero value: a random id ("evt_" + 32 hex digits).
	// A caller that may enqueue the same occurrence twice (say, after a
	// crash before its own commit) can pass a deterministic id instead.
	ID string
	// Type is one of the Event* constants.
	Type EventType
	// Site is the tenant whose endpoints receive the event.
	Site string
	// Data is marshalled with encoding/json into the body's "data" field
	// (a json.RawMessage passes through as is).
	Data any
	// Time is the body's "created_at". Zero value: Options.Now().
	Time time.Time
}

// body is the JSON document POSTed to endpoints.
type body struct {
	ID        string    `json:"id"`
	Type      EventType `json:"type"`
	Site      string    `json:"site"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

func validSite(site string) error {
	if len(site) == 0 || len(site) > MaxSiteLen {
		return ErrSite
	}
	return nil
}

func validEventID(id string) error {
	if len(id) == 0 || len(id) > MaxEventIDLen {
		return ErrEventID
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return ErrEventID
		}
	}
	return nil
}
