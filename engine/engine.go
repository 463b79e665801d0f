package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/internal/clock"
	"github.com/kefu-im/kefu/internal/wheel"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Authenticator checks a HELLO. It runs on an event loop: no I/O, no
// blocking. Declared here, where it is used.
type Authenticator interface {
	Authenticate(h *proto.Hello) (*shard.Identity, error)
}

// Router is what the engine needs of the shards.
type Router interface {
	ShardOf(conversation string) int
	SubmitTo(shard int, req shard.Request) bool
	// SubmitDesk queues req for the routing desk (presence, status,
	// claims, transfers); false = full or stopping.
	SubmitDesk(req shard.Request) bool
	Shards() int
}

type listener struct {
	cfg   Listener
	bound net.Addr
	count atomic.Int64
}

// Engine is the gnet reactor: it owns every client connection.
type Engine struct {
	gnet.BuiltinEventEngine

	opts    Options
	log     *slog.Logger
	auth    Authenticator
	router  Router
	m       *metrics
	clock   *clock.Coarse
	wheel   *wheel.Wheel[*conn]
	fireFn  func(*conn) (int64, bool) // e.fire at e.tickNow, bound once
	tickNow int64                     // ticker-owned: now of the current OnTick

	lns     []*listener
	byPort  map[int]*listener
	upgrade ws.UpgradeOptions
	// globalOrigin is the gateway.allowed_origins check.
	globalOrigin func([]byte) bool
	wsDecode     ws.DecodeOptions
	pingWS       []byte
	pingFrm      []byte
	mq           mqttSide // the MQTT broker and what its connections share

	nextID   atomic.Uint64
	open     atomic.Int64
	draining atomic.Bool
	drainAll atomic.Bool // ticker: say goodbye to everyone once

	gnetEng  gnet.Engine
	booted   chan struct{}
	bootErr  error
	runErr   chan error
	stopOnce sync.Once
}

// New builds an Engine. Start runs it.
func New(opts Options, auth Authenticator, router Router) (*Engine, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if auth == nil || router == nil {
		return nil, errors.New("engine: nil authenticator or router")
	}
	e := &Engine{
		opts:   opts,
		log:    opts.Logger,
		auth:   auth,
		router: router,
		m:      newMetrics(opts.Registerer),
		clock:  clock.NewCoarse(10 * time.Millisecond),
		byPort: make(map[int]*listener),
		booted: make(chan struct{}),
		runErr: make(chan error, 1),
	}
	var err error
	if e.wheel, err = wheel.New[*conn](wheel.Options{Tick: opts.Tick}); err != nil {
		return nil, err
	}
	e.fireFn = func(c *conn) (int64, bool) { return e.fire(c, e.tickNow) }
	for _, l := range opts.Listeners {
		e.lns = append(e.lns, &listener{cfg: l})
	}
	global := newOriginChecker(opts.AllowedOrigins)
	e.upgrade = ws.UpgradeOptions{
		CheckOrigin: global,
		Protocols:   []string{subprotoJSON, subprotoProto},
	}
	if opts.AnySiteOrigin != nil {
		// A browser origin allowed by a site only is tagged; the HELLO
		// must then name a site that lists it (originAllows).
		e.upgrade.CheckOrigin = func(o []byte) bool { return global(o) || opts.AnySiteOrigin(o) }
		e.upgrade.OriginTag = func(o []byte) uint32 {
			if global(o) {
				return 0
			}
			return originTag(o)
		}
	}
	e.globalOrigin = global
	e.upgrade.EnsureDefaults()
	e.wsDecode = ws.DecodeOptions{MaxMessageSize: opts.MaxFrameBytes}
	e.wsDecode.EnsureDefaults()
	e.pingWS = ws.AppendPing(nil, nil)
	e.pingFrm = appendFrameType(nil, proto.Type_TYPE_PING)
	e.initMQTT(opts.MQTT)
	return e, nil
}

// WebSocket subprotocols (docs/protocol-ws.md).
const (
	subprotoJSON  = "kefu.json"
	subprotoProto = "kefu.proto"
)

// Start launches the reactor and returns once its listeners are bound.
func (e *Engine) Start() error {
	addrs := make([]string, len(e.lns))
	for i, l := range e.lns {
		addrs[i] = "tcp://" + l.cfg.Addr
	}
	e.clock.Start()
	go func() {
		err := gnet.Rotate(e, addrs,
			gnet.WithNumEventLoop(e.opts.EventLoops),
			gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReuseAddr(true),
			gnet.WithLogger(gnetLogger{e.log}),
		)
		e.runErr <- err
		select {
		case <-e.booted:
		default:
			e.bootErr = err
			close(e.booted)
		}
	}()
	<-e.booted
	if e.bootErr != nil {
		e.clock.Stop()
		return fmt.Errorf("engine: %w", e.bootErr)
	}
	for _, l := range e.lns {
		e.log.Info("listening", "addr", l.bound.String(), "protocol", string(l.cfg.Protocol))
	}
	return nil
}

// Addr returns the bound address of listener i (useful with port 0).
func (e *Engine) Addr(i int) net.Addr { return e.lns[i].bound }

// Connections is the number of open connections.
func (e *Engine) Connections() int64 { return e.open.Load() }

// Draining reports whether Drain was called.
func (e *Engine) Draining() bool { return e.draining.Load() }

// OnBoot records the engine and the bound addresses of its listeners.
func (e *Engine) OnBoot(eng gnet.Engine) gnet.Action {
	e.gnetEng = eng
	for _, l := range e.lns {
		fd, err := eng.DupListener("tcp", l.cfg.Addr)
		if err != nil {
			e.bootErr = fmt.Errorf("listener %s: %w", l.cfg.Addr, err)
			close(e.booted)
			return gnet.Shutdown
		}
		sa, err := unix.Getsockname(fd)
		_ = unix.Close(fd)
		if err != nil {
			e.bootErr = err
			close(e.booted)
			return gnet.Shutdown
		}
		var port int
		switch a := sa.(type) {
		case *unix.SockaddrInet4:
			port = a.Port
			l.bound = &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
		case *unix.SockaddrInet6:
			port = a.Port
			l.bound = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
		}
		if _, dup := e.byPort[port]; dup {
			e.bootErr = errors.New("two listeners on port " + strconv.Itoa(port))
			close(e.booted)
			return gnet.Shutdown
		}
		e.byPort[port] = l
	}
	close(e.booted)
	return gnet.None
}

func (e *Engine) listenerOf(a net.Addr) *listener {
	if len(e.lns) == 1 {
		return e.lns[0]
	}
	if t, ok := a.(*net.TCPAddr); ok {
		if l := e.byPort[t.Port]; l != nil {
			return l
		}
	}
	return e.lns[0]
}

// OnOpen sets up the connection's state; it writes nothing.
func (e *Engine) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	now := e.clock.Now()
	c := &conn{gc: gc, e: e, ln: e.listenerOf(gc.LocalAddr()), id: e.nextID.Add(1), opened: now}
	c.lastRead.Store(now)
	gc.SetContext(c)
	e.open.Add(1)
	c.ln.count.Add(1)
	e.m.accepted.Inc()
	switch c.ln.cfg.Protocol {
	case ProtoWS:
		c.proto, c.state = protoWS, stateUpgrade
	case ProtoFrame:
		c.proto, c.state = protoFrame, stateHello
	case ProtoMQTT:
		e.openMQTT(c, protoMQTT)
	}
	e.m.conns[c.proto].Inc()
	switch {
	case e.draining.Load():
		c.markClosing(reasonDraining)
		return nil, gnet.Close
	case c.ln.count.Load() > int64(c.ln.cfg.MaxConns):
		c.markClosing(reasonConnLimit)
		return nil, gnet.Close
	case !e.wheel.Schedule(c, now+min(int64(e.opts.HandshakeTimeout), readyRecheck)):
		c.markClosing(reasonOverload)
		return nil, gnet.Close
	}
	return nil, gnet.None
}

// OnClose counts the close and tells the shards to forget the connection.
func (e *Engine) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, _ := gc.Context().(*conn)
	if c == nil {
		return gnet.None
	}
	if err != nil {
		c.markClosing(reasonError)
	} else {
		c.markClosing(reasonPeer)
	}
	e.m.closed[c.reason.Load()].Inc()
	e.m.conns[c.proto].Dec()
	e.open.Add(-1)
	c.ln.count.Add(-1)
	c.ws.Reset(&e.wsDecode)
	if c.mq != nil {
		e.closedMQTT(c)
	}
	var who *shard.Identity
	if c.state == stateReady {
		who = c.who
	}
	e.forget(c, who, c.shards)
	return gnet.None
}

// OnTick advances the timing wheel: handshake deadlines, pings, idle
// timeouts and MQTT keep alives, and the goodbyes of a drain; it runs the
// MQTT broker's timers about once a second.
func (e *Engine) OnTick() (time.Duration, gnet.Action) {
	e.tickNow = e.clock.Now()
	if e.drainAll.Load() {
		e.drainAll.Store(false)
		e.wheel.Range(func(c *conn) { c.closeAsync(reasonDraining) })
	}
	e.wheel.Advance(e.tickNow, e.fireFn)
	e.tickMQTT(e.tickNow)
	return e.opts.Tick, gnet.None
}

// readyRecheck is how often a connection still in its handshake is looked
// at, so that the deadlines that follow it start on time.
const readyRecheck = int64(time.Second)

// fire decides what a connection's deadline means. Ticker goroutine only.
func (e *Engine) fire(c *conn, now int64) (int64, bool) {
	if c.closed.Load() {
		return 0, false
	}
	if !c.ready.Load() {
		deadline := c.opened + int64(e.opts.HandshakeTimeout)
		if now >= deadline {
			c.closeAsync(reasonHandshakeTimeout)
			return 0, false
		}
		// Look again soon: once ready, a deadline shorter than the
		// handshake timeout (an MQTT keep alive) must be found in time.
		return min(deadline, now+readyRecheck), true
	}
	if c.mq != nil { // set before ready: safe to read now
		return e.fireMQTT(c, now)
	}
	last := c.lastRead.Load()
	idle := now - last
	switch {
	case idle >= int64(e.opts.IdleTimeout):
		c.closeAsync(reasonIdleTimeout)
		return 0, false
	case idle >= int64(e.opts.PingInterval) && c.lastPing <= last:
		c.lastPing = now
		if c.proto == protoWS {
			c.Write([][]byte{e.pingWS})
		} else {
			c.Write([][]byte{e.pingFrm})
		}
		return last + int64(e.opts.IdleTimeout), true
	case c.lastPing > last:
		return last + int64(e.opts.IdleTimeout), true
	}
	return last + int64(e.opts.PingInterval), true
}

// Drain stops taking connections, tells every client to go (WebSocket
// close 1001, binary GOAWAY, MQTT 5 DISCONNECT 0x8B) and waits until they
// are gone or ctx ends.
func (e *Engine) Drain(ctx context.Context) error {
	if e.draining.Swap(true) {
		return nil
	}
	e.drainAll.Store(true)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for e.open.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Stop shuts the reactor down, closing what is still open.
func (e *Engine) Stop(ctx context.Context) error {
	var err error
	e.stopOnce.Do(func() {
		e.draining.Store(true)
		if err = e.gnetEng.Stop(ctx); err == nil {
			select {
			case <-e.runErr:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		e.clock.Stop()
	})
	return err
}

type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(f string, a ...any) { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Infof(f string, a ...any)  { g.l.Debug(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Warnf(f string, a ...any)  { g.l.Warn(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Errorf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
func (g gnetLogger) Fatalf(f string, a ...any) { g.l.Error(fmt.Sprintf(f, a...), "component", "gnet") }
