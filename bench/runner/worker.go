package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/bench/probe"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/bench/scenario"
)

// Command is one line the coordinator sends a worker.
type Command struct {
	// Spec starts the worker's setup (first command).
	Spec *scenario.Spec `json:"spec,omitempty"`
	// Start starts the timed part at this wall-clock instant.
	Start *time.Time `json:"start,omitempty"`
	// Stop asks the worker to finish now and report.
	Stop bool `json:"stop,omitempty"`
}

// Event is one line a worker sends the coordinator.
type Event struct {
	// Ready: the setup is over.
	Ready bool `json:"ready,omitempty"`
	// Final: Snap is the last snapshot; the worker exits after it.
	Final bool `json:"final,omitempty"`
	// Snap is the worker's cumulative snapshot.
	Snap *report.Snapshot `json:"snap,omitempty"`
	// Err is a fatal error (the worker exits after it).
	Err string `json:"error,omitempty"`
}

// SnapshotEvery is how often a worker reports.
const SnapshotEvery = time.Second

// Serve runs one worker: it reads commands from in (JSON lines), runs the
// scenario of the first one and writes events to out (JSON lines) until
// the final snapshot. It returns when the scenario is closed. EOF on in,
// a Stop command or ctx ending make the scenario finish early (and still
// report). cpu is called for the CPU time to put in the final snapshot.
func Serve(ctx context.Context, in io.Reader, out io.Writer, cpu func() (user, sys float64)) error {
	var wmu sync.Mutex
	enc := json.NewEncoder(out)
	emit := func(ev Event) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = enc.Encode(ev)
	}
	cmds := make(chan Command, 4)
	go func() { // reader: commands until EOF
		defer close(cmds)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var c Command
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				continue
			}
			cmds <- c
		}
	}()
	var spec *scenario.Spec
	select {
	case c, ok := <-cmds:
		if !ok || c.Spec == nil {
			err := errors.New("runner: no spec")
			emit(Event{Err: err.Error()})
			return err
		}
		spec = c.Spec
	case <-ctx.Done():
		return ctx.Err()
	}
	sc, err := scenario.New(*spec)
	if err != nil {
		emit(Event{Err: err.Error()})
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := make(chan time.Time, 1)
	go func() { // the rest of the commands: Start, then Stop or EOF
		for c := range cmds {
			switch {
			case c.Start != nil:
				start <- *c.Start
			case c.Stop:
				cancel()
			}
		}
		cancel()
	}()
	tickDone := make(chan struct{})
	var tickWG sync.WaitGroup
	tickWG.Go(func() { // periodic snapshots, on whole seconds of the wall clock
		select {
		case <-tickDone:
			return
		case <-time.After(time.Until(time.Now().Truncate(SnapshotEvery).Add(SnapshotEvery))):
		}
		s := sc.Snapshot()
		emit(Event{Snap: &s})
		t := time.NewTicker(SnapshotEvery)
		defer t.Stop()
		for {
			select {
			case <-tickDone:
				return
			case <-t.C:
				s := sc.Snapshot()
				emit(Event{Snap: &s})
			}
		}
	})
	finish := func(runErr error) error {
		close(tickDone)
		tickWG.Wait()
		cerr := sc.Close()
		s := sc.Snapshot()
		s.CPUUser, s.CPUSys = cpu()
		ev := Event{Final: true, Snap: &s}
		if runErr != nil && !errors.Is(runErr, context.Canceled) {
			ev.Err = runErr.Error()
		}
		emit(ev)
		return errors.Join(runErr, cerr)
	}
	if err := sc.Setup(ctx); err != nil {
		return finish(fmt.Errorf("setup: %w", err))
	}
	s := sc.Snapshot()
	emit(Event{Ready: true, Snap: &s})
	select {
	case t := <-start:
		return finish(sc.Run(ctx, t))
	case <-ctx.Done():
		return finish(ctx.Err())
	}
}

// SelfCPU is the CPU time of this process.
func SelfCPU() (user, sys float64) { return probe.Usage(syscall.RUSAGE_SELF) }
