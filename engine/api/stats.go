package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/kefu-im/kefu/shard/routing"
	"github.com/kefu-im/kefu/storage"
)

// queueItem is one waiting conversation.
type queueItem struct {
	Conversation string `json:"conversation"`
	Visitor      string `json:"visitor"`
	Group        string `json:"group"`
	// Position is the 1-based place in the group's queue.
	Position int `json:"position"`
	// QueuedAt is when it entered the queue (Unix ms); WaitingMs is how
	// long ago that was.
	QueuedAt  int64    `json:"queued_at"`
	WaitingMs int64    `json:"waiting_ms"`
	Tags      []string `json:"tags"`
}

// queue lists what waits in the caller's groups, longest waiting first.
// It looks at most Options.QueueScan waiting conversations; the cursor is
// an offset into that ordered list.
func (a *API) queue(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	offset := 0
	if cursor != "" {
		if offset, err = strconv.Atoi(cursor); err != nil || offset < 0 {
			return badRequest("invalid cursor")
		}
	}
	ag, err := a.acc.GetAgent(c.site, c.agent)
	if err != nil {
		return err
	}
	scan := a.opts.QueueScan
	var places []routing.Placement
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	err = a.opts.Desk.Query(ctx, func(rt *routing.Router) {
		groups := ag.Groups
		if live, ok := rt.Agent(c.site, c.agent); ok {
			groups = live.Groups // includes the default group the desk gives group-less agents
		}
		for _, g := range groups {
			if len(places) >= scan {
				break
			}
			places = rt.Queue(places, c.site, g, 0, scan-len(places))
		}
	})
	if err != nil {
		return err
	}
	now := a.opts.Now().UnixMilli()
	items := make([]queueItem, 0, len(places))
	for _, p := range places {
		it := queueItem{Conversation: p.Conversation, Visitor: p.Visitor, Group: p.Group, Position: p.Position, Tags: []string{}}
		if m, err := a.loadConv(c.site, p.Conversation); err == nil {
			it.QueuedAt = m.QueuedAt
			if it.QueuedAt == 0 {
				it.QueuedAt = m.Created
			}
			it.WaitingMs = max(0, now-it.QueuedAt)
			if m.Tags != nil {
				it.Tags = m.Tags
			}
		}
		items = append(items, it)
	}
	slices.SortStableFunc(items, func(x, y queueItem) int { return cmp.Compare(x.QueuedAt, y.QueuedAt) })
	if offset > len(items) {
		offset = len(items)
	}
	items = items[offset:]
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = strconv.Itoa(offset + limit)
	}
	return writeJSON(w, http.StatusOK, newPage(items, next))
}

// statsResp is GET /stats. "Today" is the current UTC day.
type statsResp struct {
	ConversationsToday    int   `json:"conversations_today"`
	WaitingNow            int   `json:"waiting_now"`
	AgentsOnline          int   `json:"agents_online"`
	MedianFirstResponseMs int64 `json:"median_first_response_ms"`
	MedianWaitMs          int64 `json:"median_wait_ms"`
	// Sampled is how many of today's conversations (the newest, at most
	// Options.StatsConversations) the medians come from.
	Sampled int `json:"sampled"`
}

// statsCountCap bounds the keys-only count of today's conversations.
const statsCountCap = 1_000_000

// stats: conversations created today (UTC) from the site index; the
// medians over the newest Options.StatsConversations of them: first
// response = first agent message − assignment (or creation), wait =
// assignment − entering the queue (or creation); conversations without
// the later time do not count.
func (a *API) stats(w http.ResponseWriter, r *http.Request, c *caller) error {
	now := a.opts.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).UnixMilli()
	var resp statsResp
	var firsts, waits []int64
	var convs []string
	_, err := a.st.WalkSiteConversations(c.site, "", storage.IndexRange{Since: max(day, 1)}, func(_ int64, conv []byte) (bool, error) {
		resp.ConversationsToday++
		if len(convs) < a.opts.StatsConversations {
			convs = append(convs, string(conv))
		}
		return resp.ConversationsToday == statsCountCap, nil
	})
	if err != nil {
		return err
	}
	for _, id := range convs {
		m, err := a.loadConv(c.site, id)
		if err != nil {
			continue // not committed yet
		}
		resp.Sampled++
		start := m.AssignedAt
		if start == 0 {
			start = m.Created
		}
		if m.FirstResponse > 0 && m.FirstResponse >= start {
			firsts = append(firsts, m.FirstResponse-start)
		}
		if m.AssignedAt > 0 {
			q := m.QueuedAt
			if q == 0 || q > m.AssignedAt {
				q = m.Created
			}
			waits = append(waits, max(0, m.AssignedAt-q))
		}
	}
	resp.MedianFirstResponseMs, resp.MedianWaitMs = median(firsts), median(waits)
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	err = a.opts.Desk.Query(ctx, func(rt *routing.Router) {
		resp.WaitingNow = rt.Waiting(c.site)
		for _, ag := range rt.Agents(nil, c.site) {
			if ag.Status == routing.StatusOnline {
				resp.AgentsOnline++
			}
		}
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resp)
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []int64) int64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
