package mqtt

import (
	"fmt"
	"testing"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

func aliasPublish(topic string, alias uint16, payload string) packets.Packet {
	return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: topic, Payload: []byte(payload),
		Properties: packets.Properties{TopicAlias: alias, TopicAliasFlag: true}}
}

// TestTopicAliasInbound: aliases set and used by a client; alias 0 or
// above the maximum closes with 0x94, an unknown alias with 0x82.
func TestTopicAliasInbound(t *testing.T) {
	h := newHarness(t, Options{TopicAliasMaximum: 4})
	s := h.client(4, "s")
	s.subscribe(1, sub("#", 0))
	p := h.client(5, "p")
	p.send(aliasPublish("a/b", 4, "1"))
	p.send(aliasPublish("", 4, "2"))
	p.send(aliasPublish("c", 4, "3")) // re-map
	p.send(aliasPublish("", 4, "4"))
	got := s.take()
	var topics []string
	for _, pk := range got {
		topics = append(topics, pk.TopicName+"="+string(pk.Payload))
	}
	if !equalStrings(topics, []string{"a/b=1", "a/b=2", "c=3", "c=4"}) {
		t.Fatalf("delivered %q", topics)
	}

	for _, c := range []struct {
		name string
		pk   packets.Packet
		raw  []byte
		code byte
	}{
		{name: "over_maximum", pk: aliasPublish("t", 5, "x"), code: 0x94},
		{name: "zero", raw: []byte{0x30, 0x07, 0, 1, 't', 3, 0x23, 0, 0}, code: 0x94},
		{name: "unknown", pk: aliasPublish("", 2, "x"), code: 0x82},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := h.client(5, "x-"+c.name)
			if c.raw != nil {
				x.sendRaw(c.raw)
			} else {
				x.send(c.pk)
			}
			got := x.take()
			if !x.closed || len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != c.code {
				t.Fatalf("closed %v got %s %+v", x.closed, names(got), got)
			}
		})
	}
	// Aliases are refused altogether when disabled.
	h2 := newHarness(t, Options{TopicAliasMaximum: -1})
	x := h2.dial(5)
	if ack := x.connect("x"); ack.Properties.TopicAliasMaximum != 0 {
		t.Fatalf("advertised %d", ack.Properties.TopicAliasMaximum)
	}
	x.send(aliasPublish("t", 1, "x"))
	if !x.closed || x.reason != ReasonTopicAlias {
		t.Fatalf("closed %v reason %v", x.closed, x.reason)
	}
}

// TestTopicAliasOutbound: the broker assigns aliases up to the client's
// Topic Alias Maximum and then sends the topic with its alias once, the
// alias alone afterwards.
func TestTopicAliasOutbound(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "s", func(pk *packets.Packet) { pk.Properties.TopicAliasMaximum = 2 })
	s.subscribe(1, sub("#", 0))
	p := h.client(4, "p")
	for _, tp := range []string{"a", "b", "c", "a", "b", "c"} {
		p.publish(tp, tp, 0, false, 0)
	}
	var seen []string
	for _, pk := range s.take() {
		seen = append(seen, fmt.Sprintf("%s:%d", pk.TopicName, pk.Properties.TopicAlias))
	}
	if !equalStrings(seen, []string{"a:1", "b:2", "c:0", ":1", ":2", "c:0"}) {
		t.Fatalf("aliases %q", seen)
	}
	// A client that allows none gets none.
	n := h.client(5, "n")
	n.subscribe(1, sub("a", 0))
	p.publish("a", "x", 0, false, 0)
	if got := n.expect(packets.Publish); got.Properties.TopicAliasFlag || got.TopicName != "a" {
		t.Fatalf("unasked alias %+v", got)
	}
}

// TestRetained: set, replace and delete (empty payload), delivery on
// subscribe with RETAIN set, retain handling 0, 1 and 2, no retained
// messages for shared subscriptions, and $ topics kept from wildcards.
func TestRetained(t *testing.T) {
	h := newHarness(t, Options{})
	p := h.client(5, "p")
	p.publish("home/kitchen/temp", "20", 1, true, 1)
	p.publish("home/kitchen/temp", "21", 1, true, 2) // replace
	p.publish("home/hall/temp", "18", 0, true, 0)
	p.publish("home/gone", "x", 0, true, 0)
	p.publish("home/gone", "", 0, true, 0) // delete [MQTT-3.3.1-6]
	p.publish("$SYS/uptime", "5", 0, true, 0)
	p.take()
	if h.b.Retained() != 3 {
		t.Fatalf("%d retained", h.b.Retained())
	}

	s := h.client(5, "s")
	s.subscribe(1, sub("home/+/temp", 1))
	got := s.take()
	want := map[string]string{"home/kitchen/temp": "21", "home/hall/temp": "18"}
	if len(got) != 2 {
		t.Fatalf("retained %s", payloads(got))
	}
	for _, pk := range got {
		if want[pk.TopicName] != string(pk.Payload) || !pk.FixedHeader.Retain {
			t.Fatalf("retained %s=%q retain %v", pk.TopicName, pk.Payload, pk.FixedHeader.Retain) // [MQTT-3.3.1-8]
		}
		if pk.TopicName == "home/hall/temp" && pk.FixedHeader.Qos != 0 {
			t.Fatal("retained QoS 0 upgraded")
		}
		if pk.FixedHeader.Qos == 1 {
			s.send(ack(packets.Puback, pk.PacketID))
		}
	}
	// Retain handling 0 sends again on a repeated SUBSCRIBE, 1 only for a
	// new subscription, 2 never (MQTT 5 §3.8.3.1).
	rh := func(filter string, h byte) packets.Subscription {
		return packets.Subscription{Filter: filter, Qos: 0, RetainHandling: h}
	}
	s.subscribe(2, rh("home/+/temp", 0))
	if n := len(s.take()); n != 2 {
		t.Fatalf("RH 0 again: %d", n)
	}
	s.subscribe(3, rh("home/kitchen/#", 1))
	if n := len(s.take()); n != 1 {
		t.Fatalf("RH 1 new: %d", n)
	}
	s.subscribe(4, rh("home/kitchen/#", 1))
	s.nothing()
	s.subscribe(5, rh("home/hall/#", 2))
	s.nothing()
	s.subscribe(6, sub("$share/g/home/#", 0))
	s.nothing() // no retained messages for shared subscriptions
	// [MQTT-4.7.2-1]: # does not match $SYS/uptime; $SYS/# does.
	s.subscribe(7, sub("#", 0))
	for _, pk := range s.take() {
		if pk.TopicName[0] == '$' {
			t.Fatalf("# matched %s", pk.TopicName)
		}
	}
	s.subscribe(8, sub("$SYS/#", 0))
	if got := s.take(); len(got) != 1 || string(got[0].Payload) != "5" {
		t.Fatalf("$SYS/# got %s", payloads(got))
	}
	// A 3.1.1 subscriber gets RETAIN on retained messages only.
	o := h.client(4, "o")
	o.subscribe(1, sub("home/hall/temp", 0))
	if got := o.expect(packets.Publish); !got.FixedHeader.Retain {
		t.Fatal("retained message without RETAIN")
	}
	p.publish("home/hall/temp", "19", 0, true, 0)
	if got := o.expect(packets.Publish); got.FixedHeader.Retain {
		t.Fatal("RETAIN on an established subscription") // [MQTT-3.3.1-9]
	}
}

// TestDollarTopicsEndToEnd: wildcard subscribers do not receive $ topics.
func TestDollarTopicsEndToEnd(t *testing.T) {
	h := newHarness(t, Options{})
	all := h.client(5, "all")
	all.subscribe(1, sub("#", 0), sub("+/info", 0))
	sys := h.client(5, "sys")
	sys.subscribe(1, sub("$SYS/#", 0), sub("$SYS/+", 0))
	p := h.client(4, "p")
	p.publish("$SYS/info", "s", 0, false, 0)
	p.publish("app/info", "a", 0, false, 0)
	if pl := payloads(all.take()); !equalStrings(pl, []string{"a"}) {
		t.Fatalf("# got %q", pl)
	}
	if pl := payloads(sys.take()); !equalStrings(pl, []string{"s"}) {
		t.Fatalf("$SYS got %q", pl)
	}
}

// TestSharedSubscriptionRoundRobin: each message to a share group goes to
// one member, in turn; a non-shared subscriber gets every message.
func TestSharedSubscriptionRoundRobin(t *testing.T) {
	h := newHarness(t, Options{})
	var workers []*tc
	for i := range 3 {
		w := h.client(5, fmt.Sprintf("w%d", i))
		w.subscribe(1, sub("$share/pool/jobs/+", 1))
		workers = append(workers, w)
	}
	watcher := h.client(4, "watcher")
	watcher.subscribe(1, sub("jobs/#", 0))
	p := h.client(4, "p")
	for i := range 9 {
		p.publish("jobs/x", fmt.Sprint(i), 1, false, uint16(i+1))
	}
	for i, w := range workers {
		got := w.take()
		if len(got) != 3 {
			t.Fatalf("worker %d got %d", i, len(got))
		}
		for _, pk := range got {
			w.send(ack(packets.Puback, pk.PacketID))
		}
	}
	if n := len(watcher.take()); n != 9 {
		t.Fatalf("watcher got %d", n)
	}
	// A worker that leaves stops getting its share.
	workers[0].send(disconnectPk(0))
	for i := range 4 {
		p.publish("jobs/x", fmt.Sprint(i), 1, false, uint16(i+20))
	}
	if a, b := len(workers[1].take()), len(workers[2].take()); a+b != 4 || a == 0 || b == 0 {
		t.Fatalf("remaining workers got %d and %d", a, b)
	}
}

// TestRouteAllocs measures the allocations of routing one QoS 0 message
// to one subscriber through the public path (PUBLISH in, PUBLISH out).
func TestRouteAllocs(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "s")
	s.subscribe(1, sub("kefu/s1/+/down", 0))
	p := h.client(5, "p")
	raw, _ := codec.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish},
		TopicName: "kefu/s1/d1/down", Payload: make([]byte, 64)}, 5)
	pk, _, _ := codec.Decode(raw, 5, 0) // mochi's MQTT 5 decoder allocates once; not the broker's
	allocs := testing.AllocsPerRun(200, func() {
		p.c.HandlePacket(&pk)
		s.conn.woken.Store(0)
		a := s.c.Drain()
		if len(a.Out) == 0 {
			t.Fatal("nothing delivered")
		}
	})
	// The Message (struct, payload+correlation buffer, topic copy) is the
	// only allocation: 3.
	if allocs > 3 {
		t.Fatalf("%v allocs per routed message", allocs)
	}
	t.Logf("%v allocs per routed QoS 0 message", allocs)
}
