package scenario

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kefu-im/kefu/bench/client"
)

// Spec is what one process runs: the options of a scenario and this
// process's share of it. It travels to worker processes as JSON. Zero
// values take the documented defaults.
type Spec struct {
	// Scenario is conn, relay, storm, mqtt or mixed.
	Scenario string `json:"scenario"`
	// Addr is the target host:port. Required.
	Addr string `json:"addr"`
	// Path is the WebSocket path. Default /ws.
	Path string `json:"path,omitempty"`
	// Transport is frame, ws (JSON), ws-proto or mqtt. Default ws; mqtt
	// for the mqtt scenario (the only one it speaks).
	Transport string `json:"transport,omitempty"`
	// Site is the site key in HELLO. Default demo.
	Site string `json:"site,omitempty"`
	// Secret signs agent tokens (relay) and device tokens (MQTT
	// passwords). Without it agents and devices send none (accepted by
	// the baselines, refused by Kefu).
	Secret string `json:"secret,omitempty"`
	// Sources are local addresses to dial from, in turn. Default none.
	Sources []string `json:"sources,omitempty"`
	// Loops is the number of event loops. Default GOMAXPROCS.
	Loops int `json:"loops,omitempty"`
	// RunID tells this run's user ids from other runs'. Default: time.
	RunID string `json:"run_id,omitempty"`
	// Worker is this process's index among the workers (user ids).
	Worker int `json:"worker,omitempty"`

	// Dialers is the number of goroutines that dial. Default 32.
	Dialers int `json:"dialers,omitempty"`
	// MaxHandshakes caps connections dialed and not yet welcomed (storm:
	// not yet closed, see Conns). Default 2048.
	MaxHandshakes int `json:"max_handshakes,omitempty"`
	// Heartbeat is the client ping interval when silent. Default 20s.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// HandshakeTimeout bounds dial to WELCOME. Default 10s.
	HandshakeTimeout time.Duration `json:"handshake_timeout,omitempty"`
	// SetupTimeout bounds the connect phase. Default 2m.
	SetupTimeout time.Duration `json:"setup_timeout,omitempty"`

	// Conns is the number of connections (conn), or of connections open at
	// once (storm). Default 1000 (conn), 100 (storm).
	Conns int `json:"conns,omitempty"`
	// ConnRate is new connections per second; 0 = as fast as MaxHandshakes
	// allows.
	ConnRate float64 `json:"conn_rate,omitempty"`
	// Hold is how long conn keeps its connections after the connect
	// phase. Default 10s.
	Hold time.Duration `json:"hold,omitempty"`
	// Open makes each conn connection a visitor with an open conversation.
	Open bool `json:"open,omitempty"`
	// Reconnect is how many connections per second conn (and mixed's idle
	// visitors) close and dial again during the hold, over all of them;
	// 0: none.
	Reconnect float64 `json:"reconnect,omitempty"`
	// Reply makes relay's agents send only in answer: each MESSAGE an agent
	// receives gets one reply, and only visitors follow the schedule (or
	// the closed-loop window).
	Reply bool `json:"reply,omitempty"`

	// Pairs is the number of visitor/agent pairs (relay). Default 100.
	Pairs int `json:"pairs,omitempty"`
	// MsgRate is the offered rate of SENDs per second, over all pairs and
	// both directions; 0 = closed loop (Window per connection).
	MsgRate float64 `json:"msg_rate,omitempty"`
	// Window is the closed-loop number of unacknowledged SENDs per
	// connection. Default 1.
	Window int `json:"window,omitempty"`
	// MaxInflight caps unacknowledged SENDs per connection in open loop;
	// sends beyond it are skipped and counted. Default 1000.
	MaxInflight int `json:"max_inflight,omitempty"`
	// Payload is the message body size in bytes. Default 100.
	Payload int `json:"payload,omitempty"`
	// Warmup is sent but not measured. Default 2s.
	Warmup time.Duration `json:"warmup,omitempty"`
	// Duration is the measured window (relay, storm). Default 10s.
	Duration time.Duration `json:"duration,omitempty"`
	// Drain is how long relay waits after the window for late ACKs and
	// MESSAGEs. Default 3s.
	Drain time.Duration `json:"drain,omitempty"`

	// LifeTime is how long a storm connection stays after WELCOME. Default 0.
	LifeTime time.Duration `json:"life_time,omitempty"`
	// RST closes storm connections with a reset (no TIME_WAIT).
	RST bool `json:"rst,omitempty"`
	// MaxConnects caps the storm's connection attempts. Default 1,000,000.
	MaxConnects int `json:"max_connects,omitempty"`

	// MQTTVersion is the MQTT protocol level of MQTT connections: 4
	// (3.1.1) or 5. Default 4.
	MQTTVersion int `json:"mqtt_version,omitempty"`
	// QoS of the mqtt scenario's PUBLISH and SUBSCRIBE: 0, 1 or 2.
	QoS int `json:"qos,omitempty"`
	// Retain sets RETAIN on the mqtt scenario's PUBLISH.
	Retain bool `json:"retain,omitempty"`
	// Fanout is the number of subscribers per topic (mqtt; one publisher
	// each). Default 1: point to point.
	Fanout int `json:"fanout,omitempty"`
}

// Caps that keep every run bounded.
const (
	MaxConns    = 1_000_000
	MaxPairs    = 250_000
	MaxDuration = time.Hour
	MaxPayload  = 1 << 20
	MaxMsgRate  = 10_000_000
	MaxFanout   = 10_000
	// MinMQTTPayload is the smallest mqtt payload: the sender's message
	// number and intended send time, 8 bytes each.
	MinMQTTPayload = 16
)

// EnsureDefaults fills in zero fields.
func (s *Spec) EnsureDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if s.Path == "" {
		s.Path = "/ws"
	}
	if s.Transport == "" {
		s.Transport = "ws"
		if s.Scenario == "mqtt" {
			s.Transport = "mqtt"
		}
	}
	if s.Site == "" {
		s.Site = "demo"
	}
	if s.RunID == "" {
		s.RunID = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	}
	def(&s.Dialers, 32)
	def(&s.MaxHandshakes, 2048)
	defD(&s.Heartbeat, 20*time.Second)
	defD(&s.HandshakeTimeout, 10*time.Second)
	defD(&s.SetupTimeout, 2*time.Minute)
	if s.Scenario == "storm" {
		def(&s.Conns, 100)
	}
	def(&s.Conns, 1000)
	defD(&s.Hold, 10*time.Second)
	def(&s.Pairs, 100)
	def(&s.Window, 1)
	def(&s.MaxInflight, 1000)
	def(&s.Payload, 100)
	defD(&s.Warmup, 2*time.Second)
	defD(&s.Duration, 10*time.Second)
	defD(&s.Drain, 3*time.Second)
	def(&s.MaxConnects, 1_000_000)
	def(&s.MQTTVersion, 4)
	def(&s.Fanout, 1)
}

// Validate reports a spec that cannot run or breaks a cap.
func (s *Spec) Validate() error {
	var errs []error
	switch s.Scenario {
	case "conn", "relay", "storm", "mqtt", "mixed":
	default:
		errs = append(errs, fmt.Errorf("unknown scenario %q (conn, relay, storm, mqtt, mixed)", s.Scenario))
	}
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr %q: %v", s.Addr, err))
	}
	switch tr, ok := client.ParseTransport(s.Transport); {
	case !ok:
		errs = append(errs, fmt.Errorf("unknown transport %q (frame, ws, ws-proto, mqtt)", s.Transport))
	case (s.Scenario == "relay" || s.Scenario == "mixed") && tr == client.MQTT:
		errs = append(errs, fmt.Errorf("%s runs Kefu conversations (frame, ws, ws-proto); the mqtt scenario publishes and subscribes", s.Scenario))
	case s.Scenario == "mqtt" && tr != client.MQTT:
		errs = append(errs, fmt.Errorf("the mqtt scenario speaks MQTT, not %s", s.Transport))
	}
	if _, err := ParseSources(strings.Join(s.Sources, ",")); err != nil {
		errs = append(errs, err)
	}
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %d outside [%d, %d]", name, v, lo, hi))
		}
	}
	checkD := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s %v outside [%v, %v]", name, v, lo, hi))
		}
	}
	check("conns", s.Conns, 1, MaxConns)
	check("pairs", s.Pairs, 1, MaxPairs)
	check("payload", s.Payload, 1, MaxPayload)
	check("window", s.Window, 1, 10000)
	check("max-connects", s.MaxConnects, 1, 100*MaxConns)
	check("mqtt-version", s.MQTTVersion, 4, 5)
	check("qos", s.QoS, 0, 2)
	check("fanout", s.Fanout, 1, MaxFanout)
	if s.Scenario == "mqtt" {
		check("payload", s.Payload, MinMQTTPayload, MaxPayload)
		check("connections (pairs × (1 + fanout))", s.Pairs*(1+s.Fanout), 2, MaxConns)
	}
	checkD("hold", s.Hold, 0, MaxDuration)
	checkD("duration", s.Duration, time.Millisecond, MaxDuration)
	checkD("warmup", s.Warmup, 0, MaxDuration)
	checkD("drain", s.Drain, 0, 10*time.Minute)
	checkD("life-time", s.LifeTime, 0, MaxDuration)
	checkD("setup-timeout", s.SetupTimeout, time.Millisecond, MaxDuration)
	if s.MsgRate < 0 || s.MsgRate > MaxMsgRate || s.ConnRate < 0 || s.ConnRate > MaxMsgRate || s.Reconnect < 0 || s.Reconnect > MaxMsgRate {
		errs = append(errs, errors.New("rates must be in [0, 10,000,000]"))
	}
	return errors.Join(errs...)
}

// ParseSources reads a list of source addresses: comma-separated
// addresses or ranges "127.0.0.1-127.0.0.8" (IPv4, last byte only), at
// most 4096 in all.
func ParseSources(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := netip.ParseAddr(lo)
		if err != nil {
			return nil, fmt.Errorf("source %q: %v", part, err)
		}
		if !isRange {
			out = append(out, a)
			continue
		}
		b, err := netip.ParseAddr(hi)
		if err != nil || !a.Is4() || !b.Is4() || b.Less(a) || !sameSlash24(a, b) {
			return nil, fmt.Errorf("source range %q: want a.b.c.x-a.b.c.y", part)
		}
		for x := a; ; x = x.Next() {
			out = append(out, x)
			if x == b {
				break
			}
		}
		if len(out) > 4096 {
			return nil, errors.New("more than 4096 source addresses")
		}
	}
	return out, nil
}

func sameSlash24(a, b netip.Addr) bool {
	x, y := a.As4(), b.As4()
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2]
}
