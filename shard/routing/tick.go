package routing

import (
	"slices"
	"time"
)

// Tick does the Router's time-driven work as of now and appends what
// happened to dst; the Router has no timers, so the owner calls Tick
// periodically (every second is plenty; NextDeadline says when it is
// next needed):
//
//   - agents offline for at least Options.OfflineGrace lose their
//     conversations (EventUnassigned, ReasonOffline), which go to a free
//     agent of their group or to the front of its queue: agent by agent
//     in the order they went offline, oldest assignment first, so the
//     first agent's oldest conversation ends up at the very front;
//   - every Options.PositionRefresh, waiting conversations behind the live
//     places whose position changed since last told get
//     EventPositionChanged.
func (r *Router) Tick(dst []Event, now time.Time) []Event {
	ns := now.UnixNano()
	grace := int64(r.opts.OfflineGrace)
	r.expired = r.expired[:0]
	for i := 0; i < len(r.offline); {
		a := r.offline[i]
		if ns-a.offSince < grace {
			i++
			continue
		}
		r.offline = slices.Delete(r.offline, i, i+1)
		a.pending = false
		r.expired = append(r.expired, a)
	}
	if len(r.expired) > 0 {
		dst = r.unassignAll(dst, r.expired, ReasonOffline)
		clear(r.expired)
	}
	dst = r.finish(dst)
	if r.queued == 0 {
		r.nextRefresh = 0
		return dst
	}
	if r.nextRefresh == 0 {
		r.nextRefresh = ns + int64(r.opts.PositionRefresh)
	}
	if ns >= r.nextRefresh {
		dst = r.refreshPositions(dst)
		r.nextRefresh = ns + int64(r.opts.PositionRefresh)
	}
	return dst
}

// refreshPositions reports every waiting conversation whose position
// changed since it was last told.
func (r *Router) refreshPositions(dst []Event) []Event {
	for _, s := range r.siteList {
		if s.queued == 0 {
			continue
		}
		for _, g := range s.groupList {
			pos := 0
			for j := g.q.lo; j < g.q.hi; j++ {
				if c := g.q.slots[j]; c != nil {
					pos++
					if c.told != pos {
						dst = r.moved(dst, c, pos)
					}
				}
			}
		}
	}
	return dst
}

// NextDeadline returns when Tick next has work: the earliest end of an
// offline grace, or the next position refresh while conversations wait.
// ok is false when Tick has nothing to do until the state changes; the
// zero time means "now" (conversations wait and the refresh is not armed).
func (r *Router) NextDeadline() (t time.Time, ok bool) {
	var best int64
	for _, a := range r.offline {
		if d := a.offSince + int64(r.opts.OfflineGrace); !ok || d < best {
			best, ok = d, true
		}
	}
	if r.queued > 0 {
		if r.nextRefresh == 0 {
			return time.Time{}, true // not armed yet: tick now
		}
		if !ok || r.nextRefresh < best {
			best, ok = r.nextRefresh, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, best), true
}
