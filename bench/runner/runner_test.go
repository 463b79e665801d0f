package runner

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/bench/baseline/gorillahub"
	"github.com/kefu-im/kefu/bench/baseline/mochibroker"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/bench/scenario"
	"github.com/kefu-im/kefu/internal/testserver"
)

// TestMain lets the test binary act as a worker process (the subprocess
// path of Run re-executes it).
func TestMain(m *testing.M) {
	if os.Getenv("KEFU_BENCH_TEST_WORKER") == "1" {
		if err := Serve(context.Background(), os.Stdin, os.Stdout, SelfCPU); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func smokeSpec(name, addr, transport string) scenario.Spec {
	return scenario.Spec{
		Scenario: name, Addr: addr, Transport: transport, Site: testserver.Site, Secret: testserver.Secret,
		Sources: []string{"127.0.0.1", "127.0.0.2"}, Loops: 2,
		Conns: 40, Hold: 300 * time.Millisecond,
		Pairs: 10, Warmup: 200 * time.Millisecond, Duration: 500 * time.Millisecond, Drain: 10 * time.Second,
		SetupTimeout: 10 * time.Second,
	}
}

func run(t *testing.T, o Options) *report.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var tbl bytes.Buffer
	if err := report.WriteTable(&tbl, res); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", tbl.String())
	return res
}

// TestSmoke runs every scenario briefly against a real Kefu over both
// transports.
func TestSmoke(t *testing.T) {
	srv := testserver.Start(t)
	for _, tr := range []string{"ws", "frame"} {
		t.Run("conn-"+tr, func(t *testing.T) {
			spec := smokeSpec("conn", srv.Addr(), tr)
			spec.Open = true
			res := run(t, Options{Spec: spec, InProcess: true, ServerPID: os.Getpid(), MetricsURL: srv.HTTPURL() + "/metrics"})
			s := res.Summary
			if s.Connected != 40 || s.Failed != 0 || res.Total.Counter(report.Joined) != 40 || s.PeakOpen != 40 {
				t.Fatalf("summary %+v joined %d", s, res.Total.Counter(report.Joined))
			}
			if s.Latency[report.HistConnect].Count != 40 || s.ConnectRate <= 0 {
				t.Fatalf("connect latency %+v rate %v", s.Latency[report.HistConnect], s.ConnectRate)
			}
			if res.Server == nil || res.Server.RSSAfter == 0 || res.Server.Metrics["kefu_connections"] < 40 {
				t.Fatalf("server probe %+v", res.Server)
			}
			if len(res.Total.Closes) != 0 || len(res.Total.Failures) != 0 {
				t.Fatalf("closes %v failures %v", res.Total.Closes, res.Total.Failures)
			}
		})
		t.Run("relay-open-"+tr, func(t *testing.T) {
			spec := smokeSpec("relay", srv.Addr(), tr)
			spec.MsgRate = 400
			res := run(t, Options{Spec: spec, InProcess: true})
			checkRelay(t, res, 400)
		})
		t.Run("relay-closed-"+tr, func(t *testing.T) {
			spec := smokeSpec("relay", srv.Addr(), tr)
			spec.Window = 2
			res := run(t, Options{Spec: spec, InProcess: true})
			checkRelay(t, res, 0)
		})
		t.Run("storm-"+tr, func(t *testing.T) {
			spec := smokeSpec("storm", srv.Addr(), tr)
			spec.Conns, spec.ConnRate, spec.Duration, spec.RST = 10, 200, 500*time.Millisecond, true
			res := run(t, Options{Spec: spec, InProcess: true})
			s := res.Summary
			// A dial still in flight when the window closes is cancelled by the
			// bench itself; only other failures count against the server.
			failed := s.Failed - res.Total.Failures["canceled"]
			if s.Cycles < 20 || s.Cycles > 110 || failed != 0 {
				t.Fatalf("cycles %d failed %d (%v) (want ≈100 at 200/s for 0.5s, at most 110)", s.Cycles, s.Failed, res.Total.Failures)
			}
		})
	}
}

// checkRelay: every measured message acknowledged and delivered once; an
// open-loop rate close to what was offered.
func checkRelay(t *testing.T, res *report.Result, offered float64) {
	t.Helper()
	s := res.Summary
	if res.Total.Counter(report.Connected) != 20 || s.Sent == 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.Acked != s.Sent || s.Delivered != s.Sent || s.Lost != 0 || s.Duplicates != 0 || s.Reordered != 0 || s.Unacked != 0 {
		t.Fatalf("accounting %+v", s)
	}
	if s.Latency[report.HistE2E].Count != s.Delivered || s.Latency[report.HistAck].Count != s.Acked {
		t.Fatalf("histogram counts %+v", s.Latency)
	}
	if offered > 0 {
		want := offered * res.Total.MeasureSeconds
		if d := float64(s.Sent) - want; d > want*0.05+2 || -d > want*0.05+2 {
			t.Fatalf("sent %d in %.2fs, want %.0f ±5%%", s.Sent, res.Total.MeasureSeconds, want)
		}
	}
}

// TestBaselineHub runs relay and conn against the gorilla hub.
func TestBaselineHub(t *testing.T) {
	h, err := gorillahub.New(gorillahub.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	spec := smokeSpec("relay", h.Addr(), "ws")
	spec.MsgRate = 400
	res := run(t, Options{Spec: spec, InProcess: true})
	checkRelay(t, res, 400)
	res = run(t, Options{Spec: smokeSpec("conn", h.Addr(), "ws"), InProcess: true})
	if res.Summary.Connected != 40 {
		t.Fatalf("conn %+v", res.Summary)
	}
}

// TestWorkerProcesses runs a relay split over two worker processes (this
// test binary re-executed) and checks the aggregation.
func TestWorkerProcesses(t *testing.T) {
	srv := testserver.Start(t)
	t.Setenv("KEFU_BENCH_TEST_WORKER", "1")
	spec := smokeSpec("relay", srv.Addr(), "ws")
	spec.MsgRate = 400
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, Options{Spec: spec, Workers: 2, Exe: exe})
	if res.Workers != 2 {
		t.Fatalf("workers %d", res.Workers)
	}
	checkRelay(t, res, 400)
	if res.Bench.UserSeconds+res.Bench.SysSeconds <= 0 {
		t.Fatal("no CPU time counted for the workers")
	}
}

// TestStopOnCancel: a long run stops promptly when its context ends (the
// Ctrl-C path) and still reports what it measured.
func TestStopOnCancel(t *testing.T) {
	srv := testserver.Start(t)
	spec := smokeSpec("conn", srv.Addr(), "frame")
	spec.Hold = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(1500 * time.Millisecond)
		cancel()
	}()
	t0 := time.Now()
	res, err := Run(ctx, Options{Spec: spec, InProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 15*time.Second {
		t.Fatalf("took %v to stop", d)
	}
	if res.Summary.Connected != 40 || res.Total.Phase != "done" {
		t.Fatalf("summary %+v phase %q", res.Summary, res.Total.Phase)
	}
}

// TestStopOnDuration: a run ends by itself after setup + its timed part.
func TestStopOnDuration(t *testing.T) {
	srv := testserver.Start(t)
	spec := smokeSpec("storm", srv.Addr(), "ws")
	spec.Duration = 700 * time.Millisecond
	t0 := time.Now()
	res := run(t, Options{Spec: spec, InProcess: true})
	if d := time.Since(t0); d < 700*time.Millisecond || d > 15*time.Second {
		t.Fatalf("storm of 0.7s took %v", d)
	}
	if res.Total.MeasureSeconds < 0.69 || res.Total.MeasureSeconds > 1.5 {
		t.Fatalf("measured %.2fs", res.Total.MeasureSeconds)
	}
}

func TestSplit(t *testing.T) {
	spec := scenario.Spec{Scenario: "relay", Pairs: 1001, MsgRate: 10000, MaxConnects: 10, MaxHandshakes: 100}
	parts := Split(spec, 3)
	var pairs int
	var rate float64
	for i, p := range parts {
		pairs += p.Pairs
		rate += p.MsgRate
		if p.Worker != i {
			t.Fatalf("worker index %d", p.Worker)
		}
	}
	if pairs != 1001 || rate < 9999.999 || rate > 10000.001 || parts[0].Pairs != 334 || parts[2].Pairs != 333 {
		t.Fatalf("split %+v", parts)
	}
	if n := len(Split(scenario.Spec{Scenario: "conn", Conns: 2}, 5)); n != 2 {
		t.Fatalf("more workers than connections: %d", n)
	}
	mixed := Split(scenario.Spec{Scenario: "mixed", Conns: 1000, Pairs: 10, MsgRate: 100, Reconnect: 50}, 3)
	var conns, mpairs int
	var mrate, reconnect float64
	for _, p := range mixed {
		conns, mpairs, mrate, reconnect = conns+p.Conns, mpairs+p.Pairs, mrate+p.MsgRate, reconnect+p.Reconnect
	}
	if len(mixed) != 3 || conns != 1000 || mpairs != 10 || mrate < 99.999 || mrate > 100.001 || reconnect < 49.999 || reconnect > 50.001 {
		t.Fatalf("mixed split %+v", mixed)
	}
}

func TestCheckTarget(t *testing.T) {
	if err := CheckTarget("127.0.0.1:7000", false); err != nil {
		t.Fatal(err)
	}
	if err := CheckTarget("10.1.2.3:7000", false); err == nil || !strings.Contains(err.Error(), "allow-remote") {
		t.Fatalf("remote target accepted: %v", err)
	}
	if err := CheckTarget("10.1.2.3:7000", true); err != nil {
		t.Fatal(err)
	}
}

// TestMQTTSmoke runs conn --proto mqtt and the mqtt scenario (QoS 0, 1
// and 2, open and closed loop, fan-out, both versions) briefly against a
// real Kefu, with device tokens and the per-device topics.
func TestMQTTSmoke(t *testing.T) {
	srv := testserver.Start(t)
	runMQTTSmoke(t, srv.Addr(), os.Getpid(), srv.HTTPURL()+"/metrics", false)
}

// TestMQTTBaselineMochi runs the same against the mochi baseline, in
// process, without credentials.
func TestMQTTBaselineMochi(t *testing.T) {
	b, err := mochibroker.New(mochibroker.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	runMQTTSmoke(t, b.Addr().String(), 0, "", true)
}

// runMQTTSmoke runs conn and mqtt against addr; short: one case per QoS.
func runMQTTSmoke(t *testing.T, addr string, pid int, metrics string, short bool) {
	secret := testserver.Secret
	if metrics == "" { // a baseline: no passwords at all
		secret = ""
	}
	t.Run("conn", func(t *testing.T) {
		spec := smokeSpec("conn", addr, "mqtt")
		// Pings every 250ms (the client checks every 200ms), each answered
		// within the client's idle timeout of 750ms, over a 1s hold.
		spec.Secret, spec.Open, spec.Heartbeat, spec.Hold = secret, true, 250*time.Millisecond, time.Second
		res := run(t, Options{Spec: spec, InProcess: true, ServerPID: pid, MetricsURL: metrics})
		s := res.Summary
		if s.Connected != 40 || s.Failed != 0 || res.Total.Counter(report.Joined) != 40 || s.PeakOpen != 40 {
			t.Fatalf("summary %+v joined %d errors %v", s, res.Total.Counter(report.Joined), res.Total.Errors)
		}
		if s.Latency[report.HistConnect].Count != 40 || len(res.Total.Closes) != 0 {
			t.Fatalf("connect latency %+v closes %v", s.Latency[report.HistConnect], res.Total.Closes)
		}
		if metrics != "" && (res.Server == nil || res.Server.Metrics["kefu_connections"] < 40) {
			t.Fatalf("server probe %+v", res.Server)
		}
	})
	for _, tc := range []struct {
		name    string
		qos     int
		version int
		rate    float64
		window  int
		fanout  int
		retain  bool
		short   bool
	}{
		{"qos0-open", 0, 4, 400, 1, 1, false, true},
		{"qos1-open-v5", 1, 5, 400, 1, 1, true, true},
		{"qos2-open", 2, 4, 400, 1, 1, false, false},
		{"qos1-closed-fanout3", 1, 4, 0, 2, 3, false, false},
		{"qos2-closed-v5", 2, 5, 0, 1, 1, false, true},
		{"qos0-closed-v5", 0, 5, 0, 1, 1, false, false},
	} {
		if short && !tc.short {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			spec := smokeSpec("mqtt", addr, "mqtt")
			spec.Secret, spec.QoS, spec.MQTTVersion, spec.MsgRate = secret, tc.qos, tc.version, tc.rate
			spec.Window, spec.Fanout, spec.Retain = tc.window, tc.fanout, tc.retain
			res := run(t, Options{Spec: spec, InProcess: true})
			checkMQTT(t, res, tc.rate, tc.fanout, tc.qos)
		})
	}
}

// checkMQTT: every measured message acknowledged and delivered once to
// each subscriber; an open-loop rate close to what was offered.
func checkMQTT(t *testing.T, res *report.Result, offered float64, fanout, qos int) {
	t.Helper()
	s := res.Summary
	if want := int64(10 * (1 + fanout)); res.Total.Counter(report.Connected) != want || s.Sent == 0 {
		t.Fatalf("summary %+v, want %d connected; failures %v errors %v", s, want, res.Total.Failures, res.Total.Errors)
	}
	if s.Acked != s.Sent || s.Delivered != s.Sent*int64(fanout) || s.Lost != 0 || s.Duplicates != 0 || s.Reordered != 0 || s.Unacked != 0 {
		t.Fatalf("accounting %+v errors %v closes %v", s, res.Total.Errors, res.Total.Closes)
	}
	if s.Latency[report.HistE2E].Count != s.Delivered {
		t.Fatalf("e2e histogram %+v", s.Latency)
	}
	if wantAcks := s.Acked * int64(min(qos, 1)); s.Latency[report.HistAck].Count != wantAcks {
		t.Fatalf("ack histogram %+v, want %d", s.Latency[report.HistAck], wantAcks)
	}
	if offered > 0 {
		want := offered * res.Total.MeasureSeconds
		if d := float64(s.Sent) - want; d > want*0.05+2 || -d > want*0.05+2 {
			t.Fatalf("sent %d in %.2fs, want %.0f ±5%%", s.Sent, res.Total.MeasureSeconds, want)
		}
	}
}

// TestMixedSmoke: idle visitors reconnecting while pairs chat and agents
// answer every message, against a real Kefu.
func TestMixedSmoke(t *testing.T) {
	srv := testserver.Start(t)
	spec := smokeSpec("mixed", srv.Addr(), "frame")
	spec.MsgRate, spec.Reconnect = 200, 40
	res := run(t, Options{Spec: spec, InProcess: true})
	s := res.Summary
	if s.Connected != 60 || s.Failed != 0 || s.Sent == 0 {
		t.Fatalf("summary %+v failures %v", s, res.Total.Failures)
	}
	// Visitors send 200/s for 0.5s; every message is answered once.
	if s.Acked != s.Sent || s.Delivered != s.Sent || s.Lost != 0 || s.Duplicates != 0 || s.Unacked != 0 {
		t.Fatalf("accounting %+v errors %v", s, res.Total.Errors)
	}
	if s.Sent < 150 || s.Sent > 220 {
		t.Fatalf("sent %d, want about 2 × 100 (visitors and the answers)", s.Sent)
	}
	if s.Cycles < 5 || s.Latency[report.HistConnect].Count != s.Connected+s.Cycles || len(res.Total.Closes) != 0 {
		t.Fatalf("reconnections %d, connect latency %+v, closes %v", s.Cycles, s.Latency[report.HistConnect], res.Total.Closes)
	}
}
