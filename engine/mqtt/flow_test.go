package mqtt

import (
	"fmt"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
)

// TestQoSFlows sends one message at each QoS from a publisher to a
// subscriber (every pairing of protocol versions and QoS levels) and
// checks both sides of the exchange.
func TestQoSFlows(t *testing.T) {
	for _, pv := range []byte{4, 5} {
		for _, sv := range []byte{4, 5} {
			for pq := byte(0); pq <= 2; pq++ {
				for sq := byte(0); sq <= 2; sq++ {
					t.Run(fmt.Sprintf("pub_v%d_qos%d/sub_v%d_qos%d", pv, pq, sv, sq), func(t *testing.T) {
						h := newHarness(t, Options{})
						s := h.client(sv, "sub")
						if ack := s.subscribe(1, sub("t/+", sq)); ack.ReasonCodes[0] != sq {
							t.Fatalf("granted %v", ack.ReasonCodes)
						}
						p := h.client(pv, "pub")
						p.publish("t/1", "hello", pq, false, 7)
						switch pq {
						case 1:
							if a := p.expect(packets.Puback); a.PacketID != 7 || a.ReasonCode != 0 {
								t.Fatalf("PUBACK %+v", a)
							}
						case 2:
							if a := p.expect(packets.Pubrec); a.PacketID != 7 || a.ReasonCode != 0 {
								t.Fatalf("PUBREC %+v", a)
							}
							p.send(ack(packets.Pubrel, 7))
							p.expect(packets.Pubcomp)
						default:
							p.nothing()
						}
						got := s.expect(packets.Publish)
						q := min(pq, sq) // [MQTT-3.8.4-8] the lower of the two
						if got.FixedHeader.Qos != q || string(got.Payload) != "hello" || got.TopicName != "t/1" ||
							got.FixedHeader.Retain || got.FixedHeader.Dup {
							t.Fatalf("delivered %+v", got)
						}
						if (q > 0) != (got.PacketID != 0) {
							t.Fatalf("packet id %d at QoS %d", got.PacketID, q)
						}
						switch q {
						case 1:
							s.send(ack(packets.Puback, got.PacketID))
						case 2:
							s.send(ack(packets.Pubrec, got.PacketID))
							if rel := s.expect(packets.Pubrel); rel.PacketID != got.PacketID {
								t.Fatalf("PUBREL %+v", rel)
							}
							s.send(ack(packets.Pubcomp, got.PacketID))
						}
						s.nothing()
						if n := len(s.c.s.inflight); n != 0 {
							t.Fatalf("%d still in flight", n)
						}
					})
				}
			}
		}
	}
}

// TestQoS2DuplicateInbound: a PUBLISH resent with the same packet id
// before PUBREL is acknowledged but not delivered again.
func TestQoS2DuplicateInbound(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "sub")
	s.subscribe(1, sub("t", 2))
	p := h.client(5, "pub")
	p.publish("t", "once", 2, false, 3)
	p.expect(packets.Pubrec)
	p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Dup: true}, TopicName: "t",
		Payload: []byte("once"), PacketID: 3})
	p.expect(packets.Pubrec)
	if got := payloads(s.take()); !equalStrings(got, []string{"once"}) {
		t.Fatalf("delivered %q", got)
	}
	p.send(ack(packets.Pubrel, 3))
	p.expect(packets.Pubcomp)
	// Unknown PUBREL: PUBCOMP 0x92 on MQTT 5.
	p.send(ack(packets.Pubrel, 3))
	if c := p.expect(packets.Pubcomp); c.ReasonCode != 0x92 {
		t.Fatalf("PUBCOMP %#x", c.ReasonCode)
	}
	// The id is free again: a new message with it is delivered.
	p.publish("t", "again", 2, false, 3)
	p.expect(packets.Pubrec)
	if got := payloads(s.take()); !equalStrings(got, []string{"again"}) {
		t.Fatalf("delivered %q", got)
	}
}

// TestInflightWindow: an MQTT 5 client's Receive Maximum bounds the
// broker's unacknowledged deliveries; the rest wait in order.
func TestInflightWindow(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "sub", func(pk *packets.Packet) { pk.Properties.ReceiveMaximum = 2 })
	s.subscribe(1, sub("t", 1))
	p := h.client(4, "pub")
	for i := range 5 {
		p.publish("t", fmt.Sprint(i), 1, false, uint16(i+1))
		p.expect(packets.Puback)
	}
	got := s.take()
	if pl := payloads(got); !equalStrings(pl, []string{"0", "1"}) {
		t.Fatalf("first window %q", pl)
	}
	s.send(ack(packets.Puback, got[0].PacketID))
	got2 := s.take()
	if pl := payloads(got2); !equalStrings(pl, []string{"2"}) {
		t.Fatalf("after one PUBACK %q", pl)
	}
	s.send(ack(packets.Puback, got[1].PacketID))
	s.send(ack(packets.Puback, got2[0].PacketID))
	if pl := payloads(s.take()); !equalStrings(pl, []string{"3", "4"}) {
		t.Fatalf("rest %q", pl)
	}
	// Packet ids in flight are distinct and never 0.
	seen := map[uint16]bool{}
	for _, d := range s.c.s.inflight {
		if d.id == 0 || seen[d.id] {
			t.Fatalf("bad id %d", d.id)
		}
		seen[d.id] = true
	}
}

// TestSlowConsumer: a connected client whose queue is over MaxQueued is
// disconnected with 0x97; the publisher is not slowed down.
func TestSlowConsumer(t *testing.T) {
	h := newHarness(t, Options{MaxQueued: 3, MaxInflight: 1})
	s := h.client(5, "slow")
	s.subscribe(1, sub("t", 1))
	p := h.client(4, "pub")
	for i := range 6 {
		p.publish("t", fmt.Sprint(i), 1, false, uint16(i+1))
		p.expect(packets.Puback)
	}
	got := s.take()
	last := got[len(got)-1]
	if !s.closed || s.reason != ReasonSlowConsumer || last.FixedHeader.Type != packets.Disconnect || last.ReasonCode != 0x97 {
		t.Fatalf("closed %v reason %v, last %s %#x", s.closed, s.reason, packets.PacketNames[last.FixedHeader.Type], last.ReasonCode)
	}
}

// TestOutboundMaxPacketSize: a message larger than the client's Maximum
// Packet Size is dropped for that client only [MQTT-3.1.2-25].
func TestOutboundMaxPacketSize(t *testing.T) {
	h := newHarness(t, Options{})
	small := h.client(5, "small", func(pk *packets.Packet) { pk.Properties.MaximumPacketSize = 32 })
	small.subscribe(1, sub("t", 1))
	big := h.client(5, "big")
	big.subscribe(1, sub("t", 1))
	p := h.client(5, "pub")
	p.publish("t", string(make([]byte, 100)), 1, false, 1)
	p.publish("t", "ok", 1, false, 2)
	if pl := payloads(small.take()); len(pl) != 1 || pl[0] != "ok" {
		t.Fatalf("small got %q", pl)
	}
	if pl := payloads(big.take()); len(pl) != 2 {
		t.Fatalf("big got %d", len(pl))
	}
	if len(small.c.s.inflight) != 1 {
		t.Fatalf("dropped message left in flight: %d", len(small.c.s.inflight))
	}
}

// TestPropertiesPassThrough: MQTT 5 properties reach the subscriber; the
// expiry is counted down; subscription identifiers are added.
func TestPropertiesPassThrough(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "sub")
	s.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe}, PacketID: 1,
		Properties: packets.Properties{SubscriptionIdentifier: []int{42}},
		Filters:    packets.Subscriptions{sub("req/#", 1)}})
	s.expect(packets.Suback)
	s.subscribe(2, sub("req/+", 0)) // overlapping, no identifier
	p := h.client(5, "pub")
	p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "req/x", Payload: []byte("p"),
		Properties: packets.Properties{PayloadFormat: 1, PayloadFormatFlag: true, MessageExpiryInterval: 60,
			ContentType: "text/plain", ResponseTopic: "resp/x", CorrelationData: []byte{1, 2},
			User: []packets.UserProperty{{Key: "k", Val: "v"}, {Key: "k", Val: "w"}}}})
	h.clock.advance(10_500_000_000) // 10.5 s in the broker: the PUBLISH waits in the queue
	got := s.expect(packets.Publish)
	pr := got.Properties
	if !pr.PayloadFormatFlag || pr.PayloadFormat != 1 || pr.ContentType != "text/plain" || pr.ResponseTopic != "resp/x" ||
		string(pr.CorrelationData) != "\x01\x02" || len(pr.User) != 2 || pr.User[1].Val != "w" {
		t.Fatalf("properties %+v", pr)
	}
	// One delivery for two overlapping subscriptions: the higher QoS and
	// the one identifier [MQTT-3.3.4-2].
	if got.FixedHeader.Qos != 0 || len(pr.SubscriptionIdentifier) != 1 || pr.SubscriptionIdentifier[0] != 42 {
		t.Fatalf("qos %d ids %v", got.FixedHeader.Qos, pr.SubscriptionIdentifier)
	}
	if pr.MessageExpiryInterval != 60 {
		t.Fatalf("expiry %d", pr.MessageExpiryInterval) // delivered at once: full interval
	}
}

func TestMessageExpiryInQueue(t *testing.T) {
	h := newHarness(t, Options{})
	s := h.client(5, "sub", persistent(3600))
	s.subscribe(1, sub("t", 1))
	s.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}})
	p := h.client(5, "pub")
	for i, exp := range []uint32{5, 100, 0} {
		p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, TopicName: "t",
			PacketID: uint16(i + 1), Payload: []byte(fmt.Sprint(exp)), Properties: packets.Properties{MessageExpiryInterval: exp}})
		p.expect(packets.Puback)
	}
	h.clock.advance(30_000_000_000)
	s2 := h.dial(5)
	s2.connect("sub", persistent(3600))
	got := s2.take()
	if pl := payloads(got); !equalStrings(pl, []string{"100", "0"}) {
		t.Fatalf("after 30 s: %q", pl)
	}
	if e := got[0].Properties.MessageExpiryInterval; e != 70 {
		t.Fatalf("remaining expiry %d, want 70", e)
	}
}

func TestNoLocalAndRetainAsPublished(t *testing.T) {
	h := newHarness(t, Options{})
	c := h.client(5, "me")
	c.subscribe(1, packets.Subscription{Filter: "a", Qos: 1, NoLocal: true}, packets.Subscription{Filter: "b", Qos: 1, RetainAsPublished: true},
		packets.Subscription{Filter: "c", Qos: 1})
	c.publish("a", "self", 0, false, 0)
	c.nothing() // [MQTT-3.8.3-3]
	c.publish("b", "rap", 0, true, 0)
	if got := c.expect(packets.Publish); !got.FixedHeader.Retain {
		t.Fatal("retain as published lost the flag")
	}
	c.publish("c", "plain", 0, true, 0)
	if got := c.expect(packets.Publish); got.FixedHeader.Retain {
		t.Fatal("RETAIN set on a normal delivery") // [MQTT-3.3.1-9]
	}
}

// TestOrderedDelivery: messages from one publisher reach a subscriber in
// the order sent, whatever their QoS [MQTT-4.6.0-6].
func TestOrderedDelivery(t *testing.T) {
	h := newHarness(t, Options{MaxInflight: 2})
	s := h.client(4, "sub")
	s.subscribe(1, sub("t", 2))
	p := h.client(4, "pub")
	var want []string
	for i := range 12 {
		q := byte(i % 3)
		p.publish("t", fmt.Sprint(i), q, false, uint16(i+1))
		want = append(want, fmt.Sprint(i))
	}
	var got []string
	for range 100 {
		pks := s.take()
		if len(pks) == 0 {
			break
		}
		for _, pk := range pks {
			switch pk.FixedHeader.Type {
			case packets.Publish:
				got = append(got, string(pk.Payload))
				switch pk.FixedHeader.Qos {
				case 1:
					s.send(ack(packets.Puback, pk.PacketID))
				case 2:
					s.send(ack(packets.Pubrec, pk.PacketID))
				}
			case packets.Pubrel:
				s.send(ack(packets.Pubcomp, pk.PacketID))
			}
		}
	}
	if !equalStrings(got, want) {
		t.Fatalf("order %q, want %q", got, want)
	}
}
