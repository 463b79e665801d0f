package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/shard/routing"
)

func (a *API) getVisitor(w http.ResponseWriter, r *http.Request, c *caller) error {
	v, err := a.acc.GetVisitor(c.site, r.PathValue("id"))
	if err != nil {
		return asAPIError(err, "visitor")
	}
	return writeJSON(w, http.StatusOK, v)
}

// visitorConversations lists a visitor's conversations, newest first.
func (a *API) visitorConversations(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.acc.GetVisitor(c.site, id); err != nil {
		return asAPIError(err, "visitor")
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	ids, next, err := a.st.VisitorConversations(c.site, id, cursor, limit)
	if err != nil {
		return err
	}
	out := make([]convView, 0, len(ids))
	for _, conv := range ids {
		m, err := a.loadConv(c.site, conv)
		if err != nil {
			if ae, ok := err.(*apiError); ok && ae.code == CodeNotFound {
				continue // indexed, record not committed yet
			}
			return err
		}
		out = append(out, viewConv(m))
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

// SyncDesk gives the routing desk every site, group and agent stored in
// the accounts: call it once at start-up, after the router started and
// before shard.Desk.Restore (which needs the agents to give conversations
// back to them). Later changes made through the API reach the desk as
// they happen.
func (a *API) SyncDesk(ctx context.Context) error {
	for _, s := range a.acc.Sites() {
		if err := a.pushSite(ctx, &s); err != nil {
			return fmt.Errorf("api: desk site %s: %w", s.ID, err)
		}
		if err := a.forEachGroup(s.ID, func(g *accounts.Group) error {
			dctx, cancel := a.deskCtx(ctx)
			defer cancel()
			return a.opts.Desk.SetGroup(dctx, s.ID, routing.Group{ID: g.ID, Tags: g.Tags})
		}); err != nil {
			return fmt.Errorf("api: desk groups of %s: %w", s.ID, err)
		}
		for cursor := ""; ; {
			list, next, err := a.acc.ListAgents(s.ID, cursor, accounts.MaxListLimit)
			if err != nil {
				return err
			}
			for i := range list {
				if err := a.pushAgent(ctx, &list[i]); err != nil {
					return fmt.Errorf("api: desk agent %s of %s: %w", list[i].ID, s.ID, err)
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return nil
}

func (a *API) forEachGroup(site string, fn func(g *accounts.Group) error) error {
	for cursor := ""; ; {
		list, next, err := a.acc.ListGroups(site, cursor, accounts.MaxListLimit)
		if err != nil {
			return err
		}
		for i := range list {
			if err := fn(&list[i]); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
