package mqtt

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/kefu-im/kefu/internal/bufpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Broker. The zero value of every field is a sensible
// default, documented on the field; EnsureDefaults fills them in.
type Options struct {
	// Authenticator checks CONNECT credentials. Nil: every client is
	// accepted, with an Identity of its client id and user name.
	Authenticator Authenticator
	// Authorizer decides SUBSCRIBE and PUBLISH (wills included). Nil:
	// everything is allowed.
	Authorizer Authorizer
	// Store persists sessions and retained messages. Nil: a MemoryStore.
	Store Store
	// Bridge takes the PUBLISHes of some topics out of routing and
	// acknowledges them itself (engine/bridge: conversations). Nil: every
	// topic is plain MQTT.
	Bridge Bridge

	// MaxPacketSize is the largest packet accepted from a client, fixed
	// header included; the engine passes it to the codec's Decode, and MQTT
	// 5 clients learn it from CONNACK. Zero: 256 KiB. At most
	// codec.HardMaxPacket.
	MaxPacketSize int
	// ReceiveMaximum is how many QoS 2 PUBLISH, and QoS 1 PUBLISH taken
	// by the Bridge, a client may have unacknowledged towards the broker
	// (other QoS 1 ones are acknowledged at once); told to MQTT 5 clients,
	// applied to the QoS 2 ones of 3.1.1 clients too. Zero: 64. At most
	// 65535.
	ReceiveMaximum int
	// MaxInflight caps the broker's unacknowledged QoS 1 and 2 deliveries
	// per client, lowered further by an MQTT 5 client's Receive Maximum.
	// Zero: 32. At most 65535.
	MaxInflight int
	// MaxQueued is how many messages may wait per session behind the
	// in-flight window. A connected client whose queue is full is
	// disconnected as a slow consumer (0x97); for an offline session new
	// messages are dropped and counted. Zero: 1000.
	MaxQueued int
	// TopicAliasMaximum is the highest topic alias a client may use,
	// told to MQTT 5 clients. Zero: 32. Negative: clients may not use
	// topic aliases. At most 65535.
	TopicAliasMaximum int
	// MaxTopicAliasesOut caps the topic aliases the broker assigns towards a
	// client (also capped by the client's Topic Alias Maximum). Zero: 32.
	// Negative: the broker sends no aliases. At most 65535.
	MaxTopicAliasesOut int
	// MaxKeepAlive is the longest keep alive a client may ask for; a longer
	// one, or none (0), is replaced by it (MQTT 5 clients are told with
	// Server Keep Alive). Zero: clients choose, up to 65535 s.
	MaxKeepAlive time.Duration
	// MaxSessionExpiry caps MQTT 5 session expiry intervals and is the
	// expiry of 3.1.1 sessions with clean session 0. Zero: 24 h.
	MaxSessionExpiry time.Duration
	// MaxRetained is how many retained messages the broker keeps; beyond
	// it a new retained topic is not stored (replacing or deleting still
	// works) and is counted. Zero: 100,000.
	MaxRetained int
	// MaxSubscriptions is how many subscriptions one session may hold;
	// beyond it SUBACK says 0x97 (0x80 in 3.1.1). Zero: 100.
	MaxSubscriptions int
	// MaxClientIDLen is the longest client identifier accepted (CONNACK
	// 0x85 / 0x02 beyond). Zero: 256.
	MaxClientIDLen int
	// AssignedIDPrefix starts the identifiers assigned to clients that send
	// an empty one. Zero: "auto-".
	AssignedIDPrefix string

	// DisableRetain refuses retained PUBLISH (MQTT 5: DISCONNECT 0x9A;
	// 3.1.1: the message is delivered, not retained).
	DisableRetain bool
	// DisableWildcards refuses subscriptions with + or # (0xA2).
	DisableWildcards bool
	// DisableShared refuses $share subscriptions (0x9E).
	DisableShared bool
	// DisableSubIDs refuses subscription identifiers (DISCONNECT 0xA1).
	DisableSubIDs bool

	// Now returns the time in Unix nanoseconds. Nil: time.Now. The engine
	// passes its coarse clock; tests a fake one.
	Now func() int64
	// Pool provides output buffers. Nil: a private pool.
	Pool *bufpool.Pool
	// Registerer receives the broker's metrics. Nil: not registered.
	Registerer prometheus.Registerer
	// Logger logs session expiry and store failures. Nil: slog.Default().
	Logger *slog.Logger
}

// EnsureDefaults replaces zero values by their defaults.
func (o *Options) EnsureDefaults() {
	if o.Store == nil {
		o.Store = NewMemoryStore()
	}
	if o.MaxPacketSize == 0 {
		o.MaxPacketSize = codec.DefaultMaxPacket
	}
	if o.ReceiveMaximum == 0 {
		o.ReceiveMaximum = 64
	}
	if o.MaxInflight == 0 {
		o.MaxInflight = 32
	}
	if o.MaxQueued == 0 {
		o.MaxQueued = 1000
	}
	if o.TopicAliasMaximum == 0 {
		o.TopicAliasMaximum = 32
	}
	if o.MaxTopicAliasesOut == 0 {
		o.MaxTopicAliasesOut = 32
	}
	if o.MaxSessionExpiry == 0 {
		o.MaxSessionExpiry = 24 * time.Hour
	}
	if o.MaxRetained == 0 {
		o.MaxRetained = 100_000
	}
	if o.MaxSubscriptions == 0 {
		o.MaxSubscriptions = 100
	}
	if o.MaxClientIDLen == 0 {
		o.MaxClientIDLen = 256
	}
	if o.AssignedIDPrefix == "" {
		o.AssignedIDPrefix = "auto-"
	}
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixNano() }
	}
	if o.Pool == nil {
		o.Pool = new(bufpool.Pool)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Validate reports options out of range. Call it after EnsureDefaults.
func (o *Options) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("mqtt: "+format, args...))
		}
	}
	check(o.MaxPacketSize > 0 && o.MaxPacketSize <= codec.HardMaxPacket, "MaxPacketSize %d out of 1..%d", o.MaxPacketSize, codec.HardMaxPacket)
	check(o.ReceiveMaximum > 0 && o.ReceiveMaximum <= 65535, "ReceiveMaximum %d out of 1..65535", o.ReceiveMaximum)
	check(o.MaxInflight > 0 && o.MaxInflight <= 65535, "MaxInflight %d out of 1..65535", o.MaxInflight)
	check(o.MaxQueued > 0, "MaxQueued %d must be positive", o.MaxQueued)
	check(o.TopicAliasMaximum <= 65535, "TopicAliasMaximum %d above 65535", o.TopicAliasMaximum)
	check(o.MaxTopicAliasesOut <= 65535, "MaxTopicAliasesOut %d above 65535", o.MaxTopicAliasesOut)
	check(o.MaxKeepAlive >= 0 && o.MaxKeepAlive <= 65535*time.Second, "MaxKeepAlive %v out of 0..65535s", o.MaxKeepAlive)
	check(o.MaxSessionExpiry > 0, "MaxSessionExpiry %v must be positive", o.MaxSessionExpiry)
	check(o.MaxRetained > 0, "MaxRetained %d must be positive", o.MaxRetained)
	check(o.MaxSubscriptions > 0, "MaxSubscriptions %d must be positive", o.MaxSubscriptions)
	check(o.MaxClientIDLen > 0 && o.MaxClientIDLen <= 65535, "MaxClientIDLen %d out of 1..65535", o.MaxClientIDLen)
	return errors.Join(errs...)
}

// aliasMax is the topic alias maximum the broker accepts (0: none).
func (o *Options) aliasMax() int { return max(o.TopicAliasMaximum, 0) }
