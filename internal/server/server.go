// Package server wires a whole Kefu server from a Config: storage, shards,
// the reactor and the HTTP side, and takes it down in order. cmd/kefu is a
// thin shell around it, and tests start real servers with it.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/engine/api"
	"github.com/kefu-im/kefu/engine/bridge"
	"github.com/kefu-im/kefu/engine/longpoll"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/engine/webhook"
	"github.com/kefu-im/kefu/internal/accounts"
	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server is one running Kefu.
type Server struct {
	cfg      Config
	log      *slog.Logger
	Registry *prometheus.Registry
	Store    *storage.Store
	Router   *shard.Router
	Engine   *engine.Engine
	Broker   *mqtt.Broker   // nil when mqtt.enabled is false
	Bridge   *bridge.Bridge // MQTT devices in conversations; nil when mqtt.bridge is false
	// mqttDB keeps the broker's sessions and retained messages in Store.
	mqttDB   *mqtt.PebbleStore
	HTTP     *engine.HTTPServer
	Accounts *accounts.Accounts // sites, agents, sessions, groups, canned replies, webhooks
	Outbox   *webhook.Outbox    // durable webhook deliveries
	API      *api.API           // REST API under /api/v1/
	LongPoll *longpoll.Server   // HTTP long-poll under /lp/v1/; nil when longpoll.enabled is false
	hooks    *csHooks
	bgStop   context.CancelFunc
	secrets  map[string][]byte
	httpDone chan error
}

// New opens storage and builds every part; Start runs them. mounts add
// handlers to the HTTP side (cmd/kefu mounts the embedded web files there).
func New(cfg Config, log *slog.Logger, mounts ...func(*http.ServeMux)) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: log, Registry: prometheus.NewRegistry(), httpDone: make(chan error, 1)}
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	secrets, err := LoadSecrets(cfg, log)
	if err != nil {
		return nil, err
	}
	s.secrets = secrets
	list := make([]sites.Site, 0, len(secrets))
	for id, sec := range secrets {
		list = append(list, sites.Site{ID: id, Secret: sec})
	}
	auth, err := sites.New(list, nil)
	if err != nil {
		return nil, err
	}

	dur, err := storage.ParseDurability(cfg.Storage.Durability)
	if err != nil {
		return nil, err
	}
	s.Store, err = storage.Open(storage.Options{
		Dir: filepath.Join(cfg.DataDir, "pebble"), Durability: dur, Logger: log.With("component", "storage"),
		CacheSize: cfg.Storage.CacheSize, MemTableSize: cfg.Storage.MemTableSize, SyncInterval: cfg.Storage.SyncInterval,
		Registerer: s.Registry,
	})
	if err != nil {
		return nil, err
	}
	if s.Accounts, err = accounts.New(accounts.Options{Store: s.Store}); err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	wo := cfg.Webhooks.Options()
	wo.Logger, wo.Registerer = log.With("component", "webhook"), s.Registry
	if s.Outbox, err = webhook.New(s.Store, wo); err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	s.hooks = newCSHooks(log.With("component", "cs"), s.Registry, s.Accounts, s.Outbox)
	so := cfg.ShardOptions()
	so.Logger, so.Registerer = log.With("component", "shard"), s.Registry
	so.OnEvent, so.AgentName = s.hooks.onEvent, s.Accounts.AgentName
	s.Router, err = shard.New(so, s.Store)
	if err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	if cfg.MQTT.Enabled {
		mo := cfg.MQTT.BrokerOptions()
		mo.EnsureDefaults() // for the assigned id prefix
		devices := auth.MQTTAuth(mo.AssignedIDPrefix)
		mo.Authenticator, mo.Authorizer = devices, devices
		mo.Logger, mo.Registerer = log.With("component", "mqtt"), s.Registry
		if s.mqttDB, err = mqtt.NewPebbleStore(s.Store, mqtt.PebbleStoreOptions{MaxQueued: mo.MaxQueued,
			Now: mo.Now, Logger: mo.Logger, Registerer: s.Registry}); err != nil {
			_ = s.Store.Close()
			return nil, err
		}
		mo.Store = s.mqttDB
		if cfg.MQTT.Bridge {
			if s.Bridge, err = bridge.New(bridge.Options{Store: s.Store, Router: s.Router,
				MaxBodyBytes: cfg.Gateway.MaxBodyBytes, Logger: log.With("component", "bridge"), Registerer: s.Registry}); err != nil {
				_ = s.mqttDB.Close()
				_ = s.Store.Close()
				return nil, err
			}
			mo.Bridge = s.Bridge
		}
		if s.Broker, err = mqtt.NewBroker(mo); err != nil {
			_ = s.mqttDB.Close()
			_ = s.Store.Close()
			return nil, err
		}
	}
	g := cfg.Gateway
	s.Engine, err = engine.New(engine.Options{
		Listeners: g.Listeners, EventLoops: g.EventLoops, HandshakeTimeout: g.HandshakeTimeout,
		PingInterval: g.PingInterval, IdleTimeout: g.IdleTimeout, Tick: g.Tick,
		MaxFrameBytes: g.MaxFrameBytes, MaxBodyBytes: g.MaxBodyBytes, OutboundLimit: g.OutboundLimit,
		AllowedOrigins: g.AllowedOrigins, Logger: log.With("component", "engine"), Registerer: s.Registry,
		MQTT: s.Broker, SiteOrigins: s.siteOrigins, AnySiteOrigin: s.anySiteOrigin,
	}, s.Accounts.Hello(auth), s.Router)
	if err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	ao := cfg.APIOptions()
	ao.Accounts, ao.Store, ao.Conversations, ao.Desk, ao.Outbox = s.Accounts, s.Store, s.Router, s.Router.Desk(), s.Outbox
	ao.Hello, ao.OriginAllowed = s.Accounts.Hello(auth), s.Engine.OriginAllowed
	ao.Logger, ao.Registerer = log.With("component", "api"), s.Registry
	if s.API, err = api.New(ao); err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	mounts = append([]func(*http.ServeMux){s.API.Mount}, mounts...)
	if cfg.LongPoll.Enabled {
		lo := cfg.LongPoll.Options(cfg.Gateway)
		lo.Handler, lo.Logger, lo.Registerer = s.Engine, log.With("component", "longpoll"), s.Registry
		if s.LongPoll, err = longpoll.New(lo); err != nil {
			_ = s.Store.Close()
			return nil, err
		}
		mounts = append([]func(*http.ServeMux){s.LongPoll.Mount}, mounts...)
	}
	s.HTTP, err = engine.NewHTTPServer(engine.HTTPOptions{
		Addr: cfg.HTTP.Addr, Pprof: cfg.HTTP.Pprof, Gatherer: s.Registry, Logger: log.With("component", "http"),
		Mount: func(mux *http.ServeMux) {
			for _, m := range mounts {
				m(mux)
			}
		},
		Ready: func() error {
			if s.Engine.Draining() {
				return errors.New("draining")
			}
			return nil
		},
	})
	if err != nil {
		_ = s.Store.Close()
		return nil, err
	}
	return s, nil
}

// siteOrigins is engine.Options.SiteOrigins: a directory site's own
// allowed origins (from the accounts cache; no storage read).
func (s *Server) siteOrigins(site string) []string {
	for _, st := range s.Accounts.Sites() {
		if st.ID == site {
			return st.Origins
		}
	}
	return nil
}

// anySiteOrigin is engine.Options.AnySiteOrigin: some directory site lists
// origin (exact origins; compared case-insensitively without a trailing
// slash).
func (s *Server) anySiteOrigin(origin []byte) bool {
	o := strings.TrimRight(strings.ToLower(string(origin)), "/")
	for _, st := range s.Accounts.Sites() {
		for _, so := range st.Origins {
			if strings.TrimRight(strings.ToLower(strings.TrimSpace(so)), "/") == o {
				return true
			}
		}
	}
	return false
}

// Start runs the shards, the reactor and the HTTP side.
func (s *Server) Start() error {
	s.Router.Start()
	bg, stop := context.WithCancel(context.Background())
	s.bgStop = stop
	go s.hooks.runVisitors(bg)
	if err := loadDirectory(bg, s.Accounts, s.Router.Desk(), s.log); err != nil {
		s.log.Error("loading the directory into routing", "err", err)
	}
	if err := s.Accounts.AllWebhooks(func(site string, hooks []accounts.Webhook) error {
		eps := make([]webhook.Endpoint, 0, len(hooks))
		for i := range hooks {
			eps = append(eps, hooks[i].Endpoint())
		}
		return s.Outbox.SetEndpoints(site, eps)
	}); err != nil {
		s.log.Error("loading webhook endpoints", "err", err)
	}
	if err := s.Outbox.Start(bg); err != nil {
		s.log.Error("starting the webhook outbox", "err", err)
	}
	if s.Bridge != nil {
		s.Bridge.Start(s.Broker)
	}
	if err := s.Engine.Start(); err != nil {
		_ = s.Router.Stop(context.Background())
		if s.Bridge != nil {
			_ = s.Bridge.Close()
		}
		_ = s.Store.Close()
		return err
	}
	go func() { s.httpDone <- s.HTTP.Serve() }()
	s.log.Info("kefu started", "gateway", s.GatewayAddr(0).String(), "http", s.HTTP.Addr().String(),
		"data", s.cfg.DataDir, "durability", s.cfg.Storage.Durability, "shards", s.Router.Shards())
	return nil
}

// GatewayAddr is the bound address of gateway listener i.
func (s *Server) GatewayAddr(i int) net.Addr { return s.Engine.Addr(i) }

// Secret returns a site's secret (for tests and `kefu token`).
func (s *Server) Secret(site string) []byte { return s.secrets[site] }

// Shutdown drains: readiness goes false, clients are told to go and given
// until ctx ends to leave, queued work is committed, then everything stops.
func (s *Server) Shutdown(ctx context.Context) error {
	start := time.Now()
	var errs []error
	if err := s.Engine.Drain(ctx); err != nil {
		s.log.Warn("drain deadline passed with connections open", "open", s.Engine.Connections())
	}
	if s.LongPoll != nil {
		s.LongPoll.Close()
	}
	if err := s.Router.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shards: %w", err))
	}
	s.Outbox.Stop()
	s.API.Close()
	if s.bgStop != nil {
		s.bgStop()
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Engine.Stop(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("engine: %w", err))
	}
	if s.Broker != nil { // every MQTT connection is gone: save the sessions
		if s.Bridge != nil { // the shards are done with the devices: their last records
			_ = s.Bridge.Close()
		}
		if err := s.Broker.Close(); err != nil {
			errs = append(errs, fmt.Errorf("mqtt: %w", err))
		}
		if err := s.mqttDB.Close(); err != nil { // commit them before storage closes
			errs = append(errs, fmt.Errorf("mqtt store: %w", err))
		}
	}
	if err := s.HTTP.Shutdown(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("http: %w", err))
	}
	if err := s.Store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("storage: %w", err))
	}
	s.log.Info("kefu stopped", "took", time.Since(start).Round(time.Millisecond).String())
	return errors.Join(errs...)
}

// LoadSecrets finds every site's secret: from its environment variable, or
// from <data_dir>/secrets/<id>.secret, generating that file on first use.
// log may be nil.
func LoadSecrets(cfg Config, log *slog.Logger) (map[string][]byte, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	out := make(map[string][]byte, len(cfg.Sites))
	for _, site := range cfg.Sites {
		if !sites.ValidID(site.ID) {
			return nil, fmt.Errorf("site id %q is not valid", site.ID)
		}
		if site.Secret != "" {
			out[site.ID] = []byte(site.Secret)
			continue
		}
		if v := os.Getenv(SecretEnv(site.ID)); v != "" {
			if len(v) < token.MinSecretLen {
				return nil, fmt.Errorf("%s is shorter than %d bytes", SecretEnv(site.ID), token.MinSecretLen)
			}
			out[site.ID] = []byte(v)
			continue
		}
		path := SecretPath(cfg.DataDir, site.ID)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			out[site.ID] = []byte(strings.TrimSpace(string(b)))
		case errors.Is(err, fs.ErrNotExist):
			var raw [32]byte
			if _, err := rand.Read(raw[:]); err != nil {
				return nil, err
			}
			sec := hex.EncodeToString(raw[:])
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(sec+"\n"), 0o600); err != nil {
				return nil, err
			}
			log.Info("generated a secret for site", "site", site.ID, "file", path)
			out[site.ID] = []byte(sec)
		default:
			return nil, err
		}
	}
	return out, nil
}

// SecretPath is where a generated site secret is kept.
func SecretPath(dataDir, site string) string {
	return filepath.Join(dataDir, "secrets", site+".secret")
}
