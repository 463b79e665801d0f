package bridge

import (
	"errors"
	"log/slog"
	"mime"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/internal/sites"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Limits of what a device sends, as for the other transports.
const (
	maxClientMsgID = 64   // bytes
	maxEventName   = 32   // bytes
	maxEventBody   = 1024 // bytes
	// maxJSONFactor bounds a JSON envelope before decoding: its body
	// escaped (at most 6 bytes per byte) and the rest of the envelope.
	maxJSONFactor = 6
	maxJSONExtra  = 1024
)

// MQTT 5 reason codes of the bridge's acknowledgements.
const (
	codeOK            byte = 0x00
	codeNoSubscribers byte = 0x10 // an event while the device has no conversation
	codeUnspecified   byte = 0x80
	codeImplSpecific  byte = 0x83
	codeNotAuthorized byte = 0x87
	codeQuotaExceeded byte = 0x97
	codePayloadFormat byte = 0x99
)

// ContentTypeJSON is the MQTT 5 content type of JSON envelopes, both ways.
const ContentTypeJSON = "application/json"

// topicRoot starts every device topic (internal/sites: the ACL root).
const topicRoot = sites.TopicRoot + "/"

// Topic suffixes below a device's root.
const (
	topicNone uint8 = iota
	topicUp
	topicEvents
	topicDown
)

// sinkBit marks the Sink ids of devices: connection ids count up from 1.
const sinkBit = 1 << 63

type devKey struct{ site, device string }

// Bridge is the conversation bridge: an mqtt.Bridge for the broker and one
// shard.Sink per device. Build it with New, give it to the broker
// (mqtt.Options.Bridge), Start it with that broker before clients connect,
// and Close it after the shards have stopped.
type Bridge struct {
	opts    Options
	log     *slog.Logger
	m       *metrics
	router  Router
	pub     Publisher // set by Start, before any client connects
	w       *writer
	nextID  atomic.Uint64
	started atomic.Bool
	closed  atomic.Bool

	mu      sync.RWMutex
	devices map[devKey]*device
}

var _ mqtt.Bridge = (*Bridge)(nil)

// New builds a Bridge and loads the device records of opts.Store.
func New(opts Options) (*Bridge, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	b := &Bridge{
		opts: opts, log: opts.Logger, m: newMetrics(opts.Registerer), router: opts.Router,
		devices: make(map[devKey]*device),
	}
	err := opts.Store.ScanPrefix([]byte{storage.TableBridge}, func(key, v []byte) error {
		site, dev, ok := parseRecordKey(key)
		conv, cursor, err := parseRecord(v)
		if !ok || err != nil {
			b.log.Warn("skipping a malformed device record", "key", string(key))
			return nil
		}
		d := b.newDevice(string(site), string(dev))
		d.conv, d.cursor, d.maxSeen = string(conv), cursor, cursor
		b.devices[d.key] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.m.devices.Set(float64(len(b.devices)))
	b.w = newWriter(b)
	return b, nil
}

// Start sets the broker the bridge publishes to and starts the writer.
// Call it once, before the engine takes connections.
func (b *Bridge) Start(p Publisher) {
	b.pub = p
	if !b.started.Swap(true) {
		go b.w.run()
	}
}

// ErrClosed is returned by Close when called twice.
var ErrClosed = errors.New("bridge: closed")

// Close writes the device records left and stops the writer. Call it
// once the shards have stopped (nothing writes to the devices any more)
// and before the store closes. Devices then report Closed.
func (b *Bridge) Close() error {
	if b.closed.Swap(true) {
		return ErrClosed
	}
	if b.started.Load() {
		b.w.close()
	} else {
		_ = b.w.batch.Close()
	}
	return nil
}

// Devices is the number of devices the bridge knows.
func (b *Bridge) Devices() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.devices)
}

// Conversation returns a device's current conversation and cursor (""
// when it has none).
func (b *Bridge) Conversation(site, device string) (conv string, cursor uint64) {
	d := b.lookup(site, device)
	if d == nil {
		return "", 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conv, d.cursor
}

// Claims implements mqtt.Bridge: up, events and down below the device's
// own root. Allocation-free.
func (b *Bridge) Claims(id *mqtt.Identity, topic string) bool {
	return topicKind(id, topic) != topicNone
}

// topicKind says which of the device's bridged topics topic is.
func topicKind(id *mqtt.Identity, topic string) uint8 {
	site, dev := id.Site, id.Device
	n := len(topicRoot) + len(site) + 1 + len(dev) + 1 // "kefu/<site>/<device>/"
	if site == "" || dev == "" || len(topic) <= n || topic[:len(topicRoot)] != topicRoot {
		return topicNone
	}
	s := len(topicRoot)
	if topic[s:s+len(site)] != site || topic[s+len(site)] != '/' ||
		topic[s+len(site)+1:n-1] != dev || topic[n-1] != '/' {
		return topicNone
	}
	switch topic[n:] {
	case "up":
		return topicUp
	case "events":
		return topicEvents
	case "down":
		return topicDown
	}
	return topicNone
}

// Take implements mqtt.Bridge (event loop).
func (b *Bridge) Take(in *mqtt.Inbound) (byte, bool) {
	switch topicKind(in.Client, in.Topic) {
	case topicUp:
		return b.up(in)
	case topicEvents:
		return b.eventIn(in)
	case topicDown:
		b.m.rejected[rejDownTopic].Inc() // down is written by Kefu only
		return codeNotAuthorized, false
	}
	return codeUnspecified, false
}

// Active implements mqtt.Bridge (event loop): a device that may listen
// again gets what it missed.
func (b *Bridge) Active(id *mqtt.Identity) {
	if d := b.lookup(id.Site, id.Device); d != nil {
		d.mu.Lock()
		d.activeLocked()
		d.mu.Unlock()
	}
}

func (b *Bridge) lookup(site, dev string) *device {
	b.mu.RLock()
	d := b.devices[devKey{site, dev}]
	b.mu.RUnlock()
	return d
}

// device returns the device's state, created on first use.
func (b *Bridge) device(site, dev string) *device {
	if d := b.lookup(site, dev); d != nil {
		return d
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	k := devKey{site, dev}
	d := b.devices[k]
	if d == nil {
		d = b.newDevice(strings.Clone(site), strings.Clone(dev))
		b.devices[k] = d
		b.m.devices.Inc()
	}
	return d
}

func (b *Bridge) newDevice(site, dev string) *device {
	root := topicRoot + site + "/" + dev + "/"
	return &device{
		b: b, id: sinkBit | b.nextID.Add(1), key: devKey{site, dev},
		who:  shard.NewIdentity(site, dev, proto.Role_ROLE_VISITOR).WithTrust(shard.TrustDevice),
		down: root + "down", events: root + "events",
		reqs: make(map[uint64]*request),
	}
}

// up takes a message for the device's conversation.
func (b *Bridge) up(in *mqtt.Inbound) (byte, bool) {
	r, rej, code := b.parseUp(in)
	if r == nil {
		b.m.rejected[rej].Inc()
		return code, false
	}
	d := b.device(in.Client.Site, in.Client.Device)
	d.mu.Lock()
	ok := d.sendLocked(r)
	d.mu.Unlock()
	if !ok {
		b.m.rejected[rejBusy].Inc()
		return codeQuotaExceeded, false
	}
	return codeOK, true // QoS 0: nothing to acknowledge
}

// parseUp validates an up and copies what the request keeps. A refusal
// returns a nil request, the metric label and the reason code.
func (b *Bridge) parseUp(in *mqtt.Inbound) (*request, rejectReason, byte) {
	p, max := in.Payload, b.opts.MaxBodyBytes
	r := &request{ticket: in.Ticket, cmid: in.Key, kind: proto.Kind_KIND_TEXT}
	if id := userProperty(in.Properties, "client_msg_id"); id != "" {
		if len(id) > maxClientMsgID {
			return nil, rejBadMsgID, codeImplSpecific
		}
		r.cmid = strings.Clone(id)
	}
	if !isJSON(in.Properties.ContentType) {
		switch {
		case len(p) > max:
			return nil, rejTooLarge, codeQuotaExceeded
		case !utf8.Valid(p):
			return nil, rejBadUTF8, codePayloadFormat
		}
		r.body = string(p)
		return r, 0, 0
	}
	if len(p) > maxJSONFactor*max+maxJSONExtra {
		return nil, rejTooLarge, codeQuotaExceeded
	}
	env := new(proto.Envelope)
	switch err := proto.UnmarshalJSON(p, env); {
	case errors.Is(err, proto.ErrJSONUTF8):
		return nil, rejBadUTF8, codePayloadFormat
	case err != nil, env.Type != proto.Type_TYPE_UNSPECIFIED && env.Type != proto.Type_TYPE_SEND,
		env.Kind < proto.Kind_KIND_UNSPECIFIED || env.Kind > proto.Kind_KIND_FILE:
		return nil, rejBadJSON, codePayloadFormat
	case len(env.Body) > max:
		return nil, rejTooLarge, codeQuotaExceeded
	case len(env.ClientMsgId) > maxClientMsgID:
		return nil, rejBadMsgID, codeImplSpecific
	}
	if env.ClientMsgId != "" {
		r.cmid = env.ClientMsgId
	}
	if env.Kind != proto.Kind_KIND_UNSPECIFIED {
		r.kind = env.Kind
	}
	r.body, r.tags = env.Body, env.Tags
	return r, 0, 0
}

// eventIn relays an EVENT from the device (never stored). It is
// acknowledged once queued: there is nothing to commit.
func (b *Bridge) eventIn(in *mqtt.Inbound) (byte, bool) {
	env := new(proto.Envelope)
	switch err := proto.UnmarshalJSON(in.Payload, env); {
	case err != nil:
		b.m.rejected[rejBadJSON].Inc()
		return codePayloadFormat, false
	case env.Event == "" || len(env.Event) > maxEventName || len(env.Body) > maxEventBody:
		b.m.rejected[rejBadEvent].Inc()
		return codePayloadFormat, false
	}
	d := b.lookup(in.Client.Site, in.Client.Device)
	var conv string
	if d != nil {
		d.mu.Lock()
		conv = d.conv
		d.mu.Unlock()
	}
	if conv == "" {
		b.m.rejected[rejNoConversation].Inc()
		return codeNoSubscribers, false
	}
	ev := &proto.Envelope{Type: proto.Type_TYPE_EVENT, Conversation: conv, Event: env.Event, Body: env.Body, Seq: env.Seq}
	if !b.router.Submit(shard.Request{Op: shard.OpEvent, Sink: d, Who: d.who, Env: ev}) {
		b.m.rejected[rejBusy].Inc()
		return codeQuotaExceeded, false
	}
	b.m.eventsIn.Inc()
	return codeOK, false
}

// isJSON reports whether an MQTT 5 content type is application/json
// (parameters such as charset allowed).
func isJSON(ct string) bool {
	if ct == ContentTypeJSON {
		return true
	}
	if ct == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == ContentTypeJSON
}

// userProperty returns the first MQTT 5 user property named key, or "".
// The value aliases the read buffer.
func userProperty(p *packets.Properties, key string) string {
	for i := range p.User {
		if p.User[i].Key == key {
			return p.User[i].Val
		}
	}
	return ""
}
