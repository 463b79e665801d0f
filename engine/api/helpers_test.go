package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
	gproto "google.golang.org/protobuf/proto"
)

// cheap keeps password hashing fast in tests.
var cheap = accounts.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// env is a real stack: Pebble in a temp dir, accounts, a running shard
// router with its desk, a running webhook outbox, the API on a real HTTP
// server on 127.0.0.1.
type env struct {
	t      *testing.T
	dir    string
	st     *storage.Store
	acc    *accounts.Accounts
	router *shard.Router
	ob     *webhook.Outbox
	api    *API
	srv    *httptest.Server
	// users by name ("a-admin", "a-agent", "b-admin", "b-agent"): their
	// agent ids and session tokens.
	ids    map[string]string
	tokens map[string]string
}

type envOpt func(*Options)

func newEnv(t *testing.T, mods ...envOpt) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), ids: map[string]string{}, tokens: map[string]string{}}
	var err error
	e.st, err = storage.Open(storage.Options{Dir: filepath.Join(e.dir, "pebble"), Durability: storage.DurabilityAsync})
	if err != nil {
		t.Fatal(err)
	}
	e.acc, err = accounts.New(accounts.Options{Store: e.st, Argon2: cheap, LoginMaxFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.router, err = shard.New(shard.Options{Shards: 2, Registerer: prometheus.NewRegistry(), AgentName: e.acc.AgentName}, e.st)
	if err != nil {
		t.Fatal(err)
	}
	e.router.Start()
	e.ob, err = webhook.New(e.st, webhook.Options{BackoffBase: 5 * time.Millisecond, BackoffMax: 10 * time.Millisecond,
		MaxAttempts: 2, PollInterval: 10 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.ob.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, site := range []string{"a", "b"} {
		if _, err := e.acc.CreateSite(site, nil, accounts.Settings{}); err != nil {
			t.Fatal(err)
		}
		for _, role := range []accounts.Role{accounts.RoleAdmin, accounts.RoleAgent} {
			name := site + "-" + string(role)
			ag, _, err := e.acc.CreateAgent(site, accounts.AgentSpec{Email: name + "@x.example", Name: name, Role: role,
				Password: "password-" + name, Capacity: 2})
			if err != nil {
				t.Fatal(err)
			}
			s, err := e.acc.Login(site, name+"@x.example", "password-"+name)
			if err != nil {
				t.Fatal(err)
			}
			e.ids[name], e.tokens[name] = ag.ID, s.Token
		}
	}
	opts := Options{Accounts: e.acc, Store: e.st, Conversations: e.router, Desk: e.router.Desk(), Outbox: e.ob,
		UploadDir: filepath.Join(e.dir, "uploads"), UploadMaxBytes: 64 << 10, Registerer: prometheus.NewRegistry(),
		CallTimeout: 5 * time.Second}
	for _, m := range mods {
		m(&opts)
	}
	e.api, err = New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.api.SyncDesk(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	e.api.Mount(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		e.srv.Close()
		e.api.Close()
		e.ob.Stop()
		_ = e.router.Stop(context.Background())
		_ = e.st.Close()
	})
	return e
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %q", r.status, r.body)
	}
	return m
}

// code returns the error code of an error response ("" otherwise).
func (r *resp) code() string {
	var b errorBody
	if json.Unmarshal(r.body, &b) != nil {
		return ""
	}
	return b.Error.Code
}

// items decodes a page.
func (r *resp) items(t *testing.T) ([]map[string]any, string) {
	t.Helper()
	var p struct {
		Items []map[string]any `json:"items"`
		Next  string           `json:"next"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil || p.Items == nil {
		t.Fatalf("response %d is not a page: %q", r.status, r.body)
	}
	return p.Items, p.Next
}

// do sends a request as user (a key of e.tokens, or "" for none); body is
// marshalled to JSON unless it is a string or []byte.
func (e *env) do(method, path, user string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[user])
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

// must checks the status of a response and returns it.
func (e *env) must(status int, r *resp) *resp {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// recorder is a shard.Sink that decodes what it is sent.
type recorder struct {
	id     uint64
	mu     sync.Mutex
	envs   []*proto.Envelope
	closed atomic.Bool
}

var sinkIDs atomic.Uint64

func newRecorder() *recorder { return &recorder{id: 1<<40 + sinkIDs.Add(1)} }

func (r *recorder) ID() uint64          { return r.id }
func (r *recorder) Format() wire.Format { return wire.FormatProto }
func (r *recorder) Closed() bool        { return r.closed.Load() }
func (r *recorder) Write(bufs [][]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range bufs {
		e := new(proto.Envelope)
		if gproto.Unmarshal(b, e) == nil {
			r.envs = append(r.envs, e)
		}
	}
	return !r.closed.Load()
}

// wait returns the envelopes once ok accepts them.
func (r *recorder) wait(t *testing.T, ok func([]*proto.Envelope) bool) []*proto.Envelope {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		envs := append([]*proto.Envelope(nil), r.envs...)
		r.mu.Unlock()
		if ok(envs) {
			return envs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; got %v", envs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func hasType(typ proto.Type, id uint64) func([]*proto.Envelope) bool {
	return func(envs []*proto.Envelope) bool {
		for _, e := range envs {
			if e.Type == typ && (id == 0 || e.Id == id) {
				return true
			}
		}
		return false
	}
}

// openConv creates a conversation of visitor in site as the engine does
// for an OPEN, and returns its id once the visitor is JOINED.
func (e *env) openConv(site, visitor, id string, tags ...string) *recorder {
	e.t.Helper()
	rec := newRecorder()
	who := shard.NewIdentity(site, visitor, proto.Role_ROLE_VISITOR)
	if !e.router.Submit(shard.Request{Op: shard.OpCreate, Sink: rec, Who: who,
		Env: &proto.Envelope{Type: proto.Type_TYPE_OPEN, Id: 1, Conversation: id, Tags: tags}}) {
		e.t.Fatal("ring full")
	}
	rec.wait(e.t, hasType(proto.Type_TYPE_JOINED, 1))
	return rec
}

// connect makes an agent present (a console connection) and returns its
// sink.
func (e *env) connect(user string) *recorder {
	e.t.Helper()
	rec := newRecorder()
	site := user[:1]
	if !e.router.SubmitDesk(shard.Request{Op: shard.OpConnect, Sink: rec,
		Who: shard.NewIdentity(site, e.ids[user], proto.Role_ROLE_AGENT), Env: &proto.Envelope{}}) {
		e.t.Fatal("desk ring full")
	}
	return rec
}

// eventually retries cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
