package scenario

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/bench/client"
	"github.com/kefu-im/kefu/bench/hist"
	"github.com/kefu-im/kefu/bench/report"
	"github.com/kefu-im/kefu/internal/token"
	pb "github.com/kefu-im/kefu/proto"
)

// Scenario is one process's part of a run. Setup, then Run, then Close,
// from one goroutine; Snapshot from any goroutine at any time.
type Scenario interface {
	// Setup opens the connections the scenario needs before its clock
	// starts, and returns once each is welcomed or failed, or when ctx is
	// done or SetupTimeout passes (then it goes on with what it has).
	Setup(ctx context.Context) error
	// Run runs the timed part from start (wall clock) and returns when it
	// is over or ctx is done.
	Run(ctx context.Context, start time.Time) error
	// Snapshot returns the cumulative state so far.
	Snapshot() report.Snapshot
	// Close closes every connection and stops the event loops.
	Close() error
}

// New returns the scenario spec describes, with its event loops started.
func New(spec Spec) (Scenario, error) {
	spec.EnsureDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	switch spec.Scenario {
	case "conn":
		return newConn(spec)
	case "relay":
		return newRelay(spec)
	case "mqtt":
		return newMQTT(spec)
	case "mixed":
		return newMixed(spec)
	default:
		return newStorm(spec)
	}
}

// Counter indexes of loopStats.
const (
	cConnected = iota
	cJoined
	cSent
	cAcked
	cDelivered
	cDuplicates
	cReordered
	cSendErrors
	cSkipped
	cSentAll
	cAckedAll
	cDeliveredAll
	cSendErrorsAll
	cCycles
	cExpected
	cExpectedAll
	numCounters
)

var counterNames = [numCounters]string{
	cConnected: report.Connected, cJoined: report.Joined, cSent: report.Sent, cAcked: report.Acked,
	cDelivered: report.Delivered, cDuplicates: report.Duplicates, cReordered: report.Reordered,
	cSendErrors: report.SendErrors, cSkipped: report.Skipped, cSentAll: report.SentAll,
	cAckedAll: "acked_all", cDeliveredAll: report.DeliveredAll, cSendErrorsAll: "send_errors_all",
	cCycles: report.Cycles, cExpected: report.Expected, cExpectedAll: "expected_all",
}

// Histogram indexes of loopStats.
const (
	hConnect = iota
	hTCP
	hAck
	hE2E
	numHists
)

var histNames = [numHists]string{hConnect: report.HistConnect, hTCP: report.HistTCP, hAck: report.HistAck, hE2E: report.HistE2E}

// loopStats is what one event loop counts; only that loop writes it.
type loopStats struct {
	c [numCounters]atomic.Int64
	h [numHists]hist.Histogram
	_ [64]byte
}

// base is what every scenario shares: the pool, the counters, the reason
// maps, the phase and the dialers.
type base struct {
	spec  Spec
	pool  *client.Pool
	stats []loopStats

	attempts atomic.Int64
	failed   atomic.Int64
	open     atomic.Int64
	peakOpen atomic.Int64
	phase    atomic.Pointer[string]

	mu       sync.Mutex
	failures map[string]int64
	closes   map[string]int64
	errors   map[string]int64

	setupStart atomic.Int64 // pool time of the first dial, +1 (0 = not yet)
	setupEnd   atomic.Int64 // pool time the connect phase ended, +1
	measure    atomic.Int64 // measured window, nanoseconds

	jobs     chan *client.Conn // dial requests
	slots    chan struct{}     // handshakes (storm: connections) in flight
	stopDial chan struct{}
	dialWG   sync.WaitGroup
	stopOnce sync.Once

	// onDialFail is called (on a dialer goroutine) for a conn that was
	// never enrolled.
	onDialFail func(c *client.Conn)
	// pickLoop, when set, chooses the loop a conn is dialed on (else: in
	// turn).
	pickLoop func(c *client.Conn) *client.Loop
	// mqtt: the connections speak MQTT.
	mqtt bool
}

func (b *base) init(spec Spec, h client.Handler, tick time.Duration) error {
	b.spec = spec
	b.failures = make(map[string]int64)
	b.closes = make(map[string]int64)
	b.errors = make(map[string]int64)
	b.setPhase("connect")
	tr, _ := client.ParseTransport(spec.Transport)
	srcs, _ := ParseSources(joinSources(spec.Sources))
	host := spec.Addr
	pool, err := client.New(client.Options{
		Addr:             spec.Addr,
		Path:             spec.Path,
		Host:             host,
		Transport:        tr,
		Loops:            spec.Loops,
		Sources:          srcs,
		HandshakeTimeout: spec.HandshakeTimeout,
		Heartbeat:        spec.Heartbeat,
		Tick:             tick,
		Handler:          h,
	})
	if err != nil {
		return err
	}
	b.pool = pool
	b.mqtt = tr == client.MQTT
	b.stats = make([]loopStats, len(pool.Loops()))
	b.jobs = make(chan *client.Conn)
	b.slots = make(chan struct{}, spec.MaxHandshakes)
	b.stopDial = make(chan struct{})
	return nil
}

func joinSources(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func (b *base) setPhase(p string) { b.phase.Store(&p) }

func (b *base) st(c *client.Conn) *loopStats { return &b.stats[c.Loop().Index] }

func (b *base) addReason(m map[string]int64, reason string) {
	b.mu.Lock()
	m[reason]++
	b.mu.Unlock()
}

// startDialers starts the dialing goroutines. Each dial takes a slot,
// released by releaseSlot.
func (b *base) startDialers(ctx context.Context) {
	for range b.spec.Dialers {
		b.dialWG.Go(func() {
			for {
				var c *client.Conn
				select {
				case <-b.stopDial:
					return
				case c = <-b.jobs:
				}
				select {
				case b.slots <- struct{}{}:
				case <-b.stopDial:
					b.dialFailed(c, "canceled")
					return
				}
				b.setupStart.CompareAndSwap(0, int64(b.pool.Now())+1)
				b.attempts.Add(1)
				var err error
				if b.pickLoop != nil {
					err = b.pool.DialOn(ctx, b.pickLoop(c), c)
				} else {
					err = b.pool.Dial(ctx, c)
				}
				if err != nil {
					b.releaseSlot()
					b.dialFailed(c, client.DialReason(err))
				}
			}
		})
	}
}

// stopDialers stops the dialers and waits for them.
func (b *base) stopDialers() {
	b.stopOnce.Do(func() { close(b.stopDial) })
	b.dialWG.Wait()
}

func (b *base) releaseSlot() {
	select {
	case <-b.slots:
	default:
	}
}

func (b *base) dialFailed(c *client.Conn, reason string) {
	b.failed.Add(1)
	b.addReason(b.failures, reason)
	if b.onDialFail != nil {
		b.onDialFail(c)
	}
}

// feed hands n connections made by mk to the dialers at rate per second
// (0: as fast as slots free up). It returns when all are handed over or ctx
// is done, or stop is closed.
func (b *base) feed(ctx context.Context, n int, rate float64, mk func(i int) *client.Conn) {
	sched := NewSchedule(b.pool.Now(), rate)
	for i := 0; i < n; {
		if rate > 0 {
			now := b.pool.Now()
			if sched.Due(now) == 0 {
				wait := sched.At(sched.Taken()) - now
				select {
				case <-ctx.Done():
					return
				case <-b.stopDial:
					return
				case <-time.After(max(wait, 200*time.Microsecond)):
				}
				continue
			}
			sched.Next(now)
		}
		select {
		case b.jobs <- mk(i):
			i++
		case <-ctx.Done():
			return
		case <-b.stopDial:
			return
		}
	}
}

// identify sets what c says when it connects: a HELLO of role and user,
// or, on MQTT, the CONNECT of device user (user name "<site>/<user>",
// client id the same or "<site>/<user>/<suffix>", a device token as the
// password when there is a secret).
func (b *base) identify(c *client.Conn, role pb.Role, user, suffix string, exp time.Time) {
	if !b.mqtt {
		c.Hello = client.Hello{Site: b.spec.Site, Role: role, User: user, Client: "kefu-bench"}
		if role == pb.Role_ROLE_AGENT && b.spec.Secret != "" {
			c.Hello.Token = token.Sign([]byte(b.spec.Secret), b.spec.Site, "agent", user, exp)
		}
		return
	}
	name := b.spec.Site + "/" + user
	c.MQTT = client.MQTTConnect{Version: byte(b.spec.MQTTVersion), ClientID: name, Username: name}
	if suffix != "" {
		c.MQTT.ClientID = name + "/" + suffix
	}
	if b.spec.Secret != "" {
		c.MQTT.Password = token.Sign([]byte(b.spec.Secret), b.spec.Site, "device", user, exp)
	}
}

// deviceTopic is the topic root of device user: "kefu/<site>/<user>/".
func (b *base) deviceTopic(user string) string { return "kefu/" + b.spec.Site + "/" + user + "/" }

// Received ignores PUBLISH (scenarios that do not subscribe).
func (b *base) Received(*client.Conn, *client.Publish) {}

// Acked ignores the end of MQTT exchanges (scenarios that make none).
func (b *base) Acked(*client.Conn, client.Ack) {}

// welcomed does the common accounting of a WELCOME.
func (b *base) welcomed(c *client.Conn) { b.welcomedAs(c, cConnected) }

// welcomedAs is welcomed counting counter (cConnected, or cCycles for a
// connection dialed again) instead.
func (b *base) welcomedAs(c *client.Conn, counter int) {
	st := b.st(c)
	st.c[counter].Add(1)
	st.h[hConnect].Record(int64(c.Welcomed - c.Dialed))
	st.h[hTCP].Record(int64(c.Connected - c.Dialed))
	n := b.open.Add(1)
	for {
		p := b.peakOpen.Load()
		if n <= p || b.peakOpen.CompareAndSwap(p, n) {
			break
		}
	}
}

// closed does the common accounting of a close: a failure if c was never
// welcomed, else a close by reason (our own closes are not counted).
func (b *base) closed(c *client.Conn, reason string) {
	if !c.Ready() {
		if reason != "client_close" { // ours: the run ended during its handshake
			b.failed.Add(1)
			b.addReason(b.failures, reason)
		}
		return
	}
	b.open.Add(-1)
	if reason != "client_close" {
		b.addReason(b.closes, reason)
	}
}

// errorReply counts an ERROR after the handshake.
func (b *base) errorReply(m *client.Msg) {
	name := pb.CodeName(m.Code)
	if name == "" {
		name = "code_" + strconv.Itoa(int(m.Code))
	}
	b.addReason(b.errors, name)
}

func (b *base) markSetupEnd() {
	b.setupEnd.CompareAndSwap(0, int64(b.pool.Now())+1)
}

// waitSetup waits for done, ctx or the setup timeout, then marks the end
// of the connect phase.
func (b *base) waitSetup(ctx context.Context, done <-chan struct{}) error {
	t := time.NewTimer(b.spec.SetupTimeout)
	defer t.Stop()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		b.addReason(b.failures, "setup_timeout")
	}
	b.markSetupEnd()
	return err
}

// sleepUntil waits until pool time t or ctx; it reports whether t came.
func (b *base) sleepUntil(ctx context.Context, t time.Duration) bool {
	d := t - b.pool.Now()
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopSending runs stop on every loop, after whatever that loop is doing,
// and waits until all have run it (or ctx ends: false). A scenario's stop
// serves what is still due and then turns its sender off, so that once
// stopSending returns no loop sends again and the drain can count what is
// outstanding. Without it a loop that is late with its schedule may still
// send after the drain has found everything answered.
func (b *base) stopSending(ctx context.Context, stop func(l *client.Loop)) bool {
	var wg sync.WaitGroup
	for _, l := range b.pool.Loops() {
		wg.Add(1)
		if !l.Exec(func() { defer wg.Done(); stop(l) }) { // never had a connection, or stopped
			wg.Done()
		}
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// poolTime converts a wall-clock instant to pool time.
func (b *base) poolTime(t time.Time) time.Duration { return b.pool.Now() + time.Until(t) }

func (b *base) snapshot() report.Snapshot {
	s := report.Snapshot{
		At:       time.Now().UnixNano(),
		Phase:    *b.phase.Load(),
		Open:     b.open.Load(),
		Counters: make(map[string]int64, numCounters+3),
		Hists:    make(map[string]hist.Snap, numHists),
	}
	for i := range b.stats {
		for j := range numCounters {
			if v := b.stats[i].c[j].Load(); v != 0 {
				s.Counters[counterNames[j]] += v
			}
		}
		for j := range numHists {
			if b.stats[i].h[j].Count() > 0 {
				s.Hists[histNames[j]] = hist.Merge(s.Hists[histNames[j]], b.stats[i].h[j].Snapshot())
			}
		}
	}
	s.Counters[report.Attempts] = b.attempts.Load()
	s.Counters[report.Failed] = b.failed.Load()
	s.Counters["peak_open"] = b.peakOpen.Load()
	b.mu.Lock()
	s.Failures = cloneNonEmpty(b.failures)
	s.Closes = cloneNonEmpty(b.closes)
	s.Errors = cloneNonEmpty(b.errors)
	b.mu.Unlock()
	if st := b.setupStart.Load(); st > 0 {
		end := b.setupEnd.Load()
		if end == 0 {
			end = int64(b.pool.Now()) + 1
		}
		s.SetupSeconds = time.Duration(end - st).Seconds()
	}
	s.MeasureSeconds = time.Duration(b.measure.Load()).Seconds()
	return s
}

func cloneNonEmpty(m map[string]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// closePool stops dialing and closes the connections.
func (b *base) closePool() error {
	b.stopDialers()
	b.setPhase("done")
	n := b.pool.Open()
	timeout := 5*time.Second + time.Duration(n)*50*time.Microsecond
	err := b.pool.Close(timeout)
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}

// errSetup marks a scenario that could not set up at all.
var errSetup = errors.New("scenario: no connection could be set up")

// appendCMID formats a client_msg_id: "<tag>-<k>-<t>" with the sender's
// tag, its message number k and the intended send time t (pool
// nanoseconds). The tag keeps the ids of a pair's two senders apart: a
// server may de-duplicate by client_msg_id within a conversation.
func appendCMID(dst []byte, tag int, k uint64, t time.Duration) []byte {
	dst = strconv.AppendInt(dst, int64(tag), 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, k, 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, int64(t), 10)
}

// parseCMID reads the message number and time of what appendCMID wrote.
func parseCMID(b []byte) (k uint64, t time.Duration, ok bool) {
	i := 0
	for ; i < len(b) && b[i] != '-'; i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0, 0, false
		}
	}
	if i == 0 || i == len(b) {
		return 0, 0, false
	}
	b = b[i+1:]
	i = 0
	for ; i < len(b) && b[i] != '-'; i++ {
		if b[i] < '0' || b[i] > '9' || k > (math.MaxUint64-9)/10 {
			return 0, 0, false
		}
		k = k*10 + uint64(b[i]-'0')
	}
	if i == 0 || i >= len(b)-1 {
		return 0, 0, false
	}
	var v int64
	for _, c := range b[i+1:] {
		if c < '0' || c > '9' || v > (math.MaxInt64-9)/10 {
			return 0, 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return k, time.Duration(v), true
}
