package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/prometheus/client_golang/prometheus"
)

// Protocol a listener speaks.
type Protocol string

// Listener protocols. ProtoAuto sniffs the first bytes of a connection:
// "GET " is a WebSocket upgrade, 'K' (0x4B) a binary frame, 0x10 an MQTT
// CONNECT (when Options.MQTT is set).
const (
	ProtoAuto  Protocol = "auto"
	ProtoWS    Protocol = "ws"
	ProtoFrame Protocol = "frame"
	ProtoMQTT  Protocol = "mqtt"
)

// Listener is one address the reactor accepts connections on.
type Listener struct {
	// Addr is host:port. Required.
	Addr string `yaml:"addr"`
	// Protocol is auto, ws, frame or mqtt. Default auto.
	Protocol Protocol `yaml:"protocol"`
	// MaxConns caps the listener's open connections; past it new ones are
	// closed at once and counted (reason conn_limit). Default 100000.
	MaxConns int `yaml:"max_conns"`
}

// Options configures an Engine. Zero values take the documented defaults.
type Options struct {
	// Listeners to open. Default one auto listener on :7000.
	Listeners []Listener
	// EventLoops is the number of gnet event loops. Default GOMAXPROCS.
	EventLoops int
	// HandshakeTimeout bounds the time from accept to an accepted HELLO or
	// MQTT CONNECT (WebSocket upgrade included). Default 10s. Afterwards MQTT
	// clients are held to 1.5 × their keep alive (IdleTimeout for keep
	// alive 0) instead of PingInterval and IdleTimeout.
	HandshakeTimeout time.Duration
	// PingInterval is how long a connection may be silent before the server
	// pings it. Default 25s.
	PingInterval time.Duration
	// IdleTimeout closes a connection silent for this long (it did not
	// answer pings). Default 60s. Must exceed PingInterval.
	IdleTimeout time.Duration
	// Tick is the timing wheel's resolution. Default 250ms.
	Tick time.Duration
	// MaxFrameBytes caps one inbound WebSocket message or binary frame
	// payload. Default 65536.
	MaxFrameBytes int
	// MaxBodyBytes caps a message body. Default 16384.
	MaxBodyBytes int
	// OutboundLimit is the most bytes queued for one connection (handed to
	// the loop plus unsent in its buffer) before it is closed as a slow
	// consumer. Default 4 MiB.
	OutboundLimit int
	// AllowedOrigins lists the Origin values accepted on WebSocket
	// upgrades ("*" allows all; a trailing ":*" allows any port). Requests
	// without Origin (native apps) are accepted. Default none: browsers
	// are refused until origins are configured.
	AllowedOrigins []string
	// SiteOrigins returns the origins a site allows besides
	// AllowedOrigins (same patterns); used by OriginAllowed for
	// long-poll. Default nil: only AllowedOrigins.
	SiteOrigins func(site string) []string
	// AnySiteOrigin reports whether some site lists origin among its own
	// origins. A WebSocket upgrade from such an origin (not in
	// AllowedOrigins) is accepted, and its HELLO must then name a site
	// that lists the origin (SiteOrigins). Default nil: AllowedOrigins
	// only.
	AnySiteOrigin func(origin []byte) bool
	// Logger receives logs. Default: discard.
	Logger *slog.Logger
	// Registerer receives metrics. Default: none.
	Registerer prometheus.Registerer
	// MQTT is the broker behind MQTT connections (listener protocol mqtt,
	// sniffed on auto listeners, subprotocol "mqtt" on WebSocket). The
	// caller builds it, shares its Registerer, and closes it after the
	// engine has stopped. Default nil: MQTT is refused (an auto listener
	// counts it as an unknown protocol; an mqtt listener is invalid).
	MQTT *mqtt.Broker
}

// EnsureDefaults fills in zero fields.
func (o *Options) EnsureDefaults() {
	if len(o.Listeners) == 0 {
		o.Listeners = []Listener{{Addr: ":7000"}}
	}
	for i := range o.Listeners {
		if o.Listeners[i].Protocol == "" {
			o.Listeners[i].Protocol = ProtoAuto
		}
		if o.Listeners[i].MaxConns == 0 {
			o.Listeners[i].MaxConns = 100000
		}
	}
	if o.EventLoops == 0 {
		o.EventLoops = runtime.GOMAXPROCS(0)
	}
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.Tick == 0 {
		o.Tick = 250 * time.Millisecond
	}
	if o.MaxFrameBytes == 0 {
		o.MaxFrameBytes = 65536
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 16384
	}
	if o.OutboundLimit == 0 {
		o.OutboundLimit = 4 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work.
func (o *Options) Validate() error {
	for _, l := range o.Listeners {
		if l.Addr == "" {
			return errors.New("engine: listener without addr")
		}
		switch l.Protocol {
		case ProtoAuto, ProtoWS, ProtoFrame:
		case ProtoMQTT:
			if o.MQTT == nil {
				return fmt.Errorf("engine: listener %s: protocol mqtt without an MQTT broker", l.Addr)
			}
		default:
			return fmt.Errorf("engine: listener %s: unknown protocol %q", l.Addr, l.Protocol)
		}
	}
	switch {
	case o.IdleTimeout <= o.PingInterval:
		return errors.New("engine: idle_timeout must exceed ping_interval")
	case o.Tick <= 0 || o.Tick > o.PingInterval:
		return errors.New("engine: tick must be positive and below ping_interval")
	case o.MaxBodyBytes > o.MaxFrameBytes:
		return errors.New("engine: max_body_bytes must not exceed max_frame_bytes")
	case o.MaxFrameBytes > 16<<20:
		return errors.New("engine: max_frame_bytes above 16 MiB")
	case o.OutboundLimit < o.MaxFrameBytes:
		return errors.New("engine: outbound_limit must be at least max_frame_bytes")
	}
	return nil
}
