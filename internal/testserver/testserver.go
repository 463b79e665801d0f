// Package testserver starts real Kefu servers for tests: a real Pebble
// directory, real listeners on 127.0.0.1 with kernel-chosen ports, the same
// wiring as cmd/kefu. Nothing is mocked.
package testserver

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/token"
)

// Site and Secret are the test site's credentials.
const (
	Site   = "demo"
	Secret = "test-secret-0123456789abcdef"
)

// Server is a running test server.
type Server struct {
	*server.Server
	t       testing.TB
	Config  server.Config
	stopped bool
}

// Option changes the configuration before start.
type Option func(*server.Config)

// WithAllowedOrigins replaces the WebSocket Origin allow-list
// (gateway.allowed_origins), e.g. with the origin of a test page.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *server.Config) { c.Gateway.AllowedOrigins = origins }
}

// WithRouting turns the routing desk on (routing.enabled): conversations
// start queued, agents are assigned, system messages, notices and queue
// positions flow. Transport tests run without it, as a plain relay, so
// that seqs and envelope sequences are exactly what the clients send.
func WithRouting() Option {
	return func(c *server.Config) { c.Routing.Enabled = true }
}

// Config returns the test configuration for dataDir: defaults with
// loopback listeners on port 0, one site with a known secret, short ticks,
// routing off (see WithRouting).
func Config(t testing.TB, dataDir string) server.Config {
	cfg, err := server.DefaultConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dataDir
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Gateway.Listeners = []engine.Listener{{Addr: "127.0.0.1:0", Protocol: engine.ProtoAuto, MaxConns: 100000}}
	cfg.Gateway.Tick = 20 * time.Millisecond
	cfg.Gateway.EventLoops = 2
	cfg.Gateway.AllowedOrigins = []string{"http://allowed.example"}
	cfg.Shards.Count = 4
	cfg.Sites = []server.SiteConfig{{ID: Site, Secret: Secret}}
	cfg.Routing.Enabled = false
	return cfg
}

// Start starts a server on a fresh data directory.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	return StartAt(t, t.TempDir(), opts...)
}

// StartAt starts a server on dataDir (reuse it to test restarts).
func StartAt(t testing.TB, dataDir string, opts ...Option) *Server {
	t.Helper()
	cfg := Config(t, dataDir)
	for _, o := range opts {
		o(&cfg)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("KEFU_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(); err != nil {
		t.Fatalf("server.Start: %v", err)
	}
	s := &Server{Server: srv, t: t, Config: cfg}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Addr is the gateway address ("127.0.0.1:port").
func (s *Server) Addr() string { return s.GatewayAddr(0).String() }

// WSURL is the WebSocket URL.
func (s *Server) WSURL() string { return "ws://" + s.Addr() + "/ws" }

// HTTPURL is the base URL of the HTTP side.
func (s *Server) HTTPURL() string { return "http://" + s.HTTP.Addr().String() }

// Stop drains and stops the server (idempotent).
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		s.t.Errorf("shutdown: %v", err)
	}
}

// AgentToken mints a valid agent token for user.
func AgentToken(user string) string {
	return token.Sign([]byte(Secret), Site, "agent", user, time.Now().Add(time.Hour))
}

// VisitorToken mints a verified-visitor token for user.
func VisitorToken(user string) string {
	return token.Sign([]byte(Secret), Site, "visitor", user, time.Now().Add(time.Hour))
}

// ExpiredVisitorToken mints a correctly signed visitor token that expired
// a minute ago.
func ExpiredVisitorToken(user string) string {
	return token.Sign([]byte(Secret), Site, "visitor", user, time.Now().Add(-time.Minute))
}

// DeviceToken mints the MQTT password of device (user name
// Site+"/"+device).
func DeviceToken(device string) string {
	return token.Sign([]byte(Secret), Site, "device", device, time.Now().Add(time.Hour))
}

// MQTTWSURL is the URL of MQTT over WebSocket.
func (s *Server) MQTTWSURL() string { return "ws://" + s.Addr() + "/mqtt" }
