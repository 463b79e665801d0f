package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Handler is what a scenario does with its connections. Every method runs
// on the event loop that owns the connection (Tick: on that loop), so a
// scenario's per-connection state needs no lock as long as only the
// connection's loop touches it.
type Handler interface {
	// Ready is called when the server has WELCOMEd the connection.
	Ready(c *Conn)
	// Message is called for every envelope after WELCOME except
	// heartbeats (PING/PONG), GOAWAY included.
	Message(c *Conn, m *Msg)
	// Closed is called once for every connection that was enrolled, with
	// a reason label (see the package doc). c.Ready tells whether it had
	// been welcomed.
	Closed(c *Conn, reason string)
	// Tick is called on each loop every Options.Tick.
	Tick(l *Loop, now time.Duration)
}

// Options configures a Pool. Zero values take the documented defaults.
type Options struct {
	// Addr is the target host:port. Required.
	Addr string
	// Path is the WebSocket path. Default "/ws".
	Path string
	// Host is the Host header of the upgrade. Default Addr.
	Host string
	// Transport is what connections speak. Default Frame (the zero value).
	Transport Transport
	// Loops is the number of event loops. Default GOMAXPROCS.
	Loops int
	// Sources are the local addresses connections are bound to, in turn
	// (IP_BIND_ADDRESS_NO_PORT: the port is picked at connect time, per
	// destination, so each source adds a full ephemeral port range).
	// Default none: the kernel chooses.
	Sources []netip.Addr
	// DialTimeout bounds the TCP connect. Default 5s.
	DialTimeout time.Duration
	// HandshakeTimeout bounds the time from dial to WELCOME. Default 10s.
	HandshakeTimeout time.Duration
	// Heartbeat is how long a welcomed connection may stay silent before
	// it sends a ping (WebSocket ping, a binary PING, or an MQTT PINGREQ).
	// Default 20s; negative: never. MQTT connections also derive their
	// keep alive from it (MQTTConnect.Keepalive).
	Heartbeat time.Duration
	// IdleTimeout closes a welcomed connection that received nothing for
	// this long, once a ping of its has also gone unanswered for
	// IdleTimeout − Heartbeat. Default 3×Heartbeat, or 90s without
	// heartbeats (then silence alone decides); negative: never.
	IdleTimeout time.Duration
	// Tick is the period of Handler.Tick on each loop. Default 100ms.
	Tick time.Duration
	// MaxPayload bounds an inbound frame payload. Default 16 MiB.
	MaxPayload int
	// Handler receives the connections' events. Required; with Transport
	// MQTT it must be an MQTTHandler.
	Handler Handler
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Path == "" {
		o.Path = "/ws"
	}
	if o.Host == "" {
		o.Host = o.Addr
	}
	if o.Loops <= 0 {
		o.Loops = runtime.GOMAXPROCS(0)
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 20 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 90 * time.Second
		if o.Heartbeat > 0 {
			o.IdleTimeout = 3 * o.Heartbeat
		}
	}
	if o.Tick <= 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = 16 << 20
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	switch {
	case o.Addr == "":
		return errors.New("client: no target address")
	case o.Handler == nil:
		return errors.New("client: no handler")
	case o.Transport > MQTT:
		return fmt.Errorf("client: unknown transport %d", o.Transport)
	}
	if _, ok := o.Handler.(MQTTHandler); o.Transport == MQTT && !ok {
		return errors.New("client: an MQTT pool needs an MQTTHandler")
	}
	return nil
}

// Pool holds client connections on a few gnet event loops: one gnet client
// per loop, so that a connection's loop is known when it is dialed.
type Pool struct {
	opts    Options
	mh      MQTTHandler // Transport MQTT only
	epoch   time.Time
	loops   []*Loop
	dialers []*net.Dialer
	nextL   atomic.Uint64
	nextS   atomic.Uint64
	open    atomic.Int64
	stop    chan struct{}
	tickers sync.WaitGroup
	closed  atomic.Bool
}

// New starts a pool's event loops. Close stops them.
func New(opts Options) (*Pool, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	p := &Pool{opts: opts, epoch: time.Now(), stop: make(chan struct{})}
	if opts.Transport == MQTT {
		p.mh = opts.Handler.(MQTTHandler)
	}
	if len(opts.Sources) == 0 {
		p.dialers = []*net.Dialer{{Timeout: opts.DialTimeout}}
	}
	for _, src := range opts.Sources {
		p.dialers = append(p.dialers, &net.Dialer{
			Timeout:   opts.DialTimeout,
			LocalAddr: &net.TCPAddr{IP: src.AsSlice()},
			Control:   bindNoPort,
		})
	}
	for i := range opts.Loops {
		l := &Loop{Index: i, pool: p, rng: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))}
		cli, err := gnet.NewClient(l,
			gnet.WithNumEventLoop(1),
			gnet.WithLogger(nopLogger{}),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReadBufferCap(64<<10),
			gnet.WithWriteBufferCap(64<<10),
		)
		if err == nil {
			err = cli.Start()
		}
		if err != nil {
			p.stopClients()
			return nil, fmt.Errorf("client: start loop %d: %w", i, err)
		}
		l.cli = cli
		p.loops = append(p.loops, l)
	}
	for _, l := range p.loops {
		p.tickers.Add(1)
		go l.ticker()
	}
	return p, nil
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT before the dialer binds its
// source address, so that bind does not reserve an ephemeral port of its
// own and connect picks one per destination.
func bindNoPort(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// Now returns the pool's clock: the time since New (monotonic).
func (p *Pool) Now() time.Duration { return time.Since(p.epoch) }

// Epoch returns the wall time of Now() == 0.
func (p *Pool) Epoch() time.Time { return p.epoch }

// Loops returns the event loops.
func (p *Pool) Loops() []*Loop { return p.loops }

// Open returns the number of connections enrolled and not yet closed.
func (p *Pool) Open() int64 { return p.open.Load() }

// Transport returns what the pool's connections speak.
func (p *Pool) Transport() Transport { return p.opts.Transport }

// Dial connects c (whose Hello and Tag the caller has set) on the next
// loop in turn. It blocks for the TCP connect only; the handshake continues
// on the loop and ends in Handler.Ready or Handler.Closed. After Dial
// returns nil, c belongs to its loop: read it only from Handler methods
// and Loop.Exec functions. On error c was never enrolled.
func (p *Pool) Dial(ctx context.Context, c *Conn) error {
	l := p.loops[(p.nextL.Add(1)-1)%uint64(len(p.loops))]
	return p.DialOn(ctx, l, c)
}

// DialOn is Dial on a chosen loop.
func (p *Pool) DialOn(ctx context.Context, l *Loop, c *Conn) error {
	if p.closed.Load() {
		return ErrPoolClosed
	}
	d := p.dialers[(p.nextS.Add(1)-1)%uint64(len(p.dialers))]
	c.pool, c.loop = p, l
	c.Dialed = p.Now()
	nc, err := d.DialContext(ctx, "tcp", p.opts.Addr)
	if err != nil {
		return err
	}
	c.Connected = p.Now()
	if _, err := l.cli.EnrollContext(nc, c); err != nil { // closes nc
		return err
	}
	return nil
}

// ErrPoolClosed is returned by Dial after Close.
var ErrPoolClosed = errors.New("client: pool closed")

// Close closes every connection (a WebSocket close frame first, reason
// "client_close" unless one was set), waits until all have closed or
// timeout passes, and stops the loops. Dials still in progress must have
// returned before Close is called.
func (p *Pool) Close(timeout time.Duration) error {
	if p.closed.Swap(true) {
		return nil
	}
	for _, l := range p.loops {
		l.Exec(func() {
			for _, c := range l.conns {
				c.Close("client_close")
			}
		})
	}
	deadline := time.Now().Add(timeout)
	for p.open.Load() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(p.stop)
	p.tickers.Wait()
	p.stopClients()
	if n := p.open.Load(); n > 0 {
		return fmt.Errorf("client: %d connections still open after %v", n, timeout)
	}
	return nil
}

func (p *Pool) stopClients() {
	for _, l := range p.loops {
		if l.cli != nil {
			_ = l.cli.Stop()
		}
	}
}

// DialReason maps a Dial error to a failure label.
func DialReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "addr_not_avail"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too_many_files"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "dial_timeout"
	case errors.Is(err, ErrPoolClosed):
		return "pool_closed"
	}
	return "dial_error"
}

// nopLogger silences gnet, which logs to stdout by default.
type nopLogger struct{}

func (nopLogger) Debugf(string, ...any) {}
func (nopLogger) Infof(string, ...any)  {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Fatalf(string, ...any) {}
