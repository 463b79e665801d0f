package mqtt

import (
	"fmt"
	"testing"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// benchIndex builds an index of n device sessions, each subscribed to its
// own down topic, with one in a hundred also on a site-wide wildcard (ten
// per site) and in a shared group.
func benchIndex(n int) *index {
	x := &index{}
	for i := range n {
		s := &session{serial: uint64(i)}
		s.online.Store(true)
		x.subscribe(s, "", fmt.Sprintf("kefu/site%d/dev%d/down", i%10, i), subOpts{qos: 1})
		if i%100 == 0 {
			x.subscribe(s, "", fmt.Sprintf("kefu/site%d/+/down", i/100%10), subOpts{qos: 0})
			x.subscribe(s, "workers", "kefu/+/+/up", subOpts{qos: 1})
		}
	}
	return x
}

// BenchmarkMatch matches a device topic against a warm index of 10,000
// devices.
func BenchmarkMatch(b *testing.B) {
	x := benchIndex(10_000)
	dst := make([]hit, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = x.match("kefu/site2/dev4242/down", dst[:0])
	}
	if len(dst) != 11 {
		b.Fatalf("%d hits", len(dst))
	}
}

// BenchmarkMatchParallel is BenchmarkMatch from every core at once (the
// read lock is shared by the event loops).
func BenchmarkMatchParallel(b *testing.B) {
	x := benchIndex(10_000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]hit, 0, 64)
		for pb.Next() {
			dst = x.match("kefu/site2/dev4242/down", dst[:0])
		}
	})
}

// BenchmarkMochiTopicsIndex is the baseline: mochi's TopicsIndex over the
// same subscriptions. It allocates maps on every match, which is why the
// broker has its own trie.
func BenchmarkMochiTopicsIndex(b *testing.B) {
	x := mochi.NewTopicsIndex()
	for i := range 10_000 {
		id := fmt.Sprint("c", i)
		x.Subscribe(id, packets.Subscription{Filter: fmt.Sprintf("kefu/site%d/dev%d/down", i%10, i), Qos: 1})
		if i%100 == 0 {
			x.Subscribe(id, packets.Subscription{Filter: fmt.Sprintf("kefu/site%d/+/down", i/100%10)})
			x.Subscribe(id, packets.Subscription{Filter: "$share/workers/kefu/+/+/up", Qos: 1})
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		subs := x.Subscribers("kefu/site2/dev4242/down")
		if len(subs.Subscriptions) != 11 {
			b.Fatalf("%d", len(subs.Subscriptions))
		}
	}
}

// benchPair connects a publisher and a subscriber (no wake channel: the
// benchmark drains the subscriber itself, as its loop would).
func benchPair(b *testing.B, v byte, subQoS byte, filter string) (pub, sub *Client, subConn *fakeConn) {
	br, err := NewBroker(Options{MaxQueued: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	run := func(c *Client, pk packets.Packet) Actions {
		pv := v
		if pk.FixedHeader.Type == packets.Connect {
			pv = pk.ProtocolVersion
		}
		raw, _ := codec.AppendPacket(nil, &pk, pv)
		d, _, err := codec.Decode(raw, c.Version(), 0)
		if err != nil {
			b.Fatal(err)
		}
		return c.HandlePacket(&d)
	}
	subConn = &fakeConn{}
	sub = br.NewClient(subConn)
	run(sub, connectPacket(v, "sub"))
	run(sub, packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: filter, Qos: subQoS}}})
	pub = br.NewClient(&fakeConn{})
	run(pub, connectPacket(v, "pub"))
	return pub, sub, subConn
}

// BenchmarkPublishQoS0 routes one QoS 0 PUBLISH from a client to one
// subscriber: decode, HandlePacket on the publisher's loop, Drain on the
// subscriber's, 64-byte payload.
func BenchmarkPublishQoS0(b *testing.B) {
	for _, v := range []byte{4, 5} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			pub, sub, _ := benchPair(b, v, 0, "kefu/s1/+/down")
			raw, _ := codec.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish},
				TopicName: "kefu/s1/d1/down", Payload: make([]byte, 64)}, v)
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				pk, _, _ := codec.Decode(raw, v, 0)
				pub.HandlePacket(&pk)
				if a := sub.Drain(); len(a.Out) == 0 {
					b.Fatal("nothing delivered")
				}
			}
		})
	}
}

// BenchmarkPublishQoS1 is the full QoS 1 exchange on both sides: PUBLISH
// in, PUBACK to the publisher, PUBLISH to the subscriber, its PUBACK.
func BenchmarkPublishQoS1(b *testing.B) {
	for _, v := range []byte{4, 5} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			pub, sub, _ := benchPair(b, v, 1, "kefu/s1/d1/down")
			pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
				TopicName: "kefu/s1/d1/down", Payload: make([]byte, 64)}
			ackPk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Puback}}
			var id uint16
			b.ReportAllocs()
			for b.Loop() {
				id = id%60000 + 1
				pk.PacketID = id
				if a := pub.HandlePacket(&pk); len(a.Out) == 0 {
					b.Fatal("no PUBACK")
				}
				a := sub.Drain()
				d, _, err := codec.Decode(a.Out, v, 0)
				if err != nil {
					b.Fatal(err)
				}
				ackPk.PacketID = d.PacketID
				sub.HandlePacket(&ackPk)
			}
		})
	}
}

// BenchmarkFanout routes one QoS 0 message to 1,000 subscribers of a
// wildcard (the per-subscriber cost of route and enqueue; draining is not
// measured).
func BenchmarkFanout(b *testing.B) {
	br, err := NewBroker(Options{MaxQueued: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	subs := make([]*Client, 1000)
	for i := range subs {
		subs[i] = br.NewClient(&fakeConn{})
		raw, _ := codec.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
			Connect: packets.ConnectParams{ClientIdentifier: fmt.Sprint("s", i), Clean: true}}, 4)
		pk, _, _ := codec.Decode(raw, 0, 0)
		subs[i].HandlePacket(&pk)
		subs[i].HandlePacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
			Filters: packets.Subscriptions{{Filter: "news/#"}}})
	}
	m := &Message{Topic: "news/today", Payload: make([]byte, 64)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		br.Publish(m)
		if i%64 == 63 {
			for _, s := range subs {
				s.Drain()
			}
		}
	}
}
