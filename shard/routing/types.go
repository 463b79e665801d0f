package routing

import (
	"errors"
	"fmt"
	"math"
)

// Limits on what a Router accepts; inputs past them are refused with
// ErrInvalid and a message naming the field.
const (
	// MaxIDLen is the longest site, agent, group, visitor, conversation or
	// tag id, in bytes.
	MaxIDLen = 128
	// MaxGroupsPerAgent is the most groups one agent may belong to.
	MaxGroupsPerAgent = 64
	// MaxTagsPerGroup is the most tags one group may serve.
	MaxTagsPerGroup = 64
	// MaxCapacity is the largest capacity an agent may have.
	MaxCapacity = 10000
	// MaxWeight is the largest agent weight; the smallest is MinWeight.
	MaxWeight = 1000.0
	// MinWeight is the smallest positive agent weight.
	MinWeight = 0.001
)

// Errors returned by Router methods. Each leaves the Router unchanged.
var (
	// ErrInvalid: an argument is malformed (empty or oversize id, capacity
	// out of range, ...). The wrapped message names the field.
	ErrInvalid = errors.New("routing: invalid argument")
	// ErrUnknownSite: no site with that id was configured with SetSite.
	ErrUnknownSite = errors.New("routing: unknown site")
	// ErrUnknownAgent: the site has no agent with that id.
	ErrUnknownAgent = errors.New("routing: unknown agent")
	// ErrUnknownGroup: the site has no group with that id.
	ErrUnknownGroup = errors.New("routing: unknown group")
	// ErrUnknownConversation: the conversation is not routed here, or
	// belongs to another site (the two are not told apart, so that one
	// site cannot probe another's ids).
	ErrUnknownConversation = errors.New("routing: unknown conversation")
	// ErrDuplicateConversation: Route or Restore named a conversation that
	// is already assigned or queued.
	ErrDuplicateConversation = errors.New("routing: conversation already routed")
	// ErrNoGroup: none of the request's tags has a group and the site has
	// no default group.
	ErrNoGroup = errors.New("routing: no group serves the request and the site has no default group")
	// ErrQueueFull: nobody is free and the site already has its maximum
	// number of conversations waiting. The visitor should be told to come
	// back later; nothing was queued.
	ErrQueueFull = errors.New("routing: every agent is busy and the site's queue is full")
	// ErrAgentUnavailable: the agent is offline (Claim, ClaimNext) or not
	// online (TransferToAgent).
	ErrAgentUnavailable = errors.New("routing: agent is not available")
	// ErrAgentFull: the agent already holds as many conversations as its
	// capacity allows.
	ErrAgentFull = errors.New("routing: agent is at capacity")
	// ErrNotMember: an agent tried to claim a conversation waiting in a
	// group it does not belong to.
	ErrNotMember = errors.New("routing: agent is not a member of the conversation's group")
	// ErrNotQueued: Claim named a conversation that is not waiting.
	ErrNotQueued = errors.New("routing: conversation is not waiting in a queue")
	// ErrQueueEmpty: ClaimNext found nothing waiting in the agent's groups.
	ErrQueueEmpty = errors.New("routing: nothing is waiting in the agent's groups")
	// ErrDefaultGroup: RemoveGroup was asked to remove the site's default
	// group; change the default with SetSite first.
	ErrDefaultGroup = errors.New("routing: the site's default group cannot be removed")
	// ErrNoChange: a transfer would leave the conversation where it is
	// (same agent, or already waiting in that group).
	ErrNoChange = errors.New("routing: the conversation is already there")
)

// Status is an agent's availability.
type Status uint8

// Statuses. The zero value is StatusOffline.
const (
	// StatusOffline: no live connection. The agent takes nothing new and
	// keeps its conversations for Options.OfflineGrace; after that Tick
	// puts them back at the front of their groups' queues.
	StatusOffline Status = iota
	// StatusAway: connected but taking no new conversation (no routing,
	// no transfer to it); keeps what it has and may still claim by hand.
	StatusAway
	// StatusOnline: takes conversations up to its capacity.
	StatusOnline
)

var statusNames = [...]string{StatusOffline: "offline", StatusAway: "away", StatusOnline: "online"}

// String returns "offline", "away" or "online".
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return 0, fmt.Errorf("%w: status %q is not online, away or offline", ErrInvalid, s)
}

// Agent is an agent as the Router sees it. SetAgent reads every field but
// Load; Agent and Agents fill Load in.
type Agent struct {
	ID   string
	Site string
	// Groups the agent serves (skills, language, department). A group
	// named here that was never configured with SetGroup exists from then
	// on but is on no tag ring: conversations reach it as a site default,
	// by transfer or by restore.
	Groups []string
	// Capacity is the most conversations the agent holds at once;
	// 0..MaxCapacity. 0 means "takes nothing" (a supervisor).
	Capacity int
	// Weight scales the agent's share: its load is ranked as
	// Load / (Capacity × Weight), so an agent of weight 2 is offered
	// conversations as if it were half as busy. 0 means 1.
	Weight float64
	Status Status
	// Load is the number of conversations assigned to the agent now.
	// Output only.
	Load int
}

// Group is the routing configuration of an agent group: the visitor tags
// it serves. Members are named by the agents (Agent.Groups).
type Group struct {
	ID   string
	Tags []string
}

// Site is a tenant's routing settings.
type Site struct {
	ID string
	// DefaultGroup receives conversations whose tags match no group.
	// Empty: such conversations are refused with ErrNoGroup.
	DefaultGroup string
	// MaxQueue is the most conversations the site may have waiting, over
	// all its groups; arrivals past it get ErrQueueFull. Conversations
	// already in the system (transferred, unassigned, restored) are never
	// refused. 0 means Options.MaxQueue.
	MaxQueue int
}

// Request asks Route to place a new conversation. The Router keeps the
// Conversation and Visitor strings (not Tags): they must not alias a buffer
// that is reused.
type Request struct {
	Site         string
	Visitor      string
	Conversation string
	// Tags choose the group (level 1): the first tag that some group serves
	// decides, so callers list tags most specific first.
	Tags []string
}

func checkID(field, id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is empty", ErrInvalid, field)
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("%w: %s is longer than %d bytes", ErrInvalid, field, MaxIDLen)
	}
	return nil
}

func (a *Agent) validate() error {
	if err := checkID("agent id", a.ID); err != nil {
		return err
	}
	if err := checkID("site id", a.Site); err != nil {
		return err
	}
	if len(a.Groups) > MaxGroupsPerAgent {
		return fmt.Errorf("%w: agent has %d groups, at most %d allowed", ErrInvalid, len(a.Groups), MaxGroupsPerAgent)
	}
	for _, g := range a.Groups {
		if err := checkID("group id", g); err != nil {
			return err
		}
	}
	if err := checkCapacity(a.Capacity); err != nil {
		return err
	}
	if a.Weight != 0 && (math.IsNaN(a.Weight) || a.Weight < MinWeight || a.Weight > MaxWeight) {
		return fmt.Errorf("%w: weight %v is outside [%v, %v]", ErrInvalid, a.Weight, MinWeight, MaxWeight)
	}
	if a.Status > StatusOnline {
		return fmt.Errorf("%w: unknown status %d", ErrInvalid, a.Status)
	}
	return nil
}

func checkCapacity(c int) error {
	if c < 0 || c > MaxCapacity {
		return fmt.Errorf("%w: capacity %d is outside [0, %d]", ErrInvalid, c, MaxCapacity)
	}
	return nil
}

func (g *Group) validate() error {
	if err := checkID("group id", g.ID); err != nil {
		return err
	}
	if len(g.Tags) > MaxTagsPerGroup {
		return fmt.Errorf("%w: group has %d tags, at most %d allowed", ErrInvalid, len(g.Tags), MaxTagsPerGroup)
	}
	for _, t := range g.Tags {
		if err := checkID("tag", t); err != nil {
			return err
		}
	}
	return nil
}

func (s *Site) validate() error {
	if err := checkID("site id", s.ID); err != nil {
		return err
	}
	if s.DefaultGroup != "" {
		if err := checkID("default group", s.DefaultGroup); err != nil {
			return err
		}
	}
	if s.MaxQueue < 0 {
		return fmt.Errorf("%w: max queue %d is negative", ErrInvalid, s.MaxQueue)
	}
	return nil
}

// validate checks the request without allocating unless it is bad.
func (q *Request) validate() error {
	if err := checkID("site id", q.Site); err != nil {
		return err
	}
	if err := checkID("conversation id", q.Conversation); err != nil {
		return err
	}
	if len(q.Visitor) > MaxIDLen {
		return fmt.Errorf("%w: visitor id is longer than %d bytes", ErrInvalid, MaxIDLen)
	}
	return nil
}
