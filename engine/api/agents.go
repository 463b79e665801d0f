package api

import (
	"context"
	"net/http"
	"time"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard/routing"
)

// agentView is an agent as the API shows it: the account plus its live
// routing state.
type agentView struct {
	ID       string        `json:"id"`
	Email    string        `json:"email"`
	Name     string        `json:"name"`
	Role     accounts.Role `json:"role"`
	Groups   []string      `json:"groups"`
	Capacity int           `json:"capacity"`
	Weight   int           `json:"weight"`
	Created  time.Time     `json:"created"`
	// Status is online, away or offline (presence, from the desk).
	Status string `json:"status"`
	// Load is the number of conversations assigned now.
	Load int `json:"load"`
}

func viewAgent(ag *accounts.Agent, live map[string]routing.Agent) agentView {
	v := agentView{ID: ag.ID, Email: ag.Email, Name: ag.Name, Role: ag.Role, Groups: ag.Groups,
		Capacity: ag.Capacity, Weight: ag.Weight, Created: ag.Created, Status: routing.StatusOffline.String()}
	if v.Groups == nil {
		v.Groups = []string{}
	}
	if l, ok := live[ag.ID]; ok {
		v.Status, v.Load = l.Status.String(), l.Load
	}
	return v
}

// liveAgents returns the desk's view of the site's agents by id.
func (a *API) liveAgents(ctx context.Context, site string) (map[string]routing.Agent, error) {
	ctx, cancel := a.deskCtx(ctx)
	defer cancel()
	var list []routing.Agent
	if err := a.opts.Desk.Query(ctx, func(r *routing.Router) { list = r.Agents(nil, site) }); err != nil {
		return nil, err
	}
	m := make(map[string]routing.Agent, len(list))
	for _, ag := range list {
		m[ag.ID] = ag
	}
	return m, nil
}

// routingAgent is the desk's form of an account.
func routingAgent(ag *accounts.Agent) routing.Agent {
	return routing.Agent{ID: ag.ID, Site: ag.Site, Groups: ag.Groups, Capacity: ag.Capacity, Weight: float64(ag.Weight)}
}

type loginReq struct {
	Site     string `json:"site"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

type loginResp struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Agent     agentView `json:"agent"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req loginReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Site == "" || req.Email == "" || req.Password == "" {
		return badRequest("site, email and password are required")
	}
	s, err := a.acc.Login(req.Site, req.Email, req.Password)
	if err != nil {
		if asAPIError(err, "").code == CodeBadRequest { // a malformed site id
			return errf(http.StatusUnauthorized, CodeUnauthenticated, "bad email or password")
		}
		return err
	}
	ag, err := a.acc.GetAgent(s.Site, s.AgentID)
	if err != nil {
		return err
	}
	live, err := a.liveAgents(r.Context(), s.Site)
	if err != nil {
		live = nil // the session exists: report the agent without live state
	}
	return writeJSON(w, http.StatusOK, loginResp{Token: s.Token, ExpiresAt: s.Expires, Agent: viewAgent(&ag, live)})
}

func (a *API) logout(w http.ResponseWriter, _ *http.Request, c *caller) error {
	if err := a.acc.Logout(c.token); err != nil {
		return err
	}
	return noContent(w)
}

type meResp struct {
	Site  string    `json:"site"`
	Agent agentView `json:"agent"`
}

func (a *API) me(w http.ResponseWriter, r *http.Request, c *caller) error {
	ag, err := a.acc.GetAgent(c.site, c.agent)
	if err != nil {
		return err
	}
	live, err := a.liveAgents(r.Context(), c.site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, meResp{Site: c.site, Agent: viewAgent(&ag, live)})
}

type statusReq struct {
	Status string `json:"status"`
}

// setStatus is STATUS as on the console's connection: it needs one (the
// desk answers forbidden "agent not connected" otherwise).
func (a *API) setStatus(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req statusReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Status != "online" && req.Status != "away" {
		return badRequest("status must be online or away")
	}
	rep, err := a.call(r.Context(), c, &proto.Envelope{Type: proto.Type_TYPE_STATUS, Status: req.Status})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, statusReq{Status: rep.GetStatus()})
}

func (a *API) listAgents(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	list, next, err := a.acc.ListAgents(c.site, cursor, limit)
	if err != nil {
		return err
	}
	live, err := a.liveAgents(r.Context(), c.site)
	if err != nil {
		return err
	}
	out := make([]agentView, len(list))
	for i := range list {
		out[i] = viewAgent(&list[i], live)
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

type createAgentReq struct {
	Email    string        `json:"email"`
	Name     string        `json:"name"`
	Role     accounts.Role `json:"role"`
	Groups   []string      `json:"groups"`
	Capacity int           `json:"capacity"`
	Weight   int           `json:"weight"`
}

type agentWithPassword struct {
	Agent agentView `json:"agent"`
	// Password is the one-time password, shown only in this response.
	Password string `json:"password"`
}

func (a *API) createAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req createAgentReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.Email == "" {
		return badRequest("email is required")
	}
	if req.Capacity < 0 || req.Weight < 0 {
		return badRequest("capacity and weight must not be negative")
	}
	ag, pw, err := a.acc.CreateAgent(c.site, accounts.AgentSpec{Email: req.Email, Name: req.Name, Role: req.Role,
		Groups: req.Groups, Capacity: req.Capacity, Weight: req.Weight})
	if err != nil {
		return err
	}
	if err := a.pushAgent(r.Context(), &ag); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, agentWithPassword{Agent: viewAgent(&ag, nil), Password: pw})
}

// pushAgent tells the desk about a created or changed agent.
func (a *API) pushAgent(ctx context.Context, ag *accounts.Agent) error {
	ctx, cancel := a.deskCtx(ctx)
	defer cancel()
	return a.opts.Desk.SetAgent(ctx, routingAgent(ag))
}

func (a *API) getAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	ag, err := a.acc.GetAgent(c.site, r.PathValue("id"))
	if err != nil {
		return asAPIError(err, "agent")
	}
	live, err := a.liveAgents(r.Context(), c.site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewAgent(&ag, live))
}

type patchAgentReq struct {
	Email    *string        `json:"email"`
	Name     *string        `json:"name"`
	Role     *accounts.Role `json:"role"`
	Groups   *[]string      `json:"groups"`
	Capacity *int           `json:"capacity"`
	Weight   *int           `json:"weight"`
}

func (a *API) patchAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.acc.GetAgent(c.site, id); err != nil {
		return asAPIError(err, "agent")
	}
	var req patchAgentReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if id == c.agent && req.Role != nil && *req.Role != accounts.RoleAdmin {
		return errf(http.StatusConflict, CodeConflict, "you cannot take the admin role from yourself")
	}
	ag, err := a.acc.UpdateAgent(c.site, id, accounts.AgentUpdate{Email: req.Email, Name: req.Name, Role: req.Role,
		Groups: req.Groups, Capacity: req.Capacity, Weight: req.Weight})
	if err != nil {
		return asAPIError(err, "agent")
	}
	if err := a.pushAgent(r.Context(), &ag); err != nil {
		return err
	}
	live, err := a.liveAgents(r.Context(), c.site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewAgent(&ag, live))
}

func (a *API) deleteAgent(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if _, err := a.acc.GetAgent(c.site, id); err != nil {
		return asAPIError(err, "agent")
	}
	if id == c.agent {
		return errf(http.StatusConflict, CodeConflict, "you cannot delete yourself")
	}
	if err := a.acc.DeleteAgent(c.site, id); err != nil {
		return asAPIError(err, "agent")
	}
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	if err := a.opts.Desk.RemoveAgent(ctx, c.site, id); err != nil && asAPIError(err, "").code != CodeNotFound {
		return err
	}
	return noContent(w)
}

type passwordResp struct {
	Password string `json:"password"`
}

func (a *API) resetPassword(w http.ResponseWriter, r *http.Request, c *caller) error {
	pw, err := a.acc.SetPassword(c.site, r.PathValue("id"), "")
	if err != nil {
		return asAPIError(err, "agent")
	}
	return writeJSON(w, http.StatusOK, passwordResp{Password: pw})
}
