package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/shard/routing"
)

// siteView is a site as its admins see it, secret included (they sign
// verified visitors with it).
type siteView struct {
	ID       string            `json:"id"`
	Origins  []string          `json:"origins"`
	Settings accounts.Settings `json:"settings"`
	Created  time.Time         `json:"created"`
	Secret   string            `json:"secret"`
	// PrevSecretUntil is when the secret before the last rotation stops
	// verifying; absent when none does.
	PrevSecretUntil *time.Time `json:"prev_secret_until,omitempty"`
}

func viewSite(s *accounts.Site, now time.Time) siteView {
	v := siteView{ID: s.ID, Origins: s.Origins, Settings: s.Settings, Created: s.Created, Secret: s.Secret}
	if v.Origins == nil {
		v.Origins = []string{}
	}
	if s.PrevSecret != "" && now.Before(s.PrevUntil) {
		t := s.PrevUntil
		v.PrevSecretUntil = &t
	}
	return v
}

func (a *API) getSite(w http.ResponseWriter, _ *http.Request, c *caller) error {
	s, err := a.acc.GetSite(c.site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewSite(&s, a.opts.Now()))
}

type patchSiteReq struct {
	Origins  *[]string `json:"origins"`
	Settings *struct {
		OfflineMessage *string `json:"offline_message"`
		QueueMessage   *string `json:"queue_message"`
		MaxQueue       *int    `json:"max_queue"`
	} `json:"settings"`
}

// patchSite changes the fields given: origins replace the list, settings
// fields replace theirs. The desk learns the new queue limit.
func (a *API) patchSite(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req patchSiteReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	s, err := a.acc.GetSite(c.site)
	if err != nil {
		return err
	}
	origins, set := s.Origins, s.Settings
	if req.Origins != nil {
		origins = slices.Clone(*req.Origins)
	}
	if st := req.Settings; st != nil {
		if st.OfflineMessage != nil {
			set.OfflineMessage = *st.OfflineMessage
		}
		if st.QueueMessage != nil {
			set.QueueMessage = *st.QueueMessage
		}
		if st.MaxQueue != nil {
			set.MaxQueue = *st.MaxQueue
		}
	}
	s, err = a.acc.UpdateSite(c.site, origins, set)
	if err != nil {
		return err
	}
	ctx, cancel := a.deskCtx(r.Context())
	defer cancel()
	if err := a.opts.Desk.SetSite(ctx, routing.Site{ID: s.ID, MaxQueue: s.Settings.MaxQueue}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewSite(&s, a.opts.Now()))
}

func (a *API) rotateSecret(w http.ResponseWriter, _ *http.Request, c *caller) error {
	s, err := a.acc.RotateSecret(c.site)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, viewSite(&s, a.opts.Now()))
}

// webhookView is an endpoint configuration; the secret is shown only in
// the response that creates it.
type webhookView struct {
	ID      string              `json:"id"`
	URL     string              `json:"url"`
	Events  []webhook.EventType `json:"events"`
	Created time.Time           `json:"created"`
	Secret  string              `json:"secret,omitempty"`
}

func (a *API) listWebhooks(w http.ResponseWriter, r *http.Request, c *caller) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	list, err := a.acc.Webhooks(c.site)
	if err != nil {
		return err
	}
	out := make([]webhookView, 0, len(list))
	for _, h := range list {
		if h.ID > cursor {
			out = append(out, webhookView{ID: h.ID, URL: h.URL, Events: h.Events, Created: h.Created})
		}
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

type createWebhookReq struct {
	URL    string              `json:"url"`
	Events []webhook.EventType `json:"events"`
	Secret string              `json:"secret"`
}

func (a *API) createWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	var req createWebhookReq
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.URL == "" || len(req.Events) == 0 {
		return badRequest("url and events are required (events: %v)", webhook.EventTypes)
	}
	for _, e := range req.Events {
		if !e.Valid() {
			return badRequest("unknown event %q (known: %v)", e, webhook.EventTypes)
		}
	}
	if webhook.ValidURL(req.URL) != nil {
		return badRequest("url must be an absolute http or https URL")
	}
	h, err := a.acc.CreateWebhook(c.site, accounts.WebhookSpec{URL: req.URL, Events: req.Events, Secret: req.Secret})
	if err != nil {
		return err
	}
	if err := a.reloadEndpoints(c.site); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, webhookView{ID: h.ID, URL: h.URL, Events: h.Events, Created: h.Created, Secret: h.Secret})
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := a.acc.DeleteWebhook(c.site, r.PathValue("id")); err != nil {
		return asAPIError(err, "webhook")
	}
	if err := a.reloadEndpoints(c.site); err != nil {
		return err
	}
	return noContent(w)
}

// reloadEndpoints gives the outbox the site's stored endpoints.
func (a *API) reloadEndpoints(site string) error {
	if a.opts.Outbox == nil {
		return nil
	}
	hooks, err := a.acc.Webhooks(site)
	if err != nil {
		return err
	}
	return a.loadEndpoints(site, hooks)
}

func (a *API) loadEndpoints(site string, hooks []accounts.Webhook) error {
	eps := make([]webhook.Endpoint, len(hooks))
	for i := range hooks {
		eps[i] = hooks[i].Endpoint()
	}
	return a.opts.Outbox.SetEndpoints(site, eps)
}

// deadView is a dead letter.
type deadView struct {
	EventID     string            `json:"event_id"`
	Endpoint    string            `json:"endpoint"`
	Type        webhook.EventType `json:"type"`
	Created     time.Time         `json:"created"`
	Attempts    int               `json:"attempts"`
	LastAttempt *time.Time        `json:"last_attempt,omitempty"`
	LastStatus  int               `json:"last_status"`
	LastError   string            `json:"last_error"`
	Body        json.RawMessage   `json:"body"`
}

var errNoOutbox = errf(http.StatusServiceUnavailable, CodeUnavailable, "webhook delivery is not enabled on this server")

func (a *API) listDead(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.opts.Outbox == nil {
		return errNoOutbox
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	if len(c.site) > webhook.MaxSiteLen { // such a site has no webhooks
		return writeJSON(w, http.StatusOK, newPage[deadView](nil, ""))
	}
	list, next, err := a.opts.Outbox.DeadLetters(c.site, cursor, limit)
	if err != nil {
		return err
	}
	out := make([]deadView, len(list))
	for i, d := range list {
		out[i] = deadView{EventID: d.EventID, Endpoint: d.Endpoint, Type: d.Type, Created: d.Created.UTC(),
			Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, Body: d.Body}
		if !d.LastAttempt.IsZero() {
			t := d.LastAttempt.UTC()
			out[i].LastAttempt = &t
		}
	}
	return writeJSON(w, http.StatusOK, newPage(out, next))
}

func (a *API) retryDead(w http.ResponseWriter, r *http.Request, c *caller) error {
	if a.opts.Outbox == nil {
		return errNoOutbox
	}
	id := r.PathValue("id")
	if len(c.site) > webhook.MaxSiteLen || len(id) > webhook.MaxEventIDLen {
		return notFound("dead letter")
	}
	if err := a.opts.Outbox.Retry(c.site, id); err != nil {
		if errors.Is(err, webhook.ErrEventID) {
			return notFound("dead letter")
		}
		return asAPIError(err, "dead letter")
	}
	return writeJSON(w, http.StatusAccepted, retryResp{EventID: id, State: "pending"})
}

type retryResp struct {
	EventID string `json:"event_id"`
	State   string `json:"state"`
}

// pushSite makes sure the desk knows site's queue limit (SyncDesk).
func (a *API) pushSite(ctx context.Context, s *accounts.Site) error {
	ctx, cancel := a.deskCtx(ctx)
	defer cancel()
	return a.opts.Desk.SetSite(ctx, routing.Site{ID: s.ID, MaxQueue: s.Settings.MaxQueue})
}
