package routing

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// chooser supplies the harness's decisions: math/rand in the property
// test, fuzz bytes in the fuzz target.
type chooser interface {
	intn(n int) int
	done() bool
}

// harness drives a Router and a model with the same random operations
// and checks them against each other after every step.
type harness struct {
	r     *Router
	m     *model
	ch    chooser
	now   time.Time
	evs   []Event
	ids   []string // every conversation id routed, closed ones included
	next  int
	stats map[string]int
}

var (
	hSites   = []Site{{ID: "A", DefaultGroup: "general", MaxQueue: 12}, {ID: "B", MaxQueue: 6}}
	hGroups  = map[string][]Group{"A": {{ID: "en", Tags: []string{"en", "sales"}}, {ID: "en2", Tags: []string{"en"}}, {ID: "fr", Tags: []string{"fr"}}, {ID: "general"}}, "B": {{ID: "b1", Tags: []string{"x"}}, {ID: "b2", Tags: []string{"x", "y"}}}}
	hGroupID = map[string][]string{"A": {"en", "en2", "fr", "general", "extra"}, "B": {"b1", "b2", "extra"}}
	hAgents  = map[string]int{"A": 8, "B": 4}
	hTags    = map[string][][]string{"A": {nil, {"en"}, {"fr"}, {"sales", "en"}, {"zz"}, {"zz", "fr"}}, "B": {{"x"}, {"y"}, {"zz", "y"}, nil}}
	hWeights = []float64{0, 0.5, 1, 2}
)

func harnessOptions() Options {
	return Options{OfflineGrace: time.Minute, LivePositions: 3, PositionRefresh: 10 * time.Second,
		AffinityEntries: 1000, VirtualNodes: 32}
}

func newHarness(ch chooser) (*harness, error) {
	r, err := New(harnessOptions())
	if err != nil {
		return nil, err
	}
	h := &harness{r: r, m: newModel(r), ch: ch, now: time.Unix(1_700_000_000, 0), stats: map[string]int{}}
	for _, s := range hSites {
		if err := r.SetSite(s); err != nil {
			return nil, err
		}
		h.m.addSite(s)
		for _, g := range hGroups[s.ID] {
			if err := r.SetGroup(s.ID, g); err != nil {
				return nil, err
			}
			h.m.sites[s.ID].groups[g.ID] = true
			h.m.sites[s.ID].touch(g.ID)
		}
		for i := range hAgents[s.ID] {
			if err := h.setAgent(h.randomAgent(s.ID, agentName(s.ID, i))); err != nil {
				return nil, err
			}
		}
	}
	return h, nil
}

func agentName(site string, i int) string { return site + "-a" + strconv.Itoa(i) }

func (h *harness) pick(list []string) string { return list[h.ch.intn(len(list))] }

func (h *harness) randomAgent(site, id string) Agent {
	var groups []string
	for range 1 + h.ch.intn(2) {
		groups = append(groups, h.pick(hGroupID[site]))
	}
	return Agent{ID: id, Site: site, Groups: groups, Capacity: h.ch.intn(5),
		Weight: hWeights[h.ch.intn(len(hWeights))], Status: h.randomStatus()}
}

func (h *harness) randomSite() string { return hSites[h.ch.intn(len(hSites))].ID }

func (h *harness) randomAgentID(site string) string {
	return agentName(site, h.ch.intn(hAgents[site]+1))
}

// randomConv picks a live conversation most of the time, a waiting one
// when queued is set and there is one.
func (h *harness) randomConv(queued bool) string {
	if len(h.ids) == 0 || h.ch.intn(20) == 0 {
		return "nope"
	}
	if h.ch.intn(10) == 0 {
		return h.ids[h.ch.intn(len(h.ids))] // often a closed one
	}
	var live []string
	for id, c := range h.m.convs {
		if !queued || c.queued {
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return "nope"
	}
	slices.Sort(live)
	return live[h.ch.intn(len(live))]
}

// targetAgent picks, half the time, an agent free in group (any group if
// empty), else any agent id of the site (possibly a missing one).
func (h *harness) targetAgent(site, group string) string {
	if h.ch.intn(2) == 0 {
		var ids []string
		for _, a := range h.m.agentList(site) {
			if a.load < a.capacity && a.status != StatusOffline && (group == "" || slices.Contains(a.groups, group)) {
				ids = append(ids, a.id)
			}
		}
		if len(ids) > 0 {
			return ids[h.ch.intn(len(ids))]
		}
	}
	return h.randomAgentID(site)
}

// siteOf is conv's site most of the time, else site.
func (h *harness) siteOf(conv, site string) string {
	if c := h.m.convs[conv]; c != nil && h.ch.intn(10) != 0 {
		return c.site
	}
	return site
}

func (h *harness) randomStatus() Status {
	switch h.ch.intn(10) {
	case 0, 1:
		return StatusOffline
	case 2:
		return StatusAway
	}
	return StatusOnline
}

func (h *harness) count(op Op, err error) {
	if err != nil {
		h.stats[op.String()+" error: "+strings.TrimPrefix(err.Error(), "routing: ")]++
	} else {
		h.stats[op.String()]++
	}
	for _, e := range h.evs {
		h.stats[e.Kind.String()+"/"+e.Reason.String()]++
	}
}

func (h *harness) setAgent(cfg Agent) error {
	return h.command(&Command{Op: OpSetAgent, Agent: cfg, Now: h.now})
}

// command applies cmd to the Router through Apply and to the model:
// it predicts what the rules fix (errors, Route's outcome, ClaimNext's
// pick), applies the configuration change to the model, replays the
// events and compares the states.
func (h *harness) command(cmd *Command) error {
	m := h.m
	k := &call{op: cmd.Op, site: cmd.Site, conv: cmd.Conversation, agent: cmd.Agent.ID, group: cmd.Group, now: cmd.Now}
	var want error
	var wantAgent, wantConv string
	var wantReason Reason
	var removed *magent
	switch cmd.Op {
	case OpRoute:
		req := cmd.Request
		k.site, k.conv, k.visitor = req.Site, req.Conversation, req.Visitor
		var pickErr error
		k.pick, pickErr = h.r.PickGroup(req)
		wantAgent, wantReason, want = m.predictRoute(req, k.pick, pickErr)
	case OpClose:
		if c := m.convs[cmd.Conversation]; c == nil || c.site != cmd.Site {
			want = ErrUnknownConversation
		}
	case OpClaim:
		_, want = m.predictClaim(cmd.Site, cmd.Agent.ID, cmd.Conversation, false)
	case OpClaimNext:
		wantConv, want = m.predictClaim(cmd.Site, cmd.Agent.ID, "", true)
	case OpTransferToAgent:
		want = m.predictTransfer(cmd.Site, cmd.Conversation, cmd.Agent.ID, "", false)
	case OpTransferToGroup:
		want = m.predictTransfer(cmd.Site, cmd.Conversation, "", cmd.Group, true)
	case OpSetAgent:
		k.site = cmd.Agent.Site
		m.setAgent(cmd.Agent, cmd.Now)
	case OpSetStatus, OpSetCapacity, OpRemoveAgent:
		a := m.agent(cmd.Site, cmd.Agent.ID)
		switch {
		case a == nil:
			want = ErrUnknownAgent
		case cmd.Op == OpSetStatus:
			m.setStatus(a, cmd.Agent.Status, cmd.Now)
		case cmd.Op == OpSetCapacity:
			m.setCapacity(a, cmd.Agent.Capacity)
		default:
			m.setStatus(a, StatusOffline, cmd.Now)
			a.groups = nil
			removed = a
		}
	case OpRemoveGroup:
		s := m.sites[cmd.Site]
		switch {
		case !slices.Contains(s.known, cmd.Group):
			want = ErrUnknownGroup
		case cmd.Group == s.def:
			want = ErrDefaultGroup
		default:
			delete(s.groups, cmd.Group)
		}
	}
	due := cmd.Op == OpTick && h.r.queued > 0 && h.r.nextRefresh != 0 && cmd.Now.UnixNano() >= h.r.nextRefresh
	var err error
	h.evs, err = h.r.Apply(h.evs[:0], cmd)
	if e := sameErr(err, want); e != nil {
		return fmt.Errorf("%v: %w", cmd.Op, e)
	}
	h.count(cmd.Op, err)
	if err != nil {
		if len(h.evs) != 0 {
			return fmt.Errorf("%v failed with %v but reported %v", cmd.Op, err, h.evs)
		}
		return m.compare()
	}
	switch {
	case cmd.Op == OpRoute:
		e := h.evs[0]
		if wantAgent != "" && (e.Kind != EventAssigned || e.Agent != wantAgent || e.Reason != wantReason) ||
			wantAgent == "" && e.Kind != EventQueued {
			return fmt.Errorf("route %+v gave %v; want agent %q (%v)", cmd.Request, e, wantAgent, wantReason)
		}
	case cmd.Op == OpClaimNext && (len(h.evs) == 0 || h.evs[0].Conversation != wantConv):
		return fmt.Errorf("ClaimNext took %v, want %s", h.evs, wantConv)
	}
	if err := m.apply(h.evs, k); err != nil {
		return err
	}
	if removed != nil {
		if removed.load != 0 {
			return fmt.Errorf("removed agent %s still holds %d", removed.id, removed.load)
		}
		m.removeAgent(removed)
		for v, id := range m.sites[removed.site].last {
			if id == removed.id {
				delete(m.sites[removed.site].last, v) // a new agent of that id is not the same
			}
		}
		for _, c := range m.convs {
			if c.site == removed.site && c.from == removed.id {
				c.from = ""
			}
		}
	}
	if err := m.compare(); err != nil {
		return err
	}
	if cmd.Op == OpTick {
		if err := m.checkGrace(cmd.Now); err != nil {
			return err
		}
		if due {
			h.stats["refresh"]++
			return m.checkTold()
		}
	}
	return nil
}

// step performs one random operation and checks everything.
func (h *harness) step() error {
	if h.ch.intn(3) == 0 {
		h.now = h.now.Add(time.Duration(h.ch.intn(3000)) * time.Millisecond)
	}
	site := h.randomSite()
	cmd := Command{Site: site, Now: h.now}
	switch op := h.ch.intn(100); {
	case op < 30:
		return h.route(site)
	case op < 52:
		cmd.Op, cmd.Conversation = OpClose, h.randomConv(false)
		cmd.Site = h.siteOf(cmd.Conversation, site) // sometimes the other site, which must fail
	case op < 63:
		cmd.Op, cmd.Agent = OpSetStatus, Agent{ID: h.randomAgentID(site), Status: h.randomStatus()}
	case op < 68:
		cmd.Op, cmd.Agent = OpSetCapacity, Agent{ID: h.randomAgentID(site), Capacity: h.ch.intn(5)}
	case op < 73:
		cmd.Op, cmd.Conversation = OpTransferToAgent, h.randomConv(false)
		cmd.Site = h.siteOf(cmd.Conversation, site)
		cmd.Agent.ID = h.targetAgent(cmd.Site, "")
	case op < 78:
		cmd.Op, cmd.Conversation = OpTransferToGroup, h.randomConv(false)
		cmd.Site = h.siteOf(cmd.Conversation, site)
		cmd.Group = h.pick(append(hGroupID[cmd.Site], "none"))
	case op < 83:
		cmd.Op, cmd.Conversation = OpClaim, h.randomConv(true)
		cmd.Site = h.siteOf(cmd.Conversation, site)
		group := ""
		if c := h.m.convs[cmd.Conversation]; c != nil {
			group = c.group
		}
		cmd.Agent.ID = h.targetAgent(cmd.Site, group)
	case op < 86:
		cmd.Op, cmd.Agent.ID = OpClaimNext, h.targetAgent(site, "")
	case op < 93:
		h.now = h.now.Add(time.Duration(h.ch.intn(40)) * time.Second)
		cmd.Op, cmd.Now = OpTick, h.now
	case op < 96:
		cmd.Op, cmd.Agent = OpSetAgent, h.randomAgent(site, h.randomAgentID(site))
	case op < 98:
		cmd.Op, cmd.Agent.ID = OpRemoveAgent, h.randomAgentID(site)
	default:
		return h.regroup(site)
	}
	return h.command(&cmd)
}

func (h *harness) route(site string) error {
	conv := "c" + strconv.Itoa(h.next)
	if len(h.ids) > 0 && h.ch.intn(25) == 0 {
		conv = h.ids[h.ch.intn(len(h.ids))]
	} else {
		h.next++
		h.ids = append(h.ids, conv)
	}
	visitor := ""
	if h.ch.intn(8) != 0 {
		visitor = "v" + strconv.Itoa(h.ch.intn(20))
	}
	req := Request{Site: site, Visitor: visitor, Conversation: conv, Tags: hTags[site][h.ch.intn(len(hTags[site]))]}
	return h.command(&Command{Op: OpRoute, Request: req})
}

// regroup removes a configured group or configures one again.
func (h *harness) regroup(site string) error {
	groups := hGroups[site]
	g := groups[h.ch.intn(len(groups))]
	s := h.m.sites[site]
	if !s.groups[g.ID] || h.ch.intn(3) != 0 {
		if err := h.r.SetGroup(site, g); err != nil {
			return err
		}
		s.groups[g.ID] = true
		return h.m.compare()
	}
	if err := h.command(&Command{Op: OpRemoveGroup, Site: site, Group: g.ID}); err != nil {
		return err
	}
	if g.ID != s.def && s.def != "" && len(s.queues[g.ID]) != 0 {
		return fmt.Errorf("removed group %s still has %d waiting", g.ID, len(s.queues[g.ID]))
	}
	return nil
}

// drainAll brings every agent online with room and closes everything:
// the Router must end empty.
func (h *harness) drainAll() error {
	for _, a := range slices.Collect(func(yield func(*magent) bool) {
		for _, s := range hSites {
			for _, a := range h.m.agentList(s.ID) {
				if !yield(a) {
					return
				}
			}
		}
	}) {
		cfg := Agent{ID: a.id, Site: a.site, Groups: slices.Concat(a.groups, hGroupID[a.site]), Capacity: MaxCapacity, Weight: a.weight, Status: StatusOnline}
		if err := h.setAgent(cfg); err != nil {
			return err
		}
	}
	ids := slices.Sorted(maps.Keys(h.m.convs))
	for _, id := range ids {
		if err := h.command(&Command{Op: OpClose, Site: h.m.convs[id].site, Conversation: id}); err != nil {
			return err
		}
	}
	st := h.r.Stats()
	sum := func(prefix string) uint64 {
		n := 0
		for k, v := range h.stats {
			if strings.HasPrefix(k, prefix) {
				n += v
			}
		}
		return uint64(n)
	}
	if st.Held != 0 || st.Waiting != 0 || st.Assigned != sum("assigned/") || st.Queued != sum("queued/") ||
		st.Unassigned != sum("unassigned/") || st.Closed != sum("closed/") ||
		st.Routed != uint64(h.stats["route"]) || st.Refused != sum("route error: every agent is busy") {
		return fmt.Errorf("stats %+v disagree with the events seen %v", st, h.stats)
	}
	if len(h.r.convs) != 0 || h.r.queued != 0 {
		return fmt.Errorf("router not empty: %d conversations, %d waiting", len(h.r.convs), h.r.queued)
	}
	for _, a := range h.m.agents {
		if a.load != 0 {
			return fmt.Errorf("agent %s/%s holds %d after closing everything", a.site, a.id, a.load)
		}
	}
	return nil
}
