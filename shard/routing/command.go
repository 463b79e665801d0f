package routing

import (
	"fmt"
	"time"
)

// Op names a Router mutation carried by a Command.
type Op uint8

// Ops, one per mutating method. The Command fields each reads are listed.
const (
	OpRoute           Op = iota + 1 // Route(Request)
	OpClose                         // Close(Site, Conversation)
	OpClaim                         // Claim(Site, Agent.ID, Conversation)
	OpClaimNext                     // ClaimNext(Site, Agent.ID)
	OpTransferToAgent               // TransferToAgent(Site, Conversation, Agent.ID)
	OpTransferToGroup               // TransferToGroup(Site, Conversation, Group)
	OpSetAgent                      // SetAgent(Agent, Now)
	OpSetStatus                     // SetStatus(Site, Agent.ID, Agent.Status, Now)
	OpSetCapacity                   // SetCapacity(Site, Agent.ID, Agent.Capacity)
	OpRemoveAgent                   // RemoveAgent(Site, Agent.ID)
	OpRemoveGroup                   // RemoveGroup(Site, Group)
	OpTick                          // Tick(Now)
	OpSetSite                       // SetSite(SiteConfig)
	OpSetGroup                      // SetGroup(Site, Group{Group, Tags})
	OpQuery                         // Query(r): read state on the owner
)

var opNames = [...]string{
	OpRoute: "route", OpClose: "close", OpClaim: "claim", OpClaimNext: "claim_next",
	OpTransferToAgent: "transfer_to_agent", OpTransferToGroup: "transfer_to_group",
	OpSetAgent: "set_agent", OpSetStatus: "set_status", OpSetCapacity: "set_capacity",
	OpRemoveAgent: "remove_agent", OpRemoveGroup: "remove_group", OpTick: "tick",
	OpSetSite: "set_site", OpSetGroup: "set_group", OpQuery: "query",
}

// String returns the op's snake_case name.
func (o Op) String() string {
	if o != 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// Command is a Router mutation as a value, so that any goroutine can hand
// it to the routing owner through a bounded queue (internal/ring.MPSC)
// and the owner can apply it with Apply. A Command and the strings and
// slices it holds belong to the owner once pushed.
type Command struct {
	Op Op
	// Site is the site of every op but OpRoute (Request.Site) and
	// OpSetAgent (Agent.Site).
	Site         string
	Conversation string
	Group        string
	Request      Request
	// Agent: the whole record for OpSetAgent; for other ops its ID, and
	// Status (OpSetStatus) or Capacity (OpSetCapacity).
	Agent Agent
	// Now is the time for OpSetAgent, OpSetStatus and OpTick.
	Now time.Time
	// Tags are the group's tags for OpSetGroup.
	Tags []string
	// SiteConfig is the site for OpSetSite.
	SiteConfig Site
	// Query runs on the owner goroutine for OpQuery, with the Router, so
	// that another goroutine (a REST handler) can read state: it copies
	// what it needs and hands it back over its own channel. It must not
	// keep the Router nor call its mutating methods.
	Query func(r *Router)
}

// Apply performs cmd and appends its events to dst, as the method named by
// cmd.Op would.
func (r *Router) Apply(dst []Event, cmd *Command) ([]Event, error) {
	switch cmd.Op {
	case OpRoute:
		return r.Route(dst, cmd.Request)
	case OpClose:
		return r.Close(dst, cmd.Site, cmd.Conversation)
	case OpClaim:
		return r.Claim(dst, cmd.Site, cmd.Agent.ID, cmd.Conversation)
	case OpClaimNext:
		return r.ClaimNext(dst, cmd.Site, cmd.Agent.ID)
	case OpTransferToAgent:
		return r.TransferToAgent(dst, cmd.Site, cmd.Conversation, cmd.Agent.ID)
	case OpTransferToGroup:
		return r.TransferToGroup(dst, cmd.Site, cmd.Conversation, cmd.Group)
	case OpSetAgent:
		return r.SetAgent(dst, cmd.Agent, cmd.Now)
	case OpSetStatus:
		return r.SetStatus(dst, cmd.Site, cmd.Agent.ID, cmd.Agent.Status, cmd.Now)
	case OpSetCapacity:
		return r.SetCapacity(dst, cmd.Site, cmd.Agent.ID, cmd.Agent.Capacity)
	case OpRemoveAgent:
		return r.RemoveAgent(dst, cmd.Site, cmd.Agent.ID)
	case OpRemoveGroup:
		return r.RemoveGroup(dst, cmd.Site, cmd.Group)
	case OpTick:
		return r.Tick(dst, cmd.Now), nil
	case OpSetSite:
		return dst, r.SetSite(cmd.SiteConfig)
	case OpSetGroup:
		return dst, r.SetGroup(cmd.Site, Group{ID: cmd.Group, Tags: cmd.Tags})
	case OpQuery:
		if cmd.Query == nil {
			return dst, fmt.Errorf("%w: query without a function", ErrInvalid)
		}
		cmd.Query(r)
		return dst, nil
	}
	return dst, fmt.Errorf("%w: unknown op %d", ErrInvalid, cmd.Op)
}
