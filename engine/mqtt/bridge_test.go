package mqtt

import (
	"strings"
	"sync"
	"testing"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// fakeBridge claims topics under "br/", records what it takes and answers
// with a preset verdict.
type fakeBridge struct {
	mu     sync.Mutex
	taken  []taken
	active []string
	reason byte
	hold   bool
}

type taken struct {
	payload, key string
	qos          byte
	ticket       Ticket
	contentType  string
}

func (f *fakeBridge) Claims(_ *Identity, topic string) bool { return strings.HasPrefix(topic, "br/") }

func (f *fakeBridge) Take(in *Inbound) (byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.taken = append(f.taken, taken{string(in.Payload), in.Key, in.QoS, in.Ticket, in.Properties.ContentType})
	return f.reason, f.hold
}

func (f *fakeBridge) Active(id *Identity) {
	f.mu.Lock()
	f.active = append(f.active, id.ClientID)
	f.mu.Unlock()
}

func (f *fakeBridge) takes() []taken {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]taken(nil), f.taken...)
}

func bridgeHarness(t *testing.T, hold bool) (*harness, *fakeBridge) {
	f := &fakeBridge{hold: hold}
	return newHarness(t, Options{Bridge: f, ReceiveMaximum: 4}), f
}

func (x *tc) publishDup(topic, payload string, qos byte, id uint16) {
	x.h.t.Helper()
	x.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Dup: true},
		TopicName: topic, Payload: []byte(payload), PacketID: id})
}

// TestBridgeHeldAck: a claimed QoS 1 or 2 PUBLISH is acknowledged only
// when the bridge says so, from another goroutine, through a Wake; it is
// not routed to subscribers.
func TestBridgeHeldAck(t *testing.T) {
	for _, v := range []byte{4, 5} {
		for _, qos := range []byte{1, 2} {
			h, f := bridgeHarness(t, true)
			sub := h.client(5, "sub")
			sub.subscribe(1, sub1("br/#"))
			p := h.client(v, "p")
			p.publish("br/up", "hello", qos, false, 9)
			p.nothing() // held
			got := f.takes()
			if len(got) != 1 || got[0].payload != "hello" || got[0].qos != qos || !strings.HasPrefix(got[0].key, "mq.") {
				t.Fatalf("v%d qos%d: taken %+v", v, qos, got)
			}
			done := make(chan struct{})
			go func() { got[0].ticket.Ack(0); close(done) }()
			<-done
			if p.conn.woken.Load() == 0 {
				t.Fatalf("v%d qos%d: Ack did not wake the connection", v, qos)
			}
			if qos == 1 {
				if a := p.expect(packets.Puback); a.PacketID != 9 || a.ReasonCode != 0 {
					t.Fatalf("PUBACK %+v", a)
				}
			} else {
				p.expect(packets.Pubrec)
				p.publishDup("br/up", "hello", 2, 9) // after PUBREC: answered, not taken
				p.expect(packets.Pubrec)
				p.send(ack(packets.Pubrel, 9))
				if c := p.expect(packets.Pubcomp); c.ReasonCode != 0 {
					t.Fatalf("PUBCOMP %+v", c)
				}
			}
			got[0].ticket.Ack(0x80) // a second Ack does nothing
			p.nothing()
			sub.nothing()
			if n := len(f.takes()); n != 1 {
				t.Fatalf("taken %d times", n)
			}
		}
	}
}

func sub1(filter string) packets.Subscription { return sub(filter, 1) }

// TestBridgeRefusal: an immediate refusal is a reason code for MQTT 5 and
// a plain acknowledgement for 3.1.1; a refused QoS 2 exchange ends at
// PUBREC for MQTT 5.
func TestBridgeRefusal(t *testing.T) {
	h, f := bridgeHarness(t, false)
	f.reason = 0x99
	p5 := h.client(5, "p5")
	p5.publish("br/up", "x", 1, false, 1)
	if a := p5.expect(packets.Puback); a.ReasonCode != 0x99 {
		t.Fatalf("v5 PUBACK %#x", a.ReasonCode)
	}
	p5.publish("br/up", "x", 2, false, 2)
	if a := p5.expect(packets.Pubrec); a.ReasonCode != 0x99 {
		t.Fatalf("v5 PUBREC %#x", a.ReasonCode)
	}
	p5.send(ack(packets.Pubrel, 2))
	if c := p5.expect(packets.Pubcomp); c.ReasonCode != 0x92 {
		t.Fatalf("PUBCOMP after a refused PUBREC: %#x, want 0x92", c.ReasonCode)
	}
	p3 := h.client(4, "p3")
	p3.publish("br/up", "x", 1, false, 1)
	if a := p3.expect(packets.Puback); a.ReasonCode != 0 {
		t.Fatalf("v3 PUBACK %#x", a.ReasonCode)
	}
	p3.publish("br/up", "x", 2, false, 2)
	p3.expect(packets.Pubrec)
	p3.send(ack(packets.Pubrel, 2))
	p3.expect(packets.Pubcomp)
	p3.publish("br/up", "q0", 0, false, 0)
	p3.nothing()
	if n := len(f.takes()); n != 5 {
		t.Fatalf("taken %d, want 5", n)
	}
}

// TestBridgeResend: resends (DUP) of a held or recently acknowledged
// PUBLISH over a new connection of a persistent session are answered
// without reaching the bridge again; a reused packet id with another
// payload is a new message, and the old ticket no longer acknowledges it.
func TestBridgeResend(t *testing.T) {
	h, f := bridgeHarness(t, true)
	p := h.client(5, "dev", persistent(60))
	p.publish("br/up", "one", 1, false, 1)
	p.publish("br/up", "two", 1, false, 2)
	p.drop() // both held: the connection dies before the acks
	got := f.takes()
	got[0].ticket.Ack(0) // committed while offline

	p2 := h.dial(5)
	p2.connect("dev", persistent(60))
	p2.publishDup("br/up", "one", 1, 1) // done: answered at once
	if a := p2.expect(packets.Puback); a.PacketID != 1 {
		t.Fatalf("PUBACK %+v", a)
	}
	p2.publishDup("br/up", "two", 1, 2) // still waiting: answered when acked
	p2.nothing()
	got[1].ticket.Ack(0)
	if a := p2.expect(packets.Puback); a.PacketID != 2 {
		t.Fatalf("PUBACK %+v", a)
	}
	if n := len(f.takes()); n != 2 {
		t.Fatalf("taken %d, want 2", n)
	}

	// The PUBACK of 2 is lost with the connection: its resend is answered
	// from memory, without reaching the bridge.
	p2.drop()
	p3 := h.dial(5)
	p3.connect("dev", persistent(60))
	p3.publishDup("br/up", "two", 1, 2)
	p3.expect(packets.Puback)
	// Without DUP the same id and payload after the PUBACK is a new message.
	p3.publish("br/up", "two", 1, false, 2)
	p3.nothing()
	// So is a reused id with another payload, even with DUP.
	p3.publishDup("br/up", "three", 1, 2)
	p3.nothing()
	got = f.takes()
	if len(got) != 4 || got[2].key == got[1].key || got[3].key == got[2].key {
		t.Fatalf("taken %+v", got)
	}
	got[2].ticket.Ack(0) // replaced by the "three" publication: nothing
	p3.nothing()
	got[3].ticket.Ack(0)
	p3.expect(packets.Puback)
}

// TestBridgeReceiveMaximum: an MQTT 5 client with more held PUBLISHes than
// the Receive Maximum it was told is disconnected with 0x93.
func TestBridgeReceiveMaximum(t *testing.T) {
	h, _ := bridgeHarness(t, true)
	p := h.client(5, "p")
	for id := uint16(1); id <= 4; id++ {
		p.publish("br/up", "m", 1, false, id)
	}
	p.nothing()
	p.publish("br/up", "m", 1, false, 5)
	if d := p.expect(packets.Disconnect); d.ReasonCode != 0x93 || !p.closed {
		t.Fatalf("DISCONNECT %#x closed %v", d.ReasonCode, p.closed)
	}
}

// TestBridgeCleanStart: a clean start ends the held PUBLISHes with the
// session; a late Ack does nothing.
func TestBridgeCleanStart(t *testing.T) {
	h, f := bridgeHarness(t, true)
	p := h.client(5, "dev", persistent(60))
	p.publish("br/up", "one", 1, false, 1)
	p.drop()
	p2 := h.client(5, "dev") // clean start
	f.takes()[0].ticket.Ack(0)
	p2.nothing()
	p2.publish("br/up", "one", 1, false, 1)
	p2.nothing()
	if n := len(f.takes()); n != 2 {
		t.Fatalf("taken %d, want 2", n)
	}
}

// TestBridgeActive: the bridge hears of accepted CONNECTs and granted
// subscriptions, not of refused ones.
func TestBridgeActive(t *testing.T) {
	h, f := bridgeHarness(t, true)
	p := h.client(5, "p")
	p.subscribe(1, sub1("br/down"))
	p.subscribe(2, sub1("a/#/b")) // invalid: refused
	if want := []string{"p", "p"}; !equalStrings(f.active, want) {
		t.Fatalf("active %v, want %v", f.active, want)
	}
}

// TestBridgeQoS0: QoS 0 reaches the bridge without a key or ticket, and
// claimed topics are neither routed nor retained.
func TestBridgeQoS0(t *testing.T) {
	h, f := bridgeHarness(t, true)
	s := h.client(5, "s")
	s.subscribe(1, sub1("#"))
	p := h.client(5, "p")
	p.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true}, TopicName: "br/ev",
		Payload: []byte("{}"), Properties: packets.Properties{ContentType: "application/json"}})
	p.nothing()
	s.nothing()
	got := f.takes()
	if len(got) != 1 || got[0].key != "" || got[0].ticket != (Ticket{}) || got[0].contentType != "application/json" {
		t.Fatalf("taken %+v", got)
	}
	if h.b.Retained() != 0 {
		t.Fatal("a claimed message was retained")
	}
	got[0].ticket.Ack(0) // the zero ticket: nothing
}

// FuzzBridgeClient feeds arbitrary packets to a client of a broker with a
// bridge that holds everything under br/ and acknowledges (or refuses,
// by mask) after each packet, over reconnections of a persistent session.
// The broker must not panic, must write only packets that decode, and the
// held list must stay consistent and bounded.
func FuzzBridgeClient(f *testing.F) {
	pub := func(payload string, qos byte, id uint16, dup bool) packets.Packet {
		return packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Dup: dup},
			TopicName: "br/up", PacketID: id, Payload: []byte(payload)}
	}
	for _, v := range []byte{4, 5} {
		f.Add(encodeAll(f, v, pub("a", 1, 1, false), pub("b", 2, 2, false), pub("a", 1, 1, true),
			ack(packets.Pubrel, 2), pub("c", 0, 0, false), pub("d", 1, 1, false)), v == 5, uint8(0x0f), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, v5 bool, mask, drops uint8) {
		fb := &fakeBridge{hold: true}
		h := newHarness(t, Options{Bridge: fb, MaxPacketSize: 2048, ReceiveMaximum: 4})
		v := byte(4)
		if v5 {
			v = 5
		}
		x := h.client(v, "dev", persistent(60))
		acked := 0
		for buf := data; len(buf) > 0; {
			if x.closed {
				if drops == 0 {
					break
				}
				drops--
				x = h.dial(v)
				x.connect("dev", persistent(60))
			}
			pk, n, err := codec.Decode(buf, v, h.b.MaxPacketSize())
			if err != nil || n == 0 {
				break
			}
			buf = buf[n:]
			if pk.FixedHeader.Type == packets.Connect {
				continue
			}
			x.apply(x.c.HandlePacket(&pk))
			for _, tk := range fb.takes()[acked:] {
				reason := byte(0)
				if mask&(1<<(acked%8)) == 0 {
					reason = 0x80
				}
				tk.ticket.Ack(reason)
				acked++
			}
			h.settle()
			x.take()
			if drops > 0 && mask&0x80 != 0 && !x.closed {
				x.drop() // the connection dies: resends follow on the next one
			}
		}
		s := x.c.s
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.bridged == nil { // made on the first bridged QoS 1/2 PUBLISH only
			return
		}
		done, kept := 0, 0
		for _, e := range s.bridged.list {
			switch e.state {
			case heldDone:
				done++
			case heldAcked:
				kept++
			}
		}
		if done != s.bridged.done || kept != s.bridged.acked || kept > maxAckedKept {
			t.Fatalf("held list: %d done (counted %d), %d acknowledged (counted %d)", done, s.bridged.done, kept, s.bridged.acked)
		}
	})
}
