package bridge

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/kefu-im/kefu/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	gproto "google.golang.org/protobuf/proto"
)

// In-process tests: a real store, shard router, broker and bridge; MQTT
// clients driven through the codec by the test goroutine, as an event
// loop would drive them; an agent as a shard.Sink.

const (
	site    = "demo"
	devName = "dev-1"
	root    = "kefu/demo/dev-1/"
	wait    = 5 * time.Second
)

type rig struct {
	t      *testing.T
	store  *storage.Store
	router *shard.Router
	broker *mqtt.Broker
	br     *Bridge
	done   bool
}

func newRig(t *testing.T, dir string, o Options) *rig {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir, Durability: storage.DurabilityAsync, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, store: st}
	if r.router, err = shard.New(shard.Options{Shards: 2}, st); err != nil {
		t.Fatal(err)
	}
	o.Store, o.Router = st, r.router
	if r.br, err = New(o); err != nil {
		t.Fatal(err)
	}
	if r.broker, err = mqtt.NewBroker(mqtt.Options{Bridge: r.br, Authenticator: deviceAuth{}}); err != nil {
		t.Fatal(err)
	}
	r.router.Start()
	r.br.Start(r.broker)
	t.Cleanup(r.close)
	return r
}

// close stops everything in the server's order.
func (r *rig) close() {
	if r.done {
		return
	}
	r.done = true
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.router.Stop(ctx); err != nil {
		r.t.Error(err)
	}
	if err := r.br.Close(); err != nil {
		r.t.Error(err)
	}
	_ = r.broker.Close()
	if err := r.store.Close(); err != nil {
		r.t.Error(err)
	}
}

// deviceAuth signs in user name <site>/<device> as that device.
type deviceAuth struct{}

func (deviceAuth) AuthenticateMQTT(_, username string, _ []byte) (mqtt.Identity, error) {
	s, d, _ := strings.Cut(username, "/")
	return mqtt.Identity{Username: username, Site: s, Device: d}, nil
}

// dev is an MQTT client of the device, on the test goroutine.
type dev struct {
	t      *testing.T
	c      *mqtt.Client
	v      byte
	wake   chan struct{}
	got    []packets.Packet
	nextID uint16
}

func (d *dev) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// dial connects a client of devName; persistent keeps its session.
func (r *rig) dial(v byte, suffix string, persistent bool) *dev {
	r.t.Helper()
	d := &dev{t: r.t, v: v, wake: make(chan struct{}, 1)}
	d.c = r.broker.NewClient(d)
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: v,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: site + "/" + devName + "/" + suffix,
			Clean: !persistent, Keepalive: 30, UsernameFlag: true, Username: []byte(site + "/" + devName)}}
	if persistent && v == 5 {
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 600, true
	}
	d.send(pk)
	if ack := d.next(); ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 0 {
		r.t.Fatalf("CONNACK %+v", ack)
	}
	return d
}

func (d *dev) send(pk packets.Packet) {
	d.t.Helper()
	b, err := codec.AppendPacket(nil, &pk, d.v)
	if err != nil {
		d.t.Fatal(err)
	}
	in, _, err := codec.Decode(b, d.c.Version(), codec.HardMaxPacket)
	if err != nil {
		d.t.Fatal(err)
	}
	d.apply(d.c.HandlePacket(&in))
}

func (d *dev) apply(a mqtt.Actions) {
	d.t.Helper()
	for buf := a.Out; len(buf) > 0; {
		pk, n, err := codec.Decode(buf, d.v, codec.HardMaxPacket)
		if err != nil || n == 0 {
			d.t.Fatalf("undecodable output: %v", err)
		}
		codec.Detach(&pk)
		d.got = append(d.got, pk)
		buf = buf[n:]
	}
	d.c.Release()
	if a.Close {
		d.c.Closed()
	}
}

// next returns the next packet from the broker, draining on wakes.
func (d *dev) next() packets.Packet {
	d.t.Helper()
	deadline := time.After(wait)
	for len(d.got) == 0 {
		select {
		case <-d.wake:
			d.apply(d.c.Drain())
		case <-deadline:
			d.t.Fatal("no packet from the broker")
		}
	}
	pk := d.got[0]
	d.got = d.got[1:]
	return pk
}

// quiet asserts nothing arrives for a while but routing EVENTs of the
// system (queue positions).
func (d *dev) quiet(for_ time.Duration) {
	d.t.Helper()
	deadline := time.After(for_)
	for {
		for len(d.got) > 0 {
			pk := d.got[0]
			var env proto.Envelope
			if pk.FixedHeader.Type != packets.Publish || pk.TopicName != root+"events" ||
				proto.UnmarshalJSON(pk.Payload, &env) != nil || env.Type != proto.Type_TYPE_EVENT || env.Sender != shard.SystemSender {
				d.t.Fatalf("unexpected %s %q", packets.PacketNames[pk.FixedHeader.Type], pk.Payload)
			}
			d.got = d.got[1:]
		}
		select {
		case <-d.wake:
			d.apply(d.c.Drain())
		case <-deadline:
			return
		}
	}
}

func (d *dev) subscribe(filter string) {
	d.t.Helper()
	d.nextID++
	d.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: d.nextID,
		Filters: []packets.Subscription{{Filter: filter, Qos: 1}}})
	if ack := d.next(); ack.FixedHeader.Type != packets.Suback || ack.ReasonCodes[0] != 1 {
		d.t.Fatalf("SUBACK %+v", ack)
	}
}

// publish sends a PUBLISH and returns its packet id.
func (d *dev) publish(topic, payload string, qos byte, props packets.Properties) uint16 {
	d.t.Helper()
	d.nextID++
	d.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos}, TopicName: topic,
		PacketID: d.nextID, Payload: []byte(payload), Properties: props})
	return d.nextID
}

// expectAck waits for the acknowledgement of packet id (deliveries before
// it are kept) and returns its reason code.
func (d *dev) expectAck(typ byte, id uint16) byte {
	d.t.Helper()
	var kept []packets.Packet
	for {
		pk := d.next()
		if pk.FixedHeader.Type == typ && pk.PacketID == id {
			d.got = append(kept, d.got...)
			return pk.ReasonCode
		}
		if pk.FixedHeader.Type != packets.Publish {
			d.t.Fatalf("got %s while waiting for %s %d", packets.PacketNames[pk.FixedHeader.Type], packets.PacketNames[typ], id)
		}
		kept = append(kept, pk)
	}
}

// recv returns the next PUBLISH on topic (acknowledging QoS 1) as an
// envelope; other PUBLISHes are skipped.
func (d *dev) recv(topic string) *proto.Envelope {
	d.t.Helper()
	for {
		pk := d.next()
		if pk.FixedHeader.Type != packets.Publish {
			d.t.Fatalf("got %s, want PUBLISH", packets.PacketNames[pk.FixedHeader.Type])
		}
		if pk.FixedHeader.Qos == 1 {
			d.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}, PacketID: pk.PacketID})
		}
		if pk.TopicName != topic {
			continue
		}
		if d.v == 5 && pk.Properties.ContentType != ContentTypeJSON {
			d.t.Fatalf("content type %q", pk.Properties.ContentType)
		}
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON(pk.Payload, env); err != nil {
			d.t.Fatalf("%s: %q: %v", topic, pk.Payload, err)
		}
		return env
	}
}

// agent is a console connection as the shards see it.
type agent struct {
	t    *testing.T
	r    *rig
	who  *shard.Identity
	mu   sync.Mutex
	envs []*proto.Envelope
	note chan struct{}
	id   uint64
}

func (r *rig) agent(name string) *agent {
	return &agent{t: r.t, r: r, who: shard.NewIdentity(site, name, proto.Role_ROLE_AGENT), note: make(chan struct{}, 1)}
}

func (a *agent) ID() uint64          { return 7 }
func (a *agent) Format() wire.Format { return wire.FormatJSON }
func (a *agent) Closed() bool        { return false }
func (a *agent) Write(bufs [][]byte) bool {
	a.mu.Lock()
	for _, b := range bufs {
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON(b, env); err != nil {
			panic(err)
		}
		a.envs = append(a.envs, env)
	}
	a.mu.Unlock()
	select {
	case a.note <- struct{}{}:
	default:
	}
	return true
}

// do submits a request and waits for the envelope that answers it.
func (a *agent) do(op shard.Op, env *proto.Envelope, want proto.Type) *proto.Envelope {
	a.t.Helper()
	a.id++
	env.Id = a.id
	if !a.r.router.Submit(shard.Request{Op: op, Sink: a, Who: a.who, Env: env}) {
		a.t.Fatal("router busy")
	}
	return a.wait(func(e *proto.Envelope) bool { return e.Id == env.Id && e.Type == want })
}

// wait returns (and forgets) the first envelope that matches.
func (a *agent) wait(match func(*proto.Envelope) bool) *proto.Envelope {
	a.t.Helper()
	deadline := time.After(wait)
	for {
		a.mu.Lock()
		for i, e := range a.envs {
			if match(e) {
				a.envs = append(a.envs[:i], a.envs[i+1:]...)
				a.mu.Unlock()
				return e
			}
		}
		a.mu.Unlock()
		select {
		case <-a.note:
		case <-deadline:
			a.t.Fatal("the agent got no matching envelope")
		}
	}
}

func (a *agent) join(conv string) {
	a.do(shard.OpJoin, &proto.Envelope{Type: proto.Type_TYPE_JOIN, Conversation: conv, Seq: 1 << 62}, proto.Type_TYPE_JOINED)
}

func (a *agent) say(conv, body string) uint64 {
	return a.do(shard.OpSend, &proto.Envelope{Type: proto.Type_TYPE_SEND, Conversation: conv, Body: body,
		ClientMsgId: body}, proto.Type_TYPE_ACK).Seq
}

func (r *rig) history(conv string) []*proto.Envelope {
	r.t.Helper()
	var out []*proto.Envelope
	_, err := r.store.History(conv, 0, 100, func(_ uint64, v []byte) error {
		env := new(proto.Envelope)
		if err := gproto.Unmarshal(v, env); err != nil {
			return err
		}
		out = append(out, env)
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

// event relays an EVENT from the agent (no reply on success).
func (a *agent) event(conv, name string) {
	a.t.Helper()
	if !a.r.router.Submit(shard.Request{Op: shard.OpEvent, Sink: a, Who: a.who,
		Env: &proto.Envelope{Type: proto.Type_TYPE_EVENT, Conversation: conv, Event: name}}) {
		a.t.Fatal("router busy")
	}
}

func reopen(t *testing.T, dir string) *storage.Store {
	t.Helper()
	st, err := storage.Open(storage.Options{Dir: dir, CacheSize: 1 << 20, MemTableSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// value reads a counter.
func value(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// recvEvents returns the next envelope on events that is not a routing
// EVENT of the system (queue positions come and go with the desk).
func (d *dev) recvEvents() *proto.Envelope {
	d.t.Helper()
	for {
		e := d.recv(root + "events")
		if e.Type != proto.Type_TYPE_EVENT || e.Sender != shard.SystemSender {
			return e
		}
	}
}
