package shard

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/internal/ring"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
)

// ErrDeskBusy is returned by Desk methods when the desk's ring is full.
var ErrDeskBusy = errors.New("shard: routing desk busy")

// Desk is the routing owner: one goroutine that holds the routing.Router
// (agents, groups, queues, assignments), the agents' presence (their live
// connections) and pushes NOTICE and STATUS envelopes to agent
// connections. Everything reaches it through one bounded MPSC ring of
// Requests, so capacity checks and the assignments they allow happen in
// one step. Its decisions travel to the conversations' shards as OpRouted
// requests; shards tell it about created and closed conversations with
// OpRoute and OpClosed once committed.
type Desk struct {
	r    *Router
	opts *Options
	q    *ring.MPSC[Request]
	note *ring.Notifier

	// Desk goroutine only.
	rt       *routing.Router
	evs      []routing.Event
	reqs     []Request
	agents   map[agentKey]*presence
	bySite   map[string]map[string]*presence
	members  map[string]map[string][]*presence // site → group → agents in it
	open     map[agentKey]string               // verified visitor (site, id) → their open conversation
	sites    map[string]bool
	nextTick time.Time
	bufs     [][]byte
}

type agentKey struct{ site, id string }

// presence is one agent's live connections and chosen status.
type presence struct {
	sinks  []Sink
	away   bool     // set to away (or offline) by hand: connections do not make it online
	groups []string // the agent's groups, as last given to the routing
}

func newDesk(r *Router) (*Desk, error) {
	rt, err := routing.New(r.opts.Routing)
	if err != nil {
		return nil, err
	}
	return &Desk{
		r: r, opts: &r.opts, rt: rt,
		q:       ring.NewMPSC[Request](r.opts.DeskRingSize),
		note:    ring.NewNotifier(),
		reqs:    make([]Request, 0, 256),
		agents:  make(map[agentKey]*presence),
		bySite:  make(map[string]map[string]*presence),
		members: make(map[string]map[string][]*presence),
		open:    make(map[agentKey]string),
		sites:   make(map[string]bool),
	}, nil
}

// SubmitDesk queues req for the desk. It never blocks; false means the
// ring is full or the router is stopping.
func (r *Router) SubmitDesk(req Request) bool {
	if r.stopped.Load() {
		r.m.rejected.Inc()
		return false
	}
	if !r.desk.q.Push(req) {
		r.m.rejected.Inc()
		return false
	}
	r.desk.note.Notify()
	return true
}

// Desk returns the routing desk.
func (r *Router) Desk() *Desk { return r.desk }

// do runs fn on the desk goroutine and waits for it.
func (d *Desk) do(ctx context.Context, fn func(d *Desk) error) error {
	done := make(chan error, 1)
	if !d.r.SubmitDesk(Request{Op: OpFunc, Env: &proto.Envelope{}, Fn: func(d *Desk) { done <- fn(d) }}) {
		return ErrDeskBusy
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SetSite configures a site's routing (default group, queue limit). An
// empty DefaultGroup means Options.DefaultGroup.
func (d *Desk) SetSite(ctx context.Context, s routing.Site) error {
	return d.do(ctx, func(d *Desk) error { return d.setSite(s) })
}

// SetGroup configures a group's tags.
func (d *Desk) SetGroup(ctx context.Context, site string, g routing.Group) error {
	return d.do(ctx, func(d *Desk) error {
		if err := d.ensureSite(site); err != nil {
			return err
		}
		return d.rt.SetGroup(site, g)
	})
}

// RemoveGroup removes a group; its conversations go to the default group.
func (d *Desk) RemoveGroup(ctx context.Context, site, id string) error {
	return d.do(ctx, func(d *Desk) error {
		var err error
		d.evs, err = d.rt.RemoveGroup(d.evs[:0], site, id)
		d.apply()
		return err
	})
}

// SetAgent adds or updates an agent (groups, capacity, weight). Its status
// comes from presence, not from a.Status.
func (d *Desk) SetAgent(ctx context.Context, a routing.Agent) error {
	return d.do(ctx, func(d *Desk) error { return d.setAgent(a) })
}

// RemoveAgent removes an agent; its conversations go back to the queues.
func (d *Desk) RemoveAgent(ctx context.Context, site, id string) error {
	return d.do(ctx, func(d *Desk) error {
		var err error
		d.evs, err = d.rt.RemoveAgent(d.evs[:0], site, id)
		if p := d.agents[agentKey{site, id}]; p != nil && err == nil {
			d.setGroups(site, p, nil)
		}
		d.apply()
		return err
	})
}

// Query runs fn on the desk goroutine, for reads of the routing state.
func (d *Desk) Query(ctx context.Context, fn func(r *routing.Router)) error {
	return d.do(ctx, func(d *Desk) error { fn(d.rt); return nil })
}

func (d *Desk) setSite(s routing.Site) error {
	if s.DefaultGroup == "" {
		s.DefaultGroup = d.opts.DefaultGroup
	}
	if err := d.rt.SetSite(s); err != nil {
		return err
	}
	d.sites[s.ID] = true
	return nil
}

func (d *Desk) ensureSite(site string) error {
	if d.sites[site] {
		return nil
	}
	return d.setSite(routing.Site{ID: site})
}

func (d *Desk) setAgent(a routing.Agent) error {
	if err := d.ensureSite(a.Site); err != nil {
		return err
	}
	if len(a.Groups) == 0 {
		a.Groups = []string{d.opts.DefaultGroup}
	}
	a.Status = d.statusOf(a.Site, a.ID)
	var err error
	d.evs, err = d.rt.SetAgent(d.evs[:0], a, d.r.opts.Now())
	if err == nil {
		d.setGroups(a.Site, d.presenceOf(a.Site, a.ID), a.Groups)
	}
	d.apply()
	return err
}

// setGroups records p's groups and keeps the per-group member index.
func (d *Desk) setGroups(site string, p *presence, groups []string) {
	m := d.members[site]
	if m == nil {
		m = make(map[string][]*presence)
		d.members[site] = m
	}
	for _, g := range p.groups {
		m[g] = slices.DeleteFunc(m[g], func(x *presence) bool { return x == p })
	}
	p.groups = slices.Clone(groups)
	for _, g := range p.groups {
		m[g] = append(m[g], p)
	}
}

// presenceOf returns an agent's presence record, made on first use.
func (d *Desk) presenceOf(site, id string) *presence {
	k := agentKey{site, id}
	p := d.agents[k]
	if p == nil {
		p = &presence{}
		d.agents[k] = p
		m := d.bySite[site]
		if m == nil {
			m = make(map[string]*presence)
			d.bySite[site] = m
		}
		m[id] = p
	}
	return p
}

// statusOf is the status presence gives an agent.
func (d *Desk) statusOf(site, id string) routing.Status {
	p := d.agents[agentKey{site, id}]
	switch {
	case p == nil || len(p.sinks) == 0:
		return routing.StatusOffline
	case p.away:
		return routing.StatusAway
	}
	return routing.StatusOnline
}

func (d *Desk) run() {
	for {
		d.reqs = d.q.PopBatch(d.reqs[:0])
		now := d.opts.Now()
		if len(d.reqs) == 0 {
			select {
			case <-d.r.stop:
				return
			default:
			}
			d.maybeTick(now)
			d.note.Wait(d.r.stop, d.q.Empty)
			continue
		}
		for i := range d.reqs {
			d.handle(&d.reqs[i], now)
			d.reqs[i] = Request{}
		}
		d.maybeTick(now)
	}
}

func (d *Desk) maybeTick(now time.Time) {
	if now.Before(d.nextTick) {
		return
	}
	d.nextTick = now.Add(time.Second)
	d.evs = d.rt.Tick(d.evs[:0], now)
	d.apply()
}

func (d *Desk) handle(req *Request, now time.Time) {
	env := req.Env
	if req.Op == OpOpen {
		d.openReq(req)
		return
	}
	if d.opts.DisableRouting && req.Op != OpFunc && req.Op != OpClosed {
		if req.Op == OpClaim || req.Op == OpTransfer || req.Op == OpStatus {
			d.replyErr(req, proto.Code_CODE_UNSUPPORTED, "routing is disabled on this server")
		}
		return
	}
	switch req.Op {
	case OpFunc:
		req.Fn(d)
	case OpConnect:
		d.connect(req, now)
	case OpDisconnect:
		d.disconnect(req, now)
	case OpStatus:
		d.status(req, now)
	case OpClaim:
		d.claim(req)
	case OpTransfer:
		d.transfer(req)
	case OpRoute:
		d.route(req)
	case OpClosed:
		if d.opts.DisableRouting {
			return
		}
		var err error
		d.evs, err = d.rt.Close(d.evs[:0], req.Who.Site, env.Conversation)
		if err != nil && !errors.Is(err, routing.ErrUnknownConversation) {
			d.opts.Logger.Warn("routing close", "conversation", env.Conversation, "err", err)
		}
		d.apply()
	}
}

// connect registers an agent connection; the first one makes the agent
// online (unless set away by hand). Agents the directory never configured
// join the site's default group with Options.DefaultCapacity.
func (d *Desk) connect(req *Request, now time.Time) {
	who := req.Who
	p := d.presenceOf(who.Site, who.User)
	if !slices.ContainsFunc(p.sinks, func(s Sink) bool { return s.ID() == req.Sink.ID() }) {
		p.sinks = append(p.sinks, req.Sink)
	}
	// The status first, then what coming online causes (queue notices).
	d.write(req.Sink, &proto.Envelope{Type: proto.Type_TYPE_STATUS, Status: d.statusOf(who.Site, who.User).String()})
	if _, ok := d.rt.Agent(who.Site, who.User); !ok {
		err := d.setAgent(routing.Agent{
			ID: who.User, Site: who.Site, Capacity: d.opts.DefaultCapacity, Weight: 1,
		})
		if err != nil {
			d.opts.Logger.Warn("registering agent", "site", who.Site, "agent", who.User, "err", err)
		}
	} else {
		d.setStatus(who, d.statusOf(who.Site, who.User), now)
	}
}

func (d *Desk) disconnect(req *Request, now time.Time) {
	who := req.Who
	p := d.agents[agentKey{who.Site, who.User}]
	if p == nil {
		return
	}
	id := req.Sink.ID()
	p.sinks = slices.DeleteFunc(p.sinks, func(s Sink) bool { return s.ID() == id || s.Closed() })
	if len(p.sinks) == 0 {
		d.setStatus(who, routing.StatusOffline, now)
	}
}

func (d *Desk) setStatus(who *Identity, st routing.Status, now time.Time) {
	var err error
	d.evs, err = d.rt.SetStatus(d.evs[:0], who.Site, who.User, st, now)
	if err != nil {
		d.opts.Logger.Warn("agent status", "site", who.Site, "agent", who.User, "err", err)
	}
	d.apply()
}

func (d *Desk) status(req *Request, now time.Time) {
	who := req.Who
	st, err := routing.ParseStatus(req.Env.Status)
	if err != nil {
		d.replyErr(req, proto.Code_CODE_BAD_REQUEST, err.Error())
		return
	}
	p := d.agents[agentKey{who.Site, who.User}]
	if p == nil || len(p.sinks) == 0 {
		d.replyErr(req, proto.Code_CODE_FORBIDDEN, "agent not connected")
		return
	}
	p.away = st != routing.StatusOnline
	eff := d.statusOf(who.Site, who.User)
	d.reply(req, &proto.Envelope{Type: proto.Type_TYPE_OK, Id: req.Env.Id, Status: eff.String()})
	d.setStatus(who, eff, now)
	for _, s := range p.sinks {
		d.write(s, &proto.Envelope{Type: proto.Type_TYPE_STATUS, Status: eff.String()})
	}
}

func (d *Desk) claim(req *Request) {
	who, env := req.Who, req.Env
	if _, ok := d.rt.Agent(who.Site, who.User); !ok {
		d.replyErr(req, proto.Code_CODE_FORBIDDEN, "agent not registered: connect first")
		return
	}
	var err error
	if env.Conversation == "" {
		d.evs, err = d.rt.ClaimNext(d.evs[:0], who.Site, who.User)
	} else {
		d.evs, err = d.rt.Claim(d.evs[:0], who.Site, who.User, env.Conversation)
	}
	conv := env.Conversation
	for _, ev := range d.evs {
		if ev.Kind == routing.EventAssigned && ev.Agent == who.User {
			conv = ev.Conversation
		}
	}
	if err != nil {
		d.replyRoutingErr(req, err)
	} else {
		d.reply(req, &proto.Envelope{Type: proto.Type_TYPE_OK, Id: env.Id, Conversation: conv})
	}
	d.apply() // after the reply: the claimer sees OK before the notices
}

func (d *Desk) transfer(req *Request) {
	who, env := req.Who, req.Env
	var err error
	if env.Agent != "" {
		d.evs, err = d.rt.TransferToAgent(d.evs[:0], who.Site, env.Conversation, env.Agent)
	} else {
		d.evs, err = d.rt.TransferToGroup(d.evs[:0], who.Site, env.Conversation, env.Group)
	}
	if err != nil && !errors.Is(err, routing.ErrNoChange) {
		d.replyRoutingErr(req, err)
	} else {
		d.reply(req, &proto.Envelope{Type: proto.Type_TYPE_OK, Id: env.Id, Conversation: env.Conversation})
	}
	d.apply()
}

// route places a created conversation.
func (d *Desk) route(req *Request) {
	who, env := req.Who, req.Env
	if err := d.ensureSite(who.Site); err != nil {
		d.opts.Logger.Warn("routing site", "site", who.Site, "err", err)
		return
	}
	var err error
	d.evs, err = d.rt.Route(d.evs[:0], routing.Request{
		Site: who.Site, Visitor: who.User, Conversation: env.Conversation, Tags: env.Tags,
	})
	if err == nil && who.Trust == TrustVerified {
		d.open[agentKey{who.Site, who.User}] = env.Conversation
	}
	if err != nil && !errors.Is(err, routing.ErrDuplicateConversation) {
		// Queue full, or no group: the conversation cannot be served now.
		d.toShard(env.Conversation, &proto.Envelope{Event: "refused", Conversation: env.Conversation, Body: err.Error()}, who)
		return
	}
	d.apply()
}

// openReq resumes a verified visitor's open conversation or creates one.
func (d *Desk) openReq(req *Request) {
	who := req.Who
	if conv, ok := d.open[agentKey{who.Site, who.User}]; ok && who.Trust == TrustVerified {
		env := req.Env
		env.Conversation, env.Seq = conv, 0
		if !d.r.SubmitTo(d.r.ShardOf(conv), Request{Op: OpJoin, Sink: req.Sink, Who: who, Env: env}) {
			d.replyErr(req, proto.Code_CODE_BUSY, "server busy, retry")
		}
		return
	}
	if !d.r.SubmitTo(d.r.ShardOf(req.Env.Conversation), Request{Op: OpCreate, Sink: req.Sink, Who: who, Env: req.Env}) {
		d.replyErr(req, proto.Code_CODE_BUSY, "server busy, retry")
	}
}

// Restore rebuilds the routing state of every conversation that is not
// closed from storage (after a restart): assigned ones to their agent
// when the directory knows it, the others back in their queues, oldest
// first. Call it after the directory's agents were set.
func (d *Desk) Restore(ctx context.Context) (int, error) {
	type item struct {
		meta *proto.Conversation
		at   int64
	}
	var items []item
	err := d.r.store.ScanPrefix([]byte{'c'}, func(_, v []byte) error {
		m := new(proto.Conversation)
		if err := unmarshalConversation(v, m); err != nil {
			return nil // a damaged record is skipped; its shard reports it on load
		}
		if m.State == "queued" || m.State == "open" {
			at := m.QueuedAt
			if at == 0 {
				at = m.Created
			}
			items = append(items, item{m, at})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	slices.SortFunc(items, func(a, b item) int { return int(a.at - b.at) })
	n := 0
	err = d.do(ctx, func(d *Desk) error {
		for _, it := range items {
			m := it.meta
			if err := d.ensureSite(m.Site); err != nil {
				return err
			}
			req := routing.Request{Site: m.Site, Visitor: m.Visitor, Conversation: m.Id, Tags: m.Tags}
			agent := ""
			if m.State == "open" {
				if _, ok := d.rt.Agent(m.Site, m.Agent); ok {
					agent = m.Agent
				}
			}
			group := m.Group
			if group != "" && !d.hasGroup(m.Site, group) {
				group = ""
			}
			var err error
			d.evs, err = d.rt.Restore(d.evs[:0], req, agent, group)
			if err != nil {
				d.opts.Logger.Warn("restoring conversation", "conversation", m.Id, "err", err)
				continue
			}
			if m.VisitorTrust == uint32(TrustVerified) {
				d.open[agentKey{m.Site, m.Visitor}] = m.Id
			}
			d.apply()
			n++
		}
		return nil
	})
	return n, err
}

func (d *Desk) hasGroup(site, group string) bool {
	for _, g := range d.rt.Groups(nil, site) {
		if g.ID == group {
			return true
		}
	}
	return false
}

// apply turns the routing events of the last call into shard requests
// and agent notices.
func (d *Desk) apply() {
	for i := range d.evs {
		ev := &d.evs[i]
		who := NewIdentity(ev.Site, ev.Visitor, proto.Role_ROLE_VISITOR)
		switch ev.Kind {
		case routing.EventAssigned:
			name := ev.Agent
			if d.opts.AgentName != nil {
				if n := d.opts.AgentName(ev.Site, ev.Agent); n != "" {
					name = n
				}
			}
			d.toShard(ev.Conversation, &proto.Envelope{
				Event: "assigned", Conversation: ev.Conversation, Agent: ev.Agent, Group: ev.Group,
				Sender: ev.From, Body: name, Status: ev.Reason.String(),
			}, who)
			d.notify(ev.Site, ev.Agent, ev, "assigned", "open", 0)
			if ev.Reason == routing.ReasonDrain || ev.Reason == routing.ReasonClaim {
				d.notifyGroup(ev, 0)
			}
		case routing.EventQueued:
			d.toShard(ev.Conversation, &proto.Envelope{
				Event: "queued", Conversation: ev.Conversation, Group: ev.Group, Position: uint32(ev.Position),
				Sender: ev.From, Status: ev.Reason.String(),
			}, who)
			d.notifyGroup(ev, ev.Position)
		case routing.EventPositionChanged:
			d.toShard(ev.Conversation, &proto.Envelope{
				Event: "position", Conversation: ev.Conversation, Group: ev.Group, Position: uint32(ev.Position),
			}, who)
		case routing.EventUnassigned:
			d.notify(ev.Site, ev.Agent, ev, "unassigned", "", 0)
		case routing.EventClosed:
			if k := (agentKey{ev.Site, ev.Visitor}); d.open[k] == ev.Conversation {
				delete(d.open, k)
			}
			if ev.Agent != "" {
				d.notify(ev.Site, ev.Agent, ev, "closed", "closed", 0)
			} else {
				d.notifyGroup(ev, 0)
			}
		}
	}
}

func (d *Desk) toShard(conv string, env *proto.Envelope, who *Identity) {
	if !d.r.SubmitTo(d.r.ShardOf(conv), Request{Op: OpRouted, Who: who, Env: env}) {
		// The shard is saturated: the decision stands in the routing state
		// and the conversation's record catches up on its next change.
		d.opts.Logger.Warn("routing decision not delivered: shard busy", "conversation", conv, "event", env.Event)
	}
}

// notify pushes a NOTICE to every connection of one agent.
func (d *Desk) notify(site, agent string, ev *routing.Event, kind, state string, pos int) {
	p := d.agents[agentKey{site, agent}]
	if p == nil || len(p.sinks) == 0 {
		return
	}
	n := &proto.Envelope{
		Type: proto.Type_TYPE_NOTICE, Event: kind, Conversation: ev.Conversation, Agent: ev.Agent,
		Group: ev.Group, State: state, Position: uint32(pos), Sender: "v:" + ev.Visitor,
	}
	for _, s := range p.sinks {
		d.write(s, n)
	}
}

// notifyGroup pushes a "queue" NOTICE to the connected agents of the
// event's group (position 0: the conversation left the queue).
func (d *Desk) notifyGroup(ev *routing.Event, pos int) {
	n := &proto.Envelope{
		Type: proto.Type_TYPE_NOTICE, Event: "queue", Conversation: ev.Conversation, Group: ev.Group,
		Position: uint32(pos), Sender: "v:" + ev.Visitor,
	}
	if pos > 0 {
		n.State = "queued"
	}
	var enc [wire.NumFormats][]byte // encoded once per format, shared by every sink
	for _, p := range d.members[ev.Site][ev.Group] {
		for _, s := range p.sinks {
			f := s.Format()
			if enc[f] == nil {
				enc[f] = d.encode(s, n)
			}
			d.bufs = append(d.bufs[:0], enc[f])
			s.Write(d.bufs)
			d.bufs[0] = nil
		}
	}
}

func (d *Desk) encode(s Sink, env *proto.Envelope) []byte {
	b, err := wire.Append(nil, s.Format(), env, nil)
	if err != nil {
		panic("BUG: encoding a desk envelope: " + err.Error())
	}
	return b
}

// write queues env for s; flushOut hands everything over.
func (d *Desk) write(s Sink, env *proto.Envelope) {
	d.bufs = append(d.bufs[:0], d.encode(s, env))
	s.Write(d.bufs)
	d.bufs[0] = nil
}

func (d *Desk) reply(req *Request, env *proto.Envelope) {
	if req.Sink != nil {
		d.write(req.Sink, env)
	}
}

func (d *Desk) replyErr(req *Request, code proto.Code, msg string) {
	d.r.m.denied.WithLabelValues(proto.CodeName(code)).Inc()
	d.reply(req, &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: req.Env.GetId(), Conversation: req.Env.GetConversation(),
		Error: &proto.Error{Code: code, Message: msg},
	})
}

func (d *Desk) replyRoutingErr(req *Request, err error) {
	code := proto.Code_CODE_BAD_REQUEST
	switch {
	case errors.Is(err, routing.ErrUnknownConversation), errors.Is(err, routing.ErrNotQueued),
		errors.Is(err, routing.ErrQueueEmpty), errors.Is(err, routing.ErrUnknownAgent),
		errors.Is(err, routing.ErrUnknownGroup), errors.Is(err, routing.ErrUnknownSite):
		code = proto.Code_CODE_NOT_FOUND
	case errors.Is(err, routing.ErrAgentFull), errors.Is(err, routing.ErrAgentUnavailable),
		errors.Is(err, routing.ErrNotMember):
		code = proto.Code_CODE_FORBIDDEN
	case errors.Is(err, routing.ErrQueueFull):
		code = proto.Code_CODE_BUSY
	}
	d.replyErr(req, code, err.Error())
}
