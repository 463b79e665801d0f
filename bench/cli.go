package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/bench/baseline/gorillahub"
	"github.com/kefu-im/kefu/bench/baseline/mochibroker"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/bench/runner"
	"github.com/kefu-im/kefu/bench/scenario"
)

const usage = `kefu-bench: load generator for Kefu (and the baseline hub)

usage:
  kefu-bench conn   [flags]   open N connections at a rate, hold them, report connect latency and server memory
  kefu-bench relay  [flags]   visitor/agent pairs exchanging messages: throughput, ack and end-to-end latency
  kefu-bench storm  [flags]   connect/disconnect churn
  kefu-bench mqtt   [flags]   MQTT publishers and subscribers (point to point or fan-out, QoS 0/1/2):
                              throughput, ack and end-to-end latency
  kefu-bench mixed  [flags]   many idle visitors (some reconnecting) while pairs chat, agents replying
  kefu-bench baseline-hub --addr 127.0.0.1:7100
                              run the goroutine-per-connection gorilla/websocket baseline
  kefu-bench baseline-mochi --addr 127.0.0.1:7200
                              run the mochi-mqtt broker (allow-all) as the MQTT baseline
  kefu-bench compare --dir DIR [--out FILE] [--commands FILE]
                              markdown table of scripts/bench-compare.sh results
  kefu-bench worker           (internal) one worker process, driven over stdin/stdout

Run "kefu-bench SCENARIO -h" for a scenario's flags. conn and storm speak
MQTT with --proto mqtt (each connection a device "<site>/<user>").
`

// Main runs the command line args (without the program name) and returns
// the exit status: 0 done, 1 failed, 2 bad usage.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "worker":
		signal.Ignore(os.Interrupt) // the coordinator stops us over stdin
		if err := runner.Serve(context.Background(), os.Stdin, stdout, runner.SelfCPU); err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "kefu-bench worker:", err)
			return 1
		}
		return 0
	case "baseline-hub":
		return hubMain(args[1:], stdout, stderr)
	case "baseline-mochi":
		return mochiMain(args[1:], stdout, stderr)
	case "compare":
		return compareMain(args[1:], stdout, stderr)
	case "conn", "relay", "storm", "mqtt", "mixed":
		return scenarioMain(args[0], args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "kefu-bench: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// cliFlags are the flags of a scenario command.
type cliFlags struct {
	spec        scenario.Spec
	sources     string
	dataDir     string
	workers     int
	perProcess  int
	jsonOut     bool
	htmlOut     string
	cpuProfile  string
	allowRemote bool
	serverPID   int
	metrics     string
	quiet       bool
	rate        float64
}

func newFlagSet(name string, f *cliFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("kefu-bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	s := &f.spec
	fs.StringVar(&s.Addr, "addr", "127.0.0.1:7000", "target host:port (loopback unless --allow-remote)")
	fs.StringVar(&s.Path, "path", "/ws", "WebSocket path")
	fs.StringVar(&s.Transport, "proto", "ws", "transport: ws (JSON text frames), ws-proto (protobuf binary frames), frame (binary TCP) or mqtt (conn, storm; mqtt always)")
	fs.StringVar(&s.Site, "site", "demo", "site key sent in HELLO (MQTT: the user name's site)")
	fs.StringVar(&s.Secret, "secret", "", "site secret, to sign agent tokens and MQTT device tokens (or --data; without it devices send no password, as the baselines want)")
	fs.IntVar(&s.MQTTVersion, "mqtt-version", 4, "MQTT protocol level: 4 (3.1.1) or 5")
	fs.StringVar(&f.dataDir, "data", "", "kefu data directory: the secret is read from DATA/secrets/SITE.secret")
	fs.StringVar(&f.sources, "src", "", "source addresses, e.g. 127.0.0.1-127.0.0.8 (default for a loopback target: 127.0.0.1-127.0.0.8)")
	fs.IntVar(&s.Loops, "loops", 0, "event loops per process (default GOMAXPROCS)")
	fs.IntVar(&f.workers, "workers", 0, "worker processes (default: as many as the open-file limit needs; 1 = this process)")
	fs.IntVar(&f.perProcess, "per-process", 0, "most connections per process (default: open-file limit - 512)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result as JSON instead of a table")
	fs.StringVar(&f.htmlOut, "report", "", "also write an HTML report with charts (latency over time, distribution, connections) to this file")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write the bench's own CPU profile to this file (one process: --workers 1)")
	fs.BoolVar(&f.allowRemote, "allow-remote", false, "allow a target that is not on loopback")
	fs.IntVar(&f.serverPID, "server-pid", 0, "the target's pid: report its RSS (per connection) and CPU from /proc")
	fs.StringVar(&f.metrics, "metrics", "", "the target's Prometheus URL, e.g. http://127.0.0.1:7080/metrics")
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress line")
	fs.DurationVar(&s.Heartbeat, "heartbeat", 20*time.Second, "client ping after this much silence")
	fs.DurationVar(&s.HandshakeTimeout, "handshake-timeout", 10*time.Second, "dial to WELCOME limit")
	fs.DurationVar(&s.SetupTimeout, "setup-timeout", 2*time.Minute, "limit of the connect phase")
	fs.IntVar(&s.Dialers, "dialers", 32, "goroutines dialing (per process)")
	fs.IntVar(&s.MaxHandshakes, "max-handshakes", 2048, "handshakes in flight at once (over all processes)")
	return fs
}

func scenarioMain(name string, args []string, stdout, stderr io.Writer) int {
	var f cliFlags
	f.spec.Scenario = name
	fs := newFlagSet(name, &f, stderr)
	s := &f.spec
	switch name {
	case "conn":
		fs.IntVar(&s.Conns, "conns", 1000, "connections to open")
		fs.Float64Var(&f.rate, "rate", 0, "new connections per second (0: as fast as --max-handshakes allows)")
		fs.DurationVar(&s.Hold, "hold", 10*time.Second, "how long to hold the connections once open")
		fs.BoolVar(&s.Open, "open", false, "each connection also OPENs a conversation (MQTT: subscribes to its device's topics)")
		fs.Float64Var(&s.Reconnect, "reconnect", 0, "connections closed and dialed again per second during the hold")
	case "mixed":
		fs.IntVar(&s.Conns, "conns", 1000, "idle visitors, held with heartbeats")
		fs.BoolVar(&s.Open, "open", false, "each idle visitor OPENs a conversation")
		fs.Float64Var(&s.Reconnect, "reconnect", 10, "idle visitors closed and dialed again per second")
		fs.IntVar(&s.Pairs, "pairs", 100, "chatting visitor/agent pairs (agents answer every message)")
		fs.Float64Var(&f.rate, "rate", 200, "visitor SENDs per second over all pairs (agents' answers come on top; 0: closed loop)")
		fs.IntVar(&s.Window, "window", 1, "closed loop: unacknowledged SENDs per visitor")
		fs.IntVar(&s.MaxInflight, "max-inflight", 1000, "unacknowledged SENDs per connection before sends are skipped")
		fs.IntVar(&s.Payload, "payload", 100, "message body bytes")
		fs.DurationVar(&s.Warmup, "warmup", 2*time.Second, "sent but not measured")
		fs.DurationVar(&s.Duration, "duration", 10*time.Second, "measured window")
		fs.DurationVar(&s.Drain, "drain", 3*time.Second, "wait for late ACKs and MESSAGEs after the window")
		fs.Float64Var(&s.ConnRate, "conn-rate", 0, "connections per second during setup, each part (0: as fast as possible)")
	case "relay":
		fs.IntVar(&s.Pairs, "pairs", 100, "visitor/agent pairs (2 connections each)")
		fs.Float64Var(&f.rate, "rate", 0, "offered SENDs per second over all pairs and both directions (0: closed loop)")
		fs.IntVar(&s.Window, "window", 1, "closed loop: unacknowledged SENDs per connection")
		fs.IntVar(&s.MaxInflight, "max-inflight", 1000, "open loop: unacknowledged SENDs per connection before sends are skipped")
		fs.IntVar(&s.Payload, "payload", 100, "message body bytes")
		fs.DurationVar(&s.Warmup, "warmup", 2*time.Second, "sent but not measured")
		fs.DurationVar(&s.Duration, "duration", 10*time.Second, "measured window")
		fs.DurationVar(&s.Drain, "drain", 3*time.Second, "wait for late ACKs and MESSAGEs after the window")
		fs.Float64Var(&s.ConnRate, "conn-rate", 0, "pairs connected per second during setup (0: as fast as possible)")
	case "storm":
		fs.IntVar(&s.Conns, "conns", 100, "connections open at once at most")
		fs.Float64Var(&f.rate, "rate", 0, "new connections per second (0: as fast as possible)")
		fs.DurationVar(&s.Duration, "duration", 10*time.Second, "how long to churn")
		fs.DurationVar(&s.LifeTime, "life", 0, "how long a connection stays after WELCOME")
		fs.BoolVar(&s.RST, "rst", false, "close with a TCP reset (no TIME_WAIT)")
		fs.IntVar(&s.MaxConnects, "max-connects", 1_000_000, "cap on connection attempts")
	case "mqtt":
		fs.IntVar(&s.Pairs, "pairs", 100, "topics, each with one publisher and --fanout subscribers (connections of one device)")
		fs.IntVar(&s.Fanout, "fanout", 1, "subscribers per topic (1: point to point)")
		fs.IntVar(&s.QoS, "qos", 1, "QoS of PUBLISH and SUBSCRIBE: 0, 1 or 2")
		fs.BoolVar(&s.Retain, "retain", false, "publish with RETAIN (every message replaces the topic's retained one)")
		fs.Float64Var(&f.rate, "rate", 0, "offered PUBLISHes per second over all publishers (0: closed loop)")
		fs.IntVar(&s.Window, "window", 1, "closed loop: messages per publisher not yet acknowledged (QoS 0: not yet at the first subscriber)")
		fs.IntVar(&s.MaxInflight, "max-inflight", 64, "open loop: unacknowledged QoS 1/2 PUBLISHes per publisher before sends are skipped (Kefu's receive_maximum is 64)")
		fs.IntVar(&s.Payload, "payload", 100, "payload bytes (at least 16: the message number and send time)")
		fs.DurationVar(&s.Warmup, "warmup", 2*time.Second, "sent but not measured")
		fs.DurationVar(&s.Duration, "duration", 10*time.Second, "measured window")
		fs.DurationVar(&s.Drain, "drain", 3*time.Second, "wait for late acknowledgements and deliveries after the window")
		fs.Float64Var(&s.ConnRate, "conn-rate", 0, "connections per second during setup (0: as fast as possible)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "kefu-bench %s: unexpected arguments %q\n", name, fs.Args())
		return 2
	}
	messages := name == "relay" || name == "mqtt" || name == "mixed"
	if messages {
		s.MsgRate = f.rate
	} else {
		s.ConnRate = f.rate
	}
	if name == "mqtt" {
		if s.Transport != "mqtt" && isSet(fs, "proto") {
			fmt.Fprintf(stderr, "kefu-bench mqtt: --proto %s: the mqtt scenario speaks MQTT\n", s.Transport)
			return 2
		}
		s.Transport = "mqtt"
	}
	// Counts given as 0 would silently take their defaults.
	if (messages && (s.Pairs < 1 || s.Window < 1 || s.Payload < 1)) || (name == "mqtt" && s.Fanout < 1) || ((!messages || name == "mixed") && s.Conns < 1) {
		fmt.Fprintf(stderr, "kefu-bench %s: counts (--conns, --pairs, --fanout, --window, --payload) must be at least 1\n", name)
		return 2
	}
	if err := f.finish(); err != nil {
		fmt.Fprintf(stderr, "kefu-bench %s: %v\n", name, err)
		return 2
	}
	params := make(map[string]string)
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name != "secret" {
			params[fl.Name] = fl.Value.String()
		}
	})
	if s.Transport == "mqtt" { // what an MQTT result cannot be read without
		for _, k := range []string{"mqtt-version", "qos", "fanout", "payload"} {
			if fl := fs.Lookup(k); fl != nil && params[k] == "" {
				params[k] = fl.Value.String()
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := runner.Options{
		Spec:       f.spec,
		Workers:    f.workers,
		PerProcess: f.perProcess,
		ServerPID:  f.serverPID,
		MetricsURL: f.metrics,
		Stderr:     stderr,
		Params:     params,
	}
	if !f.quiet {
		opts.Progress = stderr
		opts.ProgressTTY = isTerminal(stderr)
	}
	if f.cpuProfile != "" {
		pf, err := os.Create(f.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(pf)
		}
		if err != nil {
			fmt.Fprintf(stderr, "kefu-bench %s: cpuprofile: %v\n", name, err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = pf.Close()
		}()
	}
	res, err := runner.Run(ctx, opts)
	if res == nil {
		fmt.Fprintf(stderr, "kefu-bench %s: %v\n", name, err)
		return 1
	}
	if f.jsonOut {
		_ = report.WriteJSON(stdout, res)
	} else {
		_ = report.WriteTable(stdout, res)
	}
	if f.htmlOut != "" {
		if herr := report.WriteHTMLFile(f.htmlOut, res); herr != nil {
			fmt.Fprintf(stderr, "kefu-bench %s: report: %v\n", name, herr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "kefu-bench %s: %v\n", name, err)
		return 1
	}
	return 0
}

// finish checks the target, fills in the sources and the secret.
func (f *cliFlags) finish() error {
	if err := runner.CheckTarget(f.spec.Addr, f.allowRemote); err != nil {
		return err
	}
	if f.metrics != "" {
		host := strings.TrimPrefix(strings.TrimPrefix(f.metrics, "http://"), "https://")
		if i := strings.IndexByte(host, '/'); i >= 0 {
			host = host[:i]
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(host, "80")
		}
		if err := runner.CheckTarget(host, f.allowRemote); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	src := f.sources
	if src == "" {
		if host, _, _ := net.SplitHostPort(f.spec.Addr); net.ParseIP(host).To4() != nil && net.ParseIP(host).IsLoopback() {
			src = "127.0.0.1-127.0.0.8"
		}
	}
	addrs, err := scenario.ParseSources(src)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		f.spec.Sources = append(f.spec.Sources, a.String())
	}
	if f.spec.Secret == "" && f.dataDir != "" {
		b, err := os.ReadFile(filepath.Join(f.dataDir, "secrets", f.spec.Site+".secret"))
		if err != nil {
			return fmt.Errorf("secret: %w", err)
		}
		f.spec.Secret = strings.TrimSpace(string(b))
	}
	if f.spec.Secret == "" {
		f.spec.Secret = os.Getenv("KEFU_SITE_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(f.spec.Site)) + "_SECRET")
	}
	if f.spec.Loops <= 0 {
		f.spec.Loops = runtime.GOMAXPROCS(0)
	}
	f.spec.EnsureDefaults()
	return f.spec.Validate()
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func mochiMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu-bench baseline-mochi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o mochibroker.Options
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:7200", "listen address (MQTT over TCP)")
	fs.IntVar(&o.WritesPending, "writes-pending", 0, "mochi's MaximumClientWritesPending, the outbound channel capacity per client (0: mochi's default, 8192)")
	verbose := fs.Bool("v", false, "log mochi's warnings and errors to stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *verbose {
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	b, err := mochibroker.New(o)
	if err == nil {
		err = b.Start()
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu-bench baseline-mochi:", err)
		return 1
	}
	fmt.Fprintf(stdout, "mochi-mqtt baseline listening: mqtt://%s (pid %d)\n", b.Addr(), os.Getpid())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	<-ctx.Done()
	stop()
	if err := b.Close(); err != nil {
		fmt.Fprintln(stderr, "kefu-bench baseline-mochi:", err)
		return 1
	}
	return 0
}

func hubMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kefu-bench baseline-hub", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o gorillahub.Options
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:7100", "listen address")
	fs.StringVar(&o.Path, "path", "/ws", "WebSocket path")
	fs.IntVar(&o.SendQueue, "send-queue", 256, "outbound channel capacity per connection")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	h, err := gorillahub.New(o)
	if err == nil {
		err = h.Start()
	}
	if err != nil {
		fmt.Fprintln(stderr, "kefu-bench baseline-hub:", err)
		return 1
	}
	fmt.Fprintf(stdout, "baseline hub listening: ws://%s%s (pid %s)\n", h.Addr(), o.Path, strconv.Itoa(os.Getpid()))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	<-ctx.Done()
	stop()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Close(sctx); err != nil {
		fmt.Fprintln(stderr, "kefu-bench baseline-hub:", err)
		return 1
	}
	return 0
}
