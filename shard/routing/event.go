package routing

import "fmt"

// EventKind says what happened to a conversation.
type EventKind uint8

// Event kinds.
const (
	// EventAssigned: Agent now holds the conversation (its load grew by one).
	EventAssigned EventKind = iota + 1
	// EventQueued: the conversation waits in Group's queue at Position.
	EventQueued
	// EventPositionChanged: a waiting conversation moved to Position.
	EventPositionChanged
	// EventUnassigned: Agent no longer holds the conversation (its load
	// shrank by one); an EventAssigned or EventQueued for the same
	// conversation follows in the same slice.
	EventUnassigned
	// EventClosed: the conversation left the Router; Agent is who held it,
	// empty if it was waiting.
	EventClosed
)

var kindNames = [...]string{
	EventAssigned: "assigned", EventQueued: "queued", EventPositionChanged: "position",
	EventUnassigned: "unassigned", EventClosed: "closed",
}

// String returns the kind's lower-case name.
func (k EventKind) String() string {
	if k != 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Reason says which operation caused an event.
type Reason uint8

// Reasons.
const (
	// ReasonNone: position updates and closes carry no reason.
	ReasonNone Reason = iota
	// ReasonArrival: Route placed a new conversation (levels 1 and 2, or
	// the queue).
	ReasonArrival
	// ReasonAffinity: Route gave a returning visitor their previous agent
	// (level 3).
	ReasonAffinity
	// ReasonDrain: capacity appeared and the conversation left the queue.
	ReasonDrain
	// ReasonClaim: an agent took the conversation from the queue by hand.
	ReasonClaim
	// ReasonTransfer: TransferToAgent or TransferToGroup moved it.
	ReasonTransfer
	// ReasonOffline: its agent stayed offline past the grace period.
	ReasonOffline
	// ReasonRemoved: its agent was removed.
	ReasonRemoved
	// ReasonRegroup: its group was removed; it went to the default group.
	ReasonRegroup
	// ReasonRestore: Restore rebuilt it after a restart.
	ReasonRestore
)

var reasonNames = [...]string{
	ReasonNone: "", ReasonArrival: "arrival", ReasonAffinity: "affinity", ReasonDrain: "drain",
	ReasonClaim: "claim", ReasonTransfer: "transfer", ReasonOffline: "offline",
	ReasonRemoved: "removed", ReasonRegroup: "regroup", ReasonRestore: "restore",
}

// String returns the reason's lower-case name ("" for ReasonNone).
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Event is one change the caller must act on: tell the visitor and the
// agents, persist the assignment. Events of one call are in causal order;
// replaying every event in order reproduces each conversation's state
// (assigned to whom, or queued where) exactly. Strings are the ids the
// Router was given; none aliases a reused buffer.
type Event struct {
	Kind         EventKind
	Reason       Reason
	Site         string
	Conversation string
	Visitor      string
	// Agent: for EventAssigned the agent that holds the conversation now;
	// for EventUnassigned and EventClosed the one that held it.
	Agent string
	// From: for EventQueued and EventAssigned after a transfer, the
	// agent that handed the conversation over (also when it is assigned
	// later, out of the queue it was transferred into). A conversation
	// queued with From set is not offered to that agent again by the queue
	// (it may still claim it).
	From string
	// Group is the conversation's group: where it waits, or the group it
	// was routed through.
	Group string
	// Position is the 1-based place in Group's queue for EventQueued and
	// EventPositionChanged; 0 otherwise.
	Position int
}

// String formats the event for logs and test failures.
func (e Event) String() string {
	s := fmt.Sprintf("%s %s/%s", e.Kind, e.Site, e.Conversation)
	if e.Agent != "" {
		s += " agent=" + e.Agent
	}
	if e.From != "" {
		s += " from=" + e.From
	}
	s += " group=" + e.Group
	if e.Position != 0 {
		s += fmt.Sprintf(" pos=%d", e.Position)
	}
	if e.Reason != ReasonNone {
		s += " (" + e.Reason.String() + ")"
	}
	return s
}
