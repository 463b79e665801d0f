package mochibroker

import (
	"errors"
	"log/slog"
	"net"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// Options configures a Broker. Zero values take the documented defaults.
type Options struct {
	// Addr is the TCP listen address. Default 127.0.0.1:7200; port 0
	// picks a free one (see Broker.Addr).
	Addr string
	// WritesPending is mochi's MaximumClientWritesPending, the capacity of
	// each client's outbound channel. Default mochi's (8,192).
	WritesPending int
	// Logger receives mochi's logs. Default: warnings and errors dropped
	// (mochi logs a line per refused or failed client).
	Logger *slog.Logger
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:7200"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	if o.WritesPending < 0 || o.WritesPending > 1<<20 {
		return errors.New("mochibroker: WritesPending out of 0..1048576")
	}
	return nil
}

// Broker is a running mochi broker.
type Broker struct {
	opts Options
	srv  *mqtt.Server
	ln   net.Listener
}

// New configures a broker; Start listens.
func New(o Options) (*Broker, error) {
	o.EnsureDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	caps := mqtt.NewDefaultServerCapabilities()
	if o.WritesPending > 0 {
		caps.MaximumClientWritesPending = int32(o.WritesPending)
	}
	srv := mqtt.New(&mqtt.Options{Capabilities: caps, Logger: o.Logger})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	return &Broker{opts: o, srv: srv}, nil
}

// ErrStarted is returned by a second Start.
var ErrStarted = errors.New("mochibroker: already started")

// Start listens on Options.Addr and serves in the background.
func (b *Broker) Start() error {
	if b.ln != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", b.opts.Addr)
	if err != nil {
		return err
	}
	if err := b.srv.AddListener(listeners.NewNet("tcp", ln)); err != nil {
		_ = ln.Close()
		return err
	}
	b.ln = ln
	return b.srv.Serve()
}

// Addr is the address the broker listens on (nil before Start).
func (b *Broker) Addr() net.Addr {
	if b.ln == nil {
		return nil
	}
	return b.ln.Addr()
}

// Close stops listening and disconnects every client.
func (b *Broker) Close() error { return b.srv.Close() }
