package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/bench/probe"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/bench/scenario"
)

// Options configures a coordinated run. Zero values take the documented
// defaults.
type Options struct {
	// Spec is the whole run; the coordinator splits it among workers.
	Spec scenario.Spec
	// Workers is the number of worker processes. Default: as many as the
	// connections need at PerProcess each; 1 runs in this process.
	Workers int
	// PerProcess is the most connections one process holds. Default: its
	// open-file limit minus 512.
	PerProcess int
	// InProcess runs the workers as goroutines of this process (tests).
	InProcess bool
	// Exe is the binary started as `Exe worker`. Default os.Executable().
	Exe string
	// ServerPID, when set, is the target's process: its RSS and CPU time
	// are read from /proc.
	ServerPID int
	// MetricsURL, when set, is the target's Prometheus page.
	MetricsURL string
	// Progress receives the live status line; nil: none.
	Progress io.Writer
	// ProgressTTY refreshes the line in place (\r) every second instead
	// of printing a line every 5 seconds.
	ProgressTTY bool
	// Stderr receives the workers' stderr. Default os.Stderr.
	Stderr io.Writer
	// Params are echoed in the result.
	Params map[string]string
}

// Connections returns how many connections a spec holds at once.
func Connections(s scenario.Spec) int {
	switch s.Scenario {
	case "relay":
		return 2 * s.Pairs
	case "mqtt":
		return s.Pairs * (1 + max(s.Fanout, 1))
	case "mixed":
		return s.Conns + 2*s.Pairs
	}
	return s.Conns
}

// Split divides spec among n workers: connection counts and rates in
// proportion, remainders to the first workers. Pairs (relay, mixed) and
// topic groups (mqtt) are never cut; mixed splits its idle connections
// and its pairs alike.
func Split(spec scenario.Spec, n int) []scenario.Spec {
	byPairs := spec.Scenario == "relay" || spec.Scenario == "mqtt" || spec.Scenario == "mixed"
	units := spec.Conns
	if byPairs {
		units = spec.Pairs
	}
	if spec.Scenario == "mixed" {
		units = min(spec.Pairs, spec.Conns) // every worker gets some of each
	}
	n = max(1, min(n, units))
	out := make([]scenario.Spec, n)
	share := func(total, i int) int { return total/n + btoi(i < total%n) }
	for i := range out {
		s := spec
		s.Worker = i
		u := share(units, i)
		frac := float64(u) / float64(units)
		switch {
		case spec.Scenario == "mixed":
			s.Pairs, s.Conns = share(spec.Pairs, i), share(spec.Conns, i)
			frac = float64(s.Pairs) / float64(spec.Pairs)
			s.Reconnect = spec.Reconnect * float64(s.Conns) / float64(spec.Conns)
		case byPairs:
			s.Pairs = u
		default:
			s.Conns = u
			s.Reconnect = spec.Reconnect * frac
		}
		s.MsgRate = spec.MsgRate * frac
		s.ConnRate = spec.ConnRate * frac
		s.MaxConnects = max(1, share(spec.MaxConnects, i))
		s.MaxHandshakes = max(1, share(spec.MaxHandshakes, i))
		out[i] = s
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

type workerEvent struct {
	idx int
	ev  Event
	eof bool
}

type worker struct {
	idx   int
	in    io.WriteCloser
	cmd   *exec.Cmd
	last  report.Snapshot
	ready bool
	final bool
	ended bool
	err   string
}

// Run runs o.Spec on its workers and returns the aggregated result.
// Cancelling ctx stops the workers early; they still report.
func Run(ctx context.Context, o Options) (*report.Result, error) {
	spec := o.Spec
	spec.EnsureDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if o.PerProcess <= 0 {
		lim, _ := probe.RaiseFileLimit()
		o.PerProcess = max(int(lim)-512, 100)
	}
	n := o.Workers
	if n <= 0 {
		n = (Connections(spec) + o.PerProcess - 1) / o.PerProcess
	}
	specs := Split(spec, n)
	inProc := o.InProcess || len(specs) == 1
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}

	res := &report.Result{
		Scenario:  spec.Scenario,
		Target:    spec.Addr,
		Transport: spec.Transport,
		Started:   time.Now(),
		Workers:   len(specs),
		Params:    o.Params,
	}
	res.LoadBefore, _ = probe.LoadAvg()
	srv := newServerProbe(o.ServerPID, o.MetricsURL)
	srv.before(ctx)
	selfU0, selfS0 := SelfCPU()
	t0 := time.Now()

	evs := make(chan workerEvent, 64)
	workers := make([]*worker, len(specs))
	for i := range specs {
		w, err := startWorker(ctx, i, &specs[i], inProc, o, evs)
		if err != nil {
			for _, w := range workers[:i] {
				w.kill()
			}
			return nil, err
		}
		workers[i] = w
	}

	deadline := t0.Add(spec.SetupTimeout + timedPart(spec) + spec.Drain + time.Minute)
	// Workers report on whole seconds; read their reports 300ms later, so
	// that each tick sees one new report from each.
	tickC := make(chan time.Time, 1)
	tickStop := make(chan struct{})
	defer close(tickStop)
	go func() {
		next := time.Now().Truncate(SnapshotEvery).Add(SnapshotEvery + 300*time.Millisecond)
		for {
			select {
			case <-tickStop:
				return
			case <-time.After(time.Until(next)):
			}
			select {
			case tickC <- time.Now():
			default:
			}
			next = next.Add(SnapshotEvery)
		}
	}()
	var (
		started, stopping bool
		killAt            <-chan time.Time
		sampleUntil       time.Time
		prevTotal         report.Snapshot
		prevT             time.Time = t0
		tick              int
		progressShown     bool
	)
	done := func() bool {
		for _, w := range workers {
			if !w.ended {
				return false
			}
		}
		return true
	}
	stopAll := func() {
		if stopping {
			return
		}
		stopping = true
		for _, w := range workers {
			_ = w.send(Command{Stop: true})
		}
		killAt = time.After(30 * time.Second)
	}
	ctxDone := ctx.Done()
	for !done() {
		select {
		case we := <-evs:
			w := workers[we.idx]
			switch {
			case we.eof:
				w.ended = true
				if !w.final && w.err == "" {
					w.err = "worker exited without a report"
				}
			default:
				if we.ev.Snap != nil {
					w.last = *we.ev.Snap
				}
				if we.ev.Ready {
					w.ready = true
				}
				if we.ev.Final {
					w.final = true
				}
				if we.ev.Err != "" {
					w.err = we.ev.Err
				}
			}
			if !started && !stopping && allReady(workers) {
				started = true
				srv.sample(total(workers))
				at := time.Now().Add(100 * time.Millisecond)
				// Read the target only while every connection is surely up:
				// workers close theirs as soon as the timed part ends.
				sampleUntil = at.Add(timedPart(spec) - 300*time.Millisecond)
				for _, w := range workers {
					_ = w.send(Command{Start: &at})
				}
			}
			if w.err != "" && !w.final && !stopping {
				stopAll()
			}
		case now := <-tickC:
			tick++
			if !stopping && now.After(deadline) { // a worker hangs: every part is bounded
				stopAll()
			}
			tot := total(workers)
			if tot.At == 0 || tot.At == prevTotal.At {
				break // no report yet, or none new
			}
			secs := report.Seconds(tot, prevTotal)
			if secs <= 0 {
				secs = now.Sub(prevT).Seconds()
			}
			p := report.PointOf(spec.Scenario, time.Unix(0, tot.At).Sub(t0).Seconds(), secs, report.Diff(tot, prevTotal))
			res.Series = append(res.Series, p)
			prevTotal, prevT = tot, now
			if started && now.Before(sampleUntil) {
				srv.sample(tot)
			}
			if o.Progress != nil && (o.ProgressTTY || tick%5 == 0) {
				line := report.ProgressLine(spec.Scenario, p.T, tot, p)
				if o.ProgressTTY {
					fmt.Fprintf(o.Progress, "\r%-110s", line)
					progressShown = true
				} else {
					fmt.Fprintln(o.Progress, line)
				}
			}
		case <-ctxDone:
			ctxDone = nil
			stopAll()
		case <-killAt:
			for _, w := range workers {
				if !w.ended {
					w.kill()
					w.err = "killed after stop timeout"
				}
			}
			killAt = nil
		}
	}
	if progressShown {
		fmt.Fprintln(o.Progress)
	}
	for _, w := range workers {
		w.wait()
	}

	res.WallSeconds = time.Since(t0).Seconds()
	res.LoadAfter, _ = probe.LoadAvg()
	res.Total = total(workers)
	offered := 0.0
	if spec.Scenario == "relay" || spec.Scenario == "mqtt" || spec.Scenario == "mixed" {
		offered = spec.MsgRate
	}
	res.Summary = report.Summarize(res.Total, offered, res.Total.Counter("peak_open"))
	res.Server = srv.after(ctx)
	u, s := SelfCPU()
	u, s = u-selfU0, s-selfS0
	if !inProc {
		cu, cs := probe.Usage(syscall.RUSAGE_CHILDREN)
		u, s = u+cu, s+cs
	}
	res.Bench = report.Usage{UserSeconds: u, SysSeconds: s, CorePercent: 100 * (u + s) / res.WallSeconds}
	var errs []string
	for _, w := range workers {
		if w.err != "" {
			errs = append(errs, fmt.Sprintf("worker %d: %s", w.idx, w.err))
		}
	}
	if len(errs) > 0 {
		return res, errors.New(strings.Join(errs, "; "))
	}
	return res, nil
}

// timedPart is how long the part of a run after setup lasts.
func timedPart(s scenario.Spec) time.Duration {
	switch s.Scenario {
	case "conn":
		return s.Hold
	case "relay", "mqtt", "mixed":
		return s.Warmup + s.Duration
	}
	return s.Duration
}

func allReady(ws []*worker) bool {
	for _, w := range ws {
		if !w.ready && !w.ended {
			return false
		}
	}
	return true
}

func total(ws []*worker) report.Snapshot {
	var t report.Snapshot
	for _, w := range ws {
		t = report.Merge(t, w.last)
	}
	return t
}

func startWorker(ctx context.Context, i int, spec *scenario.Spec, inProc bool, o Options, evs chan<- workerEvent) (*worker, error) {
	w := &worker{idx: i}
	var out io.Reader
	if inProc {
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		w.in, out = inW, outR
		go func() {
			_ = Serve(context.WithoutCancel(ctx), inR, outW, SelfCPU) // errors travel in the events
			_ = outW.Close()
			_ = inR.Close()
		}()
	} else {
		exe := o.Exe
		if exe == "" {
			var err error
			if exe, err = os.Executable(); err != nil {
				return nil, err
			}
		}
		cmd := exec.Command(exe, "worker")
		cmd.Stderr = o.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start worker: %w", err)
		}
		w.cmd, w.in, out = cmd, in, stdout
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var ev Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				continue
			}
			evs <- workerEvent{idx: i, ev: ev}
		}
		evs <- workerEvent{idx: i, eof: true}
	}()
	if err := w.send(Command{Spec: spec}); err != nil {
		w.kill()
		return nil, err
	}
	return w, nil
}

func (w *worker) send(c Command) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = w.in.Write(append(b, '\n'))
	return err
}

func (w *worker) kill() {
	_ = w.in.Close()
	if w.cmd != nil && w.cmd.Process != nil {
		_ = w.cmd.Process.Kill()
	}
}

func (w *worker) wait() {
	_ = w.in.Close()
	if w.cmd != nil {
		_ = w.cmd.Wait()
	}
}

// serverProbe reads the target's memory, CPU and metrics.
type serverProbe struct {
	pid        int
	url        string
	rss0, cpu0 float64
	kern0      int64
	metrics0   map[string]float64
	best       struct {
		open   int64
		rss    int64
		kern   int64
		gauges map[string]float64
	}
	notes []string
}

func newServerProbe(pid int, url string) *serverProbe { return &serverProbe{pid: pid, url: url} }

// gaugeNames are the target metrics reported as they are at the peak.
var gaugeNames = []string{
	"kefu_connections", "process_resident_memory_bytes", "go_memstats_heap_inuse_bytes",
	"go_goroutines", "process_open_fds", "kefu_conversations_loaded", "kefu_mqtt_clients", "kefu_mqtt_sessions",
}

func (p *serverProbe) before(ctx context.Context) {
	if p.pid > 0 {
		if v, err := probe.RSS(p.pid); err == nil {
			p.rss0 = float64(v)
		} else {
			p.notes = append(p.notes, "server pid: "+err.Error())
			p.pid = 0
		}
		p.cpu0, _ = probe.CPU(p.pid)
	}
	if ss, err := probe.ReadSockstat(); err == nil {
		p.kern0 = ss.MemBytes
	}
	if p.url != "" {
		m, err := probe.Scrape(ctx, p.url)
		if err != nil {
			p.notes = append(p.notes, "metrics: "+err.Error())
			p.url = ""
			return
		}
		p.metrics0 = m
	}
}

// sample reads the target while connections are up; the reading with the
// most open connections (the latest on ties) is the one reported.
func (p *serverProbe) sample(tot report.Snapshot) {
	if tot.Open < p.best.open || tot.Open == 0 {
		return
	}
	p.best.open = tot.Open
	if p.pid > 0 {
		if v, err := probe.RSS(p.pid); err == nil {
			p.best.rss = v
		}
	}
	if ss, err := probe.ReadSockstat(); err == nil {
		p.best.kern = ss.MemBytes
	}
	if p.url != "" {
		if m, err := probe.Scrape(context.Background(), p.url); err == nil {
			g := make(map[string]float64)
			for _, k := range gaugeNames {
				if v, ok := m[k]; ok {
					g[k] = v
				}
			}
			p.best.gauges = g
		}
	}
}

func (p *serverProbe) after(ctx context.Context) *report.Server {
	if p.pid == 0 && p.url == "" && len(p.notes) == 0 {
		return nil
	}
	s := &report.Server{PID: p.pid, Notes: p.notes, Metrics: p.best.gauges}
	if p.pid > 0 {
		s.RSSBefore = int64(p.rss0)
		s.RSSAfter = p.best.rss
		if p.best.open > 0 && p.best.rss > 0 {
			s.RSSPerConn = float64(p.best.rss-int64(p.rss0)) / float64(p.best.open)
		}
		if c, err := probe.CPU(p.pid); err == nil {
			s.CPUSeconds = c - p.cpu0
		}
	}
	if p.best.open > 0 && p.best.kern > p.kern0 {
		s.KernelPerConn = float64(p.best.kern-p.kern0) / float64(p.best.open)
	}
	if p.url != "" {
		if m, err := probe.Scrape(ctx, p.url); err == nil {
			s.MetricsDelta = make(map[string]float64)
			for k, v := range m {
				if strings.HasSuffix(k, "_total") || strings.HasSuffix(k, "_sum") || strings.HasSuffix(k, "_count") {
					if d := v - p.metrics0[k]; d != 0 && strings.HasPrefix(k, "kefu_") {
						s.MetricsDelta[k] = d
					}
				}
			}
			if c := s.MetricsDelta["kefu_storage_commit_duration_seconds_count"]; c > 0 {
				s.MetricsDelta["kefu_storage_commit_mean_ms"] = 1000 * s.MetricsDelta["kefu_storage_commit_duration_seconds_sum"] / c
			}
		}
	}
	return s
}

// CheckTarget refuses a non-loopback address unless allowed.
func CheckTarget(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !allowRemote && !probe.IsLoopback(host) {
		return fmt.Errorf("target %s is not a loopback address; pass --allow-remote to load another machine", addr)
	}
	return nil
}
