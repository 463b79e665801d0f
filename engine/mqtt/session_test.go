package mqtt

import (
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

func disconnectPk(reason byte) packets.Packet {
	return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ReasonCode: reason}
}

// TestTakeover: a second CONNECT with the same client id disconnects the
// first (MQTT 5: DISCONNECT 0x8E) and, without clean start, resumes its
// session: subscriptions and unacknowledged messages carry over.
func TestTakeover(t *testing.T) {
	for _, v := range []byte{4, 5} {
		t.Run(map[byte]string{4: "v4", 5: "v5"}[v], func(t *testing.T) {
			h := newHarness(t, Options{})
			old := h.client(v, "dev", persistent(600))
			old.subscribe(1, sub("t", 1))
			p := h.client(4, "pub")
			p.publish("t", "m1", 1, false, 1)
			first := old.expect(packets.Publish) // not acknowledged
			neu := h.dial(v)
			ca := neu.connect("dev", persistent(600))
			if !ca.SessionPresent {
				t.Fatal("session not present")
			}
			got := old.take()
			if !old.closed || old.reason != ReasonTakeover {
				t.Fatalf("old: closed %v reason %v", old.closed, old.reason)
			}
			if v == 5 && (len(got) != 1 || got[0].FixedHeader.Type != packets.Disconnect || got[0].ReasonCode != 0x8E) {
				t.Fatalf("old got %s", names(got))
			}
			if v == 4 && len(got) != 0 {
				t.Fatalf("old got %s", names(got))
			}
			// The unacknowledged message is resent with DUP and its id.
			re := neu.expect(packets.Publish)
			if !re.FixedHeader.Dup || re.PacketID != first.PacketID || string(re.Payload) != "m1" {
				t.Fatalf("resent %+v", re)
			}
			neu.send(ack(packets.Puback, re.PacketID))
			p.publish("t", "m2", 1, false, 2)
			if pl := payloads(neu.take()); !equalStrings(pl, []string{"m2"}) {
				t.Fatalf("after takeover %q", pl)
			}
			if h.b.Sessions() != 2 {
				t.Fatalf("%d sessions", h.b.Sessions())
			}
		})
	}
}

// TestTakeoverCleanStart: a takeover with clean start discards the old
// session.
func TestTakeoverCleanStart(t *testing.T) {
	h := newHarness(t, Options{})
	old := h.client(5, "dev", persistent(600))
	old.subscribe(1, sub("t", 1))
	neu := h.dial(5)
	if ack := neu.connect("dev"); ack.SessionPresent {
		t.Fatal("clean start resumed the session")
	}
	if !old.closed {
		t.Fatal("old not kicked")
	}
	p := h.client(4, "pub")
	p.publish("t", "x", 1, false, 1)
	neu.nothing()
	if h.b.Subscriptions() != 0 {
		t.Fatalf("%d subscriptions left", h.b.Subscriptions())
	}
}

// TestQoS2AcrossReconnect: a client that disconnects in the middle of a
// QoS 2 exchange, in either direction, completes it after reconnecting,
// and the message is delivered exactly once.
func TestQoS2AcrossReconnect(t *testing.T) {
	h := newHarness(t, Options{})
	sub1 := h.client(5, "sub", persistent(600))
	sub1.subscribe(1, sub("t", 2))

	// Inbound: PUBLISH, PUBREC, connection lost before PUBREL.
	pub := h.client(5, "pub", persistent(600))
	pub.publish("t", "in", 2, false, 9)
	pub.expect(packets.Pubrec)
	pub.drop()
	pub = h.dial(5)
	pub.connect("pub", persistent(600))
	pub.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2, Dup: true}, TopicName: "t",
		Payload: []byte("in"), PacketID: 9})
	pub.expect(packets.Pubrec) // known id: acknowledged, not delivered again
	pub.send(ack(packets.Pubrel, 9))
	if c := pub.expect(packets.Pubcomp); c.ReasonCode != 0 {
		t.Fatalf("PUBCOMP %#x", c.ReasonCode)
	}

	// Outbound: the subscriber got the PUBLISH, sends PUBREC, gets PUBREL,
	// and drops before PUBCOMP.
	got := sub1.expect(packets.Publish)
	if string(got.Payload) != "in" {
		t.Fatalf("payload %q", got.Payload)
	}
	sub1.send(ack(packets.Pubrec, got.PacketID))
	sub1.expect(packets.Pubrel)
	sub1.drop()
	sub2 := h.dial(5)
	sub2.connect("sub", persistent(600))
	// The broker resends the PUBREL, not the PUBLISH [MQTT-4.4.0-1].
	if rel := sub2.expect(packets.Pubrel); rel.PacketID != got.PacketID {
		t.Fatalf("PUBREL %d, want %d", rel.PacketID, got.PacketID)
	}
	sub2.send(ack(packets.Pubcomp, got.PacketID))
	sub2.nothing()
	if n := len(sub2.c.s.inflight); n != 0 {
		t.Fatalf("%d in flight", n)
	}

	// A PUBLISH the subscriber never acknowledged is resent with DUP.
	pub.publish("t", "second", 2, false, 10)
	pub.expect(packets.Pubrec)
	first := sub2.expect(packets.Publish)
	sub2.drop()
	sub3 := h.dial(4)
	sub3.connect("sub", func(pk *packets.Packet) { pk.Connect.Clean = false })
	re := sub3.expect(packets.Publish)
	if !re.FixedHeader.Dup || re.PacketID != first.PacketID || re.FixedHeader.Qos != 2 {
		t.Fatalf("resent %+v", re)
	}
}

// TestWill covers the will message: published on abnormal close, not on
// DISCONNECT, published on DISCONNECT 0x04, delayed by the will delay and
// cancelled by a reconnection within it.
func TestWill(t *testing.T) {
	h := newHarness(t, Options{})
	w := h.client(5, "watcher")
	w.subscribe(1, sub("will/#", 1))

	a := h.client(4, "a", withWill("will/a", "gone", 1, false, 0))
	a.drop()
	if got := w.expect(packets.Publish); string(got.Payload) != "gone" || got.TopicName != "will/a" {
		t.Fatalf("will %+v", got)
	}

	b := h.client(5, "b", withWill("will/b", "gone", 1, false, 0))
	b.send(disconnectPk(0))
	w.nothing() // normal DISCONNECT discards the will [MQTT-3.14.4-3]

	c := h.client(5, "c", withWill("will/c", "asked", 0, false, 0))
	c.send(disconnectPk(0x04))
	if got := w.expect(packets.Publish); string(got.Payload) != "asked" {
		t.Fatalf("will %q", got.Payload)
	}

	// Server-initiated disconnect (keep alive) publishes the will.
	k := h.client(5, "k", withWill("will/k", "timeout", 0, false, 0))
	k.apply(k.c.Disconnect(ReasonKeepAlive))
	if got := k.got[len(k.got)-1]; got.FixedHeader.Type != packets.Disconnect || got.ReasonCode != 0x8D {
		t.Fatalf("keep alive goodbye %+v", got)
	}
	if got := w.expect(packets.Publish); string(got.Payload) != "timeout" {
		t.Fatalf("will %q", got.Payload)
	}

	// Will delay: published after 10 s of absence.
	d := h.client(5, "d", persistent(600), withWill("will/d", "late", 1, false, 10))
	d.drop()
	w.nothing()
	h.clock.advance(9 * time.Second)
	h.b.Tick()
	w.nothing()
	h.clock.advance(2 * time.Second)
	h.b.Tick()
	if got := w.expect(packets.Publish); string(got.Payload) != "late" {
		t.Fatalf("delayed will %q", got.Payload)
	}

	// Reconnecting within the delay cancels it [MQTT-3.1.3-9].
	e := h.client(5, "e", persistent(600), withWill("will/e", "never", 1, false, 10))
	e.drop()
	h.clock.advance(5 * time.Second)
	h.client(5, "e", persistent(600))
	h.clock.advance(10 * time.Second)
	h.b.Tick()
	w.nothing()

	// A session that ends before the delay publishes the will then
	// [MQTT-3.1.3-9].
	f := h.client(5, "f", persistent(3), withWill("will/f", "ended", 0, false, 60))
	f.drop()
	h.clock.advance(4 * time.Second)
	h.b.Tick()
	if got := w.expect(packets.Publish); string(got.Payload) != "ended" {
		t.Fatalf("will at session end %q", got.Payload)
	}
}

// TestWillRetained: a retained will replaces the retained message.
func TestWillRetained(t *testing.T) {
	h := newHarness(t, Options{})
	a := h.client(4, "a", withWill("status/a", "offline", 1, true, 0))
	a.publish("status/a", "online", 1, true, 1)
	a.drop()
	w := h.client(5, "w")
	w.subscribe(1, sub("status/+", 1))
	if got := w.take(); len(got) != 1 || string(got[0].Payload) != "offline" || !got[0].FixedHeader.Retain {
		t.Fatalf("retained %s", payloads(got))
	}
}

// TestSessionExpiry: an offline session ends when its expiry passes; a
// 3.1.1 clean session ends with its connection.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t, Options{})
	a := h.client(5, "a", persistent(60))
	a.subscribe(1, sub("x", 1))
	a.drop()
	c := h.client(4, "c")
	c.subscribe(1, sub("y", 1))
	c.drop()
	if h.b.Sessions() != 1 || h.b.Subscriptions() != 1 {
		t.Fatalf("sessions %d subscriptions %d", h.b.Sessions(), h.b.Subscriptions())
	}
	h.clock.advance(61 * time.Second)
	h.b.Tick()
	if h.b.Sessions() != 0 || h.b.Subscriptions() != 0 {
		t.Fatalf("after expiry: sessions %d subscriptions %d", h.b.Sessions(), h.b.Subscriptions())
	}
	a2 := h.dial(5)
	if ack := a2.connect("a", persistent(60)); ack.SessionPresent {
		t.Fatal("expired session present")
	}
}

// TestOfflineQueue: a persistent session collects QoS 1/2 messages while
// offline, bounded by MaxQueued, and gets them on reconnect; QoS 0 is not
// queued for it.
func TestOfflineQueue(t *testing.T) {
	h := newHarness(t, Options{MaxQueued: 3})
	s := h.client(4, "s", func(pk *packets.Packet) { pk.Connect.Clean = false })
	s.subscribe(1, sub("t", 2))
	s.send(disconnectPk(0))
	p := h.client(4, "p")
	p.publish("t", "q0", 0, false, 0)
	for i, pl := range []string{"a", "b", "c", "d"} {
		p.publish("t", pl, 1, false, uint16(i+1))
	}
	s2 := h.dial(4)
	s2.connect("s", func(pk *packets.Packet) { pk.Connect.Clean = false })
	if pl := payloads(s2.take()); !equalStrings(pl, []string{"a", "b", "c"}) {
		t.Fatalf("queued %q", pl)
	}
}

// TestRestart: sessions and retained messages survive a broker closed and
// rebuilt over the same store.
func TestRestart(t *testing.T) {
	store := NewMemoryStore()
	h := newHarness(t, Options{Store: store})
	s := h.client(5, "dev", persistent(3600))
	s.subscribe(1, packets.Subscription{Filter: "cmd/dev", Qos: 1}, packets.Subscription{Filter: "$share/g/jobs", Qos: 2})
	p := h.client(4, "p")
	p.publish("cmd/dev", "inflight", 1, false, 1)
	sent := s.expect(packets.Publish)
	s.drop()
	p.publish("cmd/dev", "queued", 1, false, 2)
	p.publish("state", "retained", 0, true, 0)
	if err := h.b.Close(); err != nil {
		t.Fatal(err)
	}

	h2 := newHarness(t, Options{Store: store})
	h2.clock.t.Store(h.clock.now())
	if h2.b.Sessions() != 1 || h2.b.Retained() != 1 || h2.b.Subscriptions() != 2 {
		t.Fatalf("restored sessions %d retained %d subscriptions %d", h2.b.Sessions(), h2.b.Retained(), h2.b.Subscriptions())
	}
	s2 := h2.dial(5)
	if ack := s2.connect("dev", persistent(3600)); !ack.SessionPresent {
		t.Fatal("session lost")
	}
	got := s2.take()
	if pl := payloads(got); !equalStrings(pl, []string{"inflight", "queued"}) || !got[0].FixedHeader.Dup ||
		got[0].PacketID != sent.PacketID {
		t.Fatalf("after restart %q %+v", pl, got)
	}
	w := h2.client(5, "w")
	w.subscribe(1, sub("state", 0))
	if pl := payloads(w.take()); !equalStrings(pl, []string{"retained"}) {
		t.Fatalf("retained %q", pl)
	}
	p2 := h2.client(4, "p")
	p2.publish("jobs", "job", 1, false, 1)
	if pl := payloads(s2.take()); !equalStrings(pl, []string{"job"}) {
		t.Fatalf("shared after restart %q", pl)
	}
}
