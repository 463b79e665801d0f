// Command kefu is the Kefu server: one binary holding WebSocket, binary TCP
// and MQTT connections on a gnet reactor, with an embedded message log.
//
//	kefu [--config FILE] [--data DIR] [--log-level LEVEL]     run the server
//	kefu token --site ID --role agent|visitor|device --user ID [--ttl 24h]
//	                                                          mint an identity token
//	                                                          (device: the MQTT password of
//	                                                          user name ID-of-site/ID)
//	kefu admin create|passwd|list --data DIR --site ID ...   manage sites and agents
//	                                                          (on a stopped server's data)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/internal/token"
	"github.com/kefu-im/kefu/web"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "kefu:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "token" {
		return tokenCmd(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "admin" {
		return adminCmd(args[1:], stdout)
	}
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("kefu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "YAML file laid over the embedded defaults (configs/kefu.yaml)")
	data := fs.String("data", "", "data directory (overrides data_dir)")
	level := fs.String("log-level", "", "debug, info, warn or error (overrides log_level)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(*cfgPath, *data)
	if err != nil {
		return err
	}
	if *level != "" {
		cfg.LogLevel = *level
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	// Catch signals before anything starts, so that a SIGTERM arriving
	// during start-up drains instead of killing the process.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	// The pages connect to the first gateway listener's port (a port 0
	// listener is only known once bound: the pages then use /ws on their
	// own host, as behind a reverse proxy).
	gwPort := ""
	if len(cfg.Gateway.Listeners) > 0 {
		if p := portOf(cfg.Gateway.Listeners[0].Addr); p != ":0" {
			gwPort = p
		}
	}
	demo, err := web.NewDemo(web.DemoOptions{WebSocket: gwPort})
	if err != nil {
		return err
	}
	console, err := web.NewConsole(web.ConsoleOptions{WebSocket: gwPort})
	if err != nil {
		return err
	}
	srv, err := server.New(cfg, log, func(mux *http.ServeMux) {
		// The visitor SDK, embedded: <script src="http://HOST:7080/sdk/kefu.min.js">.
		mux.Handle("GET /sdk/", http.StripPrefix("/sdk", web.NewHandler()))
		// The demo H5 page with the widget, and the agent console.
		mux.Handle("GET /demo/", http.StripPrefix("/demo", demo))
		mux.Handle("GET /console/", http.StripPrefix("/console", console))
		mux.Handle("GET /{$}", http.RedirectHandler("/demo/", http.StatusFound))
	})
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "kefu listening: gateway %s (WebSocket ws://HOST%s/ws, binary frames%s), http %s (demo page /demo/, agent console /console/, /api/v1/, /metrics /livez /readyz)\n",
		srv.GatewayAddr(0), portOf(srv.GatewayAddr(0).String()), mqttNote(srv), srv.HTTP.Addr())

	s := <-sig
	log.Info("signal received, draining", "signal", s.String(), "deadline", cfg.DrainTimeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DrainTimeout)
	defer cancel()
	return srv.Shutdown(ctx)
}

func loadConfig(path, data string) (server.Config, error) {
	cfg, err := server.LoadConfig(path)
	if err != nil {
		return cfg, err
	}
	if data != "" {
		cfg.DataDir = data
	}
	return cfg, nil
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "", "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func mqttNote(srv *server.Server) string {
	if srv.Broker == nil {
		return ""
	}
	return ", MQTT 3.1.1/5 and MQTT over WebSocket on /mqtt"
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i:]
		}
	}
	return ""
}

// tokenCmd mints a token with a site's secret, for agents and verified
// visitors in development; production backends sign with their own copy.
func tokenCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kefu token", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "YAML config file")
	data := fs.String("data", "", "data directory (overrides data_dir)")
	site := fs.String("site", "demo", "site id")
	role := fs.String("role", "agent", "agent, visitor or device (MQTT password)")
	user := fs.String("user", "", "user id (required)")
	ttl := fs.Duration("ttl", 24*time.Hour, "validity")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" {
		return errors.New("token: --user is required")
	}
	if *role != "agent" && *role != "visitor" && *role != sites.DeviceRole {
		return errors.New("token: --role must be agent, visitor or device")
	}
	cfg, err := loadConfig(*cfgPath, *data)
	if err != nil {
		return err
	}
	secrets, err := server.LoadSecrets(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	sec, ok := secrets[*site]
	if !ok {
		return fmt.Errorf("token: no site %q in the configuration", *site)
	}
	fmt.Fprintln(stdout, token.Sign(sec, *site, *role, *user, time.Now().Add(*ttl)))
	return nil
}
