package api

import (
	"net/http"
	"time"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/shard/routing"
)

// groupView is a group with its live counts from the desk.
type groupView struct {
	ID      string    `json:"id"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	Members int       `json:"members"`
	Online  int       `json:"online"`
	Free    int       `json:"free"`
	Waiting int       `json:"waiting"`
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	list, next, err := a.acc.ListGroups(c.site, cursor, limit)
	if err != nil {
		return err
	}
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	var infos []routing.GroupInfo
	if err := a.opts.Desk.Query(ctx, func(rt *routing.Router) { infos = rt.Groups(nil, c.site) }); err != nil {
		return err
	}
	live := make(map[string]routing.GroupInfo, len(infos))
	for _, g := range infos {
		live[g.ID] = g
	}
	out := make([]groupView, len(list))
	for i, g := range list {
		l := live[g.ID]
		out[i] = groupView{ID: g.ID, Tags: g.Tags, Created: g.Created, Updated: g.Updated,
			Members: l.Members, Online: l.Online, Free: l.Free, Waiting: l.Waiting}
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

type putGroupReq struct {
	Tags []string `json:"tags"`
}

// putGroup creates or replaces a group of the caller's site (an upsert:
// the id names a group of this site only).
func (a *API) putGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req putGroupReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if len(req.Tags) > routing.MaxTagsPerGroup {
		return badRequest("at most %d tags", routing.MaxTagsPerGroup)
	}
	g, err := a.acc.PutGroup(c.site, r.PathValue("id"), req.Tags)
	if err != nil {
		return err
	}
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	if err := a.opts.Desk.SetGroup(ctx, c.site, routing.Group{ID: g.ID, Tags: g.Tags}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, groupView{ID: g.ID, Tags: g.Tags, Created: g.Created, Updated: g.Updated})
}

func (a *API) deleteGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.acc.GetGroup(c.site, id); err != nil {
		return asAPIError(err, "group")
	}
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	// The desk first: it refuses to remove the site's default group.
	if err := a.opts.Desk.RemoveGroup(ctx, c.site, id); err != nil && asAPIError(err, "").code != CodeNotFound {
		return err
	}
	if err := a.acc.DeleteGroup(c.site, id); err != nil {
		return asAPIError(err, "group")
	}
	return noContent(w)
}

func (a *API) listCanned(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	list, next, err := a.acc.ListCanned(c.site, cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(list, next))
}

func (a *API) cannedByShortcut(w http.ResponseWriter, r *http.Request, c *caller) error {
	cn, err := a.acc.CannedByShortcut(c.site, r.PathValue("shortcut"))
	if err != nil {
		return asAPIError(err, "canned reply")
	}
	return writeJSON(w, http.StatusOK, cn)
}

type cannedReq struct {
	Shortcut string `json:"shortcut"`
	Title    string `json:"title"`
	Body     string `json:"body"`
}

func (a *API) createCanned(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req cannedReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	cn, err := a.acc.CreateCanned(c.site, accounts.CannedSpec(req))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, cn)
}

func (a *API) updateCanned(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.acc.GetCanned(c.site, id); err != nil {
		return asAPIError(err, "canned reply")
	}
	var req cannedReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	cn, err := a.acc.UpdateCanned(c.site, id, accounts.CannedSpec(req))
	if err != nil {
		return asAPIError(err, "canned reply")
	}
	return writeJSON(w, http.StatusOK, cn)
}

func (a *API) deleteCanned(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.acc.DeleteCanned(c.site, r.PathValue("id")); err != nil {
		return asAPIError(err, "canned reply")
	}
	return noContent(w)
}
