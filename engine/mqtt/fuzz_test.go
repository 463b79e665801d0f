package mqtt

import (
	"testing"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

func encodeAll(t testing.TB, v byte, pks ...packets.Packet) []byte {
	var b []byte
	for _, pk := range pks {
		pv := v
		if pk.FixedHeader.Type == packets.Connect {
			pv = pk.ProtocolVersion
		}
		var err error
		if b, err = codec.AppendPacket(b, &pk, pv); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// FuzzClient feeds arbitrary bytes to a client, through the codec and the
// broker as the engine does, next to a subscriber to everything and a
// persistent session. The broker must never panic, must only write
// packets that decode, must stop at the first close, and must leave
// consistent state behind (sessions, subscriptions, timers) once the
// connections are gone.
func FuzzClient(f *testing.F) {
	pub := func(topic string, qos byte, retain bool, id uint16) packets.Packet {
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain},
			TopicName: topic, PacketID: id, Payload: []byte("p")}
	}
	subscribe := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: "a/+", Qos: 2}, {Filter: "$share/g/#", Qos: 1}, {Filter: "#", Qos: 0, NoLocal: true}}}
	for _, v := range []byte{4, 5} {
		f.Add(encodeAll(f, v, connectPacket(v, "c", persistent(60), withWill("w", "x", 1, true, 5)), subscribe,
			pub("a/b", 1, false, 1), pub("a/b", 2, true, 2), ack(packets.Pubrel, 2), ack(packets.Pubrel, 9),
			packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}}), v == 5)
		f.Add(encodeAll(f, v, connectPacket(v, "", withUser("u", "p")), pub("x", 0, false, 0), pub("x", 2, false, 7),
			pub("x", 2, false, 7), ack(packets.Puback, 1), ack(packets.Pubrec, 1), ack(packets.Pubcomp, 1),
			disconnectPk(0x04)), v == 5)
	}
	f.Add(encodeAll(f, 5, connectPacket(5, "c"), aliasPublish("t", 1, "x"), aliasPublish("", 1, "y"),
		aliasPublish("", 2, "z")), true)
	f.Add([]byte{0x10, 0x0C, 0, 4, 'M', 'Q', 'T', 'T', 6, 2, 0, 60, 0, 0}, false)

	f.Fuzz(func(t *testing.T, data []byte, v5 bool) {
		h := newHarness(t, Options{MaxPacketSize: 2048, MaxQueued: 20, MaxInflight: 3, ReceiveMaximum: 4,
			TopicAliasMaximum: 4, MaxSubscriptions: 8, MaxRetained: 16})
		w := h.client(5, "watcher")
		w.subscribe(1, sub("#", 2))
		h.client(4, "c", func(pk *packets.Packet) { pk.Connect.Clean = false }).drop() // an offline session to take over
		v := byte(4)
		if v5 {
			v = 5
		}
		x := h.dial(v)
		buf := data
		for len(buf) > 0 && !x.closed {
			pk, n, err := codec.Decode(buf, x.c.Version(), h.b.MaxPacketSize())
			if err != nil {
				x.apply(x.c.DecodeError(&pk, err))
				break
			}
			if n == 0 {
				break
			}
			x.apply(x.c.HandlePacket(&pk))
			buf = buf[n:]
			h.settle()
			// Acknowledge what the watcher gets so its window moves.
			for _, got := range w.take() {
				switch {
				case got.FixedHeader.Type == packets.Publish && got.FixedHeader.Qos == 1:
					w.send(ack(packets.Puback, got.PacketID))
				case got.FixedHeader.Type == packets.Publish && got.FixedHeader.Qos == 2:
					w.send(ack(packets.Pubrec, got.PacketID))
				case got.FixedHeader.Type == packets.Pubrel:
					w.send(ack(packets.Pubcomp, got.PacketID))
				}
			}
			if w.closed {
				t.Fatalf("watcher closed: %v", w.reason)
			}
		}
		if x.closed {
			a := x.c.HandlePacket(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pingreq}})
			if len(a.Out) != 0 || !a.Close {
				t.Fatalf("closed client answered % X", a.Out)
			}
		}
		x.drop()
		w.send(disconnectPk(0))
		h.clock.advance(25 * time.Hour)
		h.b.Tick()
		if n := h.b.Sessions(); n != 0 {
			t.Fatalf("%d sessions left after expiry", n)
		}
		if n := h.b.Subscriptions(); n != 0 {
			t.Fatalf("%d subscriptions left", n)
		}
		if len(h.b.timers) != 0 {
			t.Fatalf("%d timers left", len(h.b.timers))
		}
	})
}
