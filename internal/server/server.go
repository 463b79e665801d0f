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
	"github.com/kefu-im/kefu/engine/mqtt"
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
	Broker   *mqtt.Broker // nil when mqtt.enabled is false
	HTTP     *engine.HTTPServer
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
	s.Router, err = shard.New(shard.Options{
		Shards: cfg.Shards.Count, RingSize: cfg.Shards.RingSize, BatchMax: cfg.Shards.BatchMax,
		ReplayLimit: cfg.Shards.ReplayLimit, MaxReplayLimit: cfg.Shards.MaxReplayLimit,
		DedupWindow: cfg.Shards.DedupWindow, MaxConversations: cfg.Shards.MaxConversations,
		IdleConversation: cfg.Shards.IdleConversation,
		Logger:           log.With("component", "shard"), Registerer: s.Registry,
	}, s.Store)
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
		if s.Broker, err = mqtt.NewBroker(mo); err != nil {
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
		MQTT: s.Broker,
	}, auth, s.Router)
	if err != nil {
		_ = s.Store.Close()
		return nil, err
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

// Start runs the shards, the reactor and the HTTP side.
func (s *Server) Start() error {
	s.Router.Start()
	if err := s.Engine.Start(); err != nil {
		_ = s.Router.Stop(context.Background())
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
	if err := s.Router.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shards: %w", err))
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Engine.Stop(stopCtx); err != nil {
		errs = append(errs, fmt.Errorf("engine: %w", err))
	}
	if s.Broker != nil { // every MQTT connection is gone: save the sessions
		if err := s.Broker.Close(); err != nil {
			errs = append(errs, fmt.Errorf("mqtt: %w", err))
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
