package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
)

// Prefixes the API serves below; Mount registers both.
const (
	Prefix      = "/api/v1/"
	FilesPrefix = "/files/"
)

// access is who may call a route.
type access uint8

const (
	public         access = iota // no credentials (login, CORS preflight, files)
	visitorOrAgent               // Authorization: Visitor <hello> or Bearer <session>
	agentRole                    // a session of any role
	adminRole                    // a session of role admin
)

// route is one endpoint: method and ServeMux path pattern, who may call
// it, and the handler. The table in routes.go is the single list of
// endpoints: the mux, the tests (isolation, roles) and the OpenAPI check
// all read it.
type route struct {
	method string
	path   string
	access access
	h      func(a *API, w http.ResponseWriter, r *http.Request, c *caller) error
}

// caller is the authenticated party of a request.
type caller struct {
	site    string
	agent   string // agent id; "" for a visitor
	visitor string // visitor id; "" for an agent
	role    accounts.Role
	token   string // the session token (for logout)
	who     *shard.Identity
}

// API is the REST API. It is an http.Handler for the paths under Prefix
// and FilesPrefix; it is safe for concurrent use and holds no goroutine.
type API struct {
	opts  Options
	acc   *accounts.Accounts
	st    *storage.Store
	mux   *http.ServeMux
	m     *metrics
	reqID atomic.Uint64
	types map[string]bool // upload allow-list
}

// New builds the API over opts (EnsureDefaults is applied to a copy). It
// creates opts.UploadDir if needed and loads every stored webhook
// endpoint configuration into opts.Outbox.
func New(opts Options) (*API, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.UploadDir, 0o750); err != nil {
		return nil, fmt.Errorf("api: upload dir: %w", err)
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	a := &API{opts: opts, acc: opts.Accounts, st: opts.Store, mux: http.NewServeMux(), m: m,
		types: make(map[string]bool)}
	for _, t := range opts.UploadTypes {
		a.types[t] = true
	}
	for _, rt := range routes {
		a.mux.Handle(rt.method+" "+rt.path, a.wrap(rt))
	}
	if opts.Outbox != nil {
		if err := a.acc.AllWebhooks(func(site string, hooks []accounts.Webhook) error {
			return a.loadEndpoints(site, hooks)
		}); err != nil {
			return nil, fmt.Errorf("api: loading webhook endpoints: %w", err)
		}
	}
	return a, nil
}

// Mount registers the API on mux under Prefix and FilesPrefix; its shape
// fits engine.HTTPOptions.Mount and server.New's mounts.
func (a *API) Mount(mux *http.ServeMux) {
	mux.Handle(Prefix, a)
	mux.Handle(FilesPrefix, a)
}

// Close unregisters the metrics. The API holds nothing else.
func (a *API) Close() { a.m.unregister() }

// ServeHTTP answers one request: JSON errors for unknown paths (404) and
// methods (405), then the route's handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.URL.Path, Prefix) {
		h.Set("Cache-Control", "no-store")
	}
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := a.mux.Handler(probe); p != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		h.Set("Allow", strings.Join(allowed, ", "))
		a.m.request("unmatched", http.StatusMethodNotAllowed)
		writeError(w, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "use %s", strings.Join(allowed, " or ")))
		return
	}
	a.m.request("unmatched", http.StatusNotFound)
	writeError(w, errf(http.StatusNotFound, CodeNotFound, "no such endpoint"))
}

// wrap authenticates per the route's access and runs its handler,
// turning a returned error into a JSON error response.
func (a *API) wrap(rt route) http.Handler {
	label := rt.method + " " + rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		err := a.serve(rt, sw, r)
		if err != nil {
			ae := asAPIError(err, "resource")
			if ae.status == http.StatusInternalServerError {
				a.opts.Logger.Warn("api: request failed", "route", label, "err", err)
			}
			if ae.code == CodeThrottled {
				sw.Header().Set("Retry-After", "60")
			}
			writeError(sw, ae)
		}
		a.m.request(label, sw.status)
		a.m.observe(label, time.Since(start))
	})
}

func (a *API) serve(rt route, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for _, k := range []string{"token", "access_token", "session"} {
		if q.Has(k) {
			return badRequest("credentials never go in the URL: send the Authorization header")
		}
	}
	if rt.access == visitorOrAgent {
		corsUpload(w, r) // before authentication, so browsers can read refusals too
	}
	c, err := a.authenticate(r, rt.access)
	if err != nil {
		return err
	}
	return rt.h(a, w, r, c)
}

// authenticate checks the Authorization header for the route's access.
func (a *API) authenticate(r *http.Request, acc access) (*caller, error) {
	if acc == public {
		return &caller{}, nil
	}
	scheme, cred, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		s, err := a.acc.Authenticate(cred)
		switch {
		case err == nil:
		case errors.Is(err, accounts.ErrSessionExpired):
			return nil, errExpired
		case errors.Is(err, accounts.ErrInvalidSession):
			return nil, errBadSession
		default:
			return nil, err
		}
		if acc == adminRole && s.Role != accounts.RoleAdmin {
			return nil, errForbiddenAdmin
		}
		return &caller{site: s.Site, agent: s.AgentID, role: s.Role, token: cred,
			who: shard.NewIdentity(s.Site, s.AgentID, proto.Role_ROLE_AGENT)}, nil
	case strings.EqualFold(scheme, "Visitor") && cred != "" && acc == visitorOrAgent:
		return a.visitorCaller(cred)
	}
	return nil, errUnauth
}

// call runs env as c through Conversations.Call with a fresh request id
// and the call timeout, and maps an ERROR reply.
func (a *API) call(ctx context.Context, c *caller, env *proto.Envelope) (*proto.Envelope, error) {
	env.Id = a.reqID.Add(1)
	ctx, cancel := context.WithTimeout(ctx, a.opts.CallTimeout)
	defer cancel()
	rep, err := a.opts.Conversations.Call(ctx, c.who, env)
	if err != nil {
		return nil, err
	}
	if rep.GetType() == proto.Type_TYPE_ERROR {
		return nil, fromEnvelope(rep.GetError())
	}
	return rep, nil
}

// desk returns a context for a Desk call bounded by the call timeout.
func (a *API) deskCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.opts.CallTimeout)
}

// statusWriter records the status of a response for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
