package client

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/panjf2000/gnet/v2"
)

// fakeGC stands in for a gnet connection in the fuzz target: it records
// what is written and whether it was closed. Any other method panics.
type fakeGC struct {
	gnet.Conn
	out    *bytes.Buffer
	closed bool
}

func (f *fakeGC) Write(b []byte) (int, error) { f.out.Write(b); return len(b), nil }
func (f *fakeGC) Close() error                { f.closed = true; return nil }

// transcript is an MQTTHandler that writes every event as a line.
type transcript struct{ b *bytes.Buffer }

func (t transcript) Ready(*Conn)               { t.b.WriteString("ready\n") }
func (t transcript) Message(*Conn, *Msg)       { t.b.WriteString("message\n") }
func (t transcript) Closed(*Conn, string)      {}
func (t transcript) Tick(*Loop, time.Duration) {}
func (t transcript) Acked(_ *Conn, a Ack) {
	fmt.Fprintf(t.b, "ack %d %#x %d\n", a.Type, a.Reason, a.Cookie)
}
func (t transcript) Received(_ *Conn, p *Publish) {
	fmt.Fprintf(t.b, "pub %q %q %d %v\n", p.Topic, p.Payload, p.QoS, p.Retain)
}

// feedMQTT runs in through a fresh connection of the given version, in
// chunks cut at cuts, the way OnTraffic does (bytes not consumed stay
// buffered), and returns the events, the bytes written and the close
// reason.
func feedMQTT(t *testing.T, version byte, in []byte, cuts []int) string {
	var events, wire bytes.Buffer
	p := &Pool{opts: Options{Transport: MQTT, MaxPayload: 1 << 16}, mh: transcript{&events}}
	p.opts.Handler = p.mh
	l := &Loop{pool: p}
	gc := &fakeGC{out: &wire}
	c := &Conn{pool: p, loop: l, gc: gc, state: stHello}
	c.mq = mqttState{version: version, quota: 8}
	// Exchanges in flight: a QoS 1 and a QoS 2 PUBLISH, a SUBSCRIBE.
	c.mq.take(slotPub, 11)
	c.mq.take(slotPub, 12)
	c.mq.take(slotSub, 13)
	var buf []byte
	prev := 0
	for _, cut := range append(cuts, len(in)) {
		buf = append(buf, in[prev:cut]...)
		prev = cut
		if c.closing {
			continue
		}
		l.cur, l.out = c, l.out[:0]
		n := c.consume(buf)
		l.cur = nil
		if n < 0 || n > len(buf) {
			t.Fatalf("consumed %d of %d", n, len(buf))
		}
		buf = buf[n:]
		if !c.closing {
			wire.Write(l.out)
		}
	}
	if c.closing != gc.closed {
		t.Fatalf("closing %v but socket closed %v", c.closing, gc.closed)
	}
	if c.mq.used < 0 || c.mq.used > 3 {
		t.Fatalf("%d exchanges in flight", c.mq.used)
	}
	return events.String() + fmt.Sprintf("wire %x\nclose %q ready %v", wire.Bytes(), c.reason, c.ready)
}

// FuzzConsumeMQTT: whatever the server sends, the client neither panics
// nor misbehaves, and the same bytes cut anywhere produce the same events,
// the same answers and the same close.
func FuzzConsumeMQTT(f *testing.F) {
	ok := []byte{0x20, 0x02, 0x00, 0x00} // CONNACK accepted
	pub1, _ := mqtt.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
		TopicName: "kefu/demo/d/t", PacketID: 9, Payload: []byte("hello")}, 4)
	pub2, _ := mqtt.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2},
		TopicName: "kefu/demo/d/t", PacketID: 10, Payload: []byte("x")}, 4)
	acks := []byte{0x40, 0x02, 0x00, 0x01, 0x50, 0x02, 0x00, 0x02, 0x70, 0x02, 0x00, 0x02, 0x90, 0x03, 0x00, 0x03, 0x01}
	seeds := [][]byte{
		append(append(append(append([]byte{4}, ok...), pub1...), pub2...), acks...),
		append(append(append([]byte{4}, ok...), pub2...), pub2...), // a resend before PUBREL
		append(append([]byte{4}, ok...), 0x62, 0x02, 0x00, 0x0a),   // PUBREL
		{5, 0x20, 0x03, 0x00, 0x00, 0x00, 0xe0, 0x01, 0x8e},        // MQTT 5: DISCONNECT 0x8E
		{5, 0x20, 0x03, 0x00, 0x86, 0x00},                          // refused
		{4, 0x20, 0x02, 0x00, 0x00, 0x10, 0x00},                    // a CONNECT from the server
		{4, 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f},                    // a bad remaining length
	}
	for _, s := range seeds {
		f.Add(s, uint16(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, seed uint16) {
		if len(in) == 0 {
			return
		}
		version := MQTT311
		if in[0]&1 == 1 {
			version = MQTT5
		}
		in = in[1:]
		whole := feedMQTT(t, version, in, nil)
		var cuts []int
		for i, x := 1, uint(seed); i < len(in); i += 1 + int(x%7) { // cut points from the seed
			cuts = append(cuts, i)
			x = x*31 + 7
		}
		if split := feedMQTT(t, version, in, cuts); split != whole {
			t.Fatalf("split input differs:\n%s\n---\n%s", whole, split)
		}
		if strings.Count(whole, "ready\n") > 1 {
			t.Fatalf("ready twice:\n%s", whole)
		}
	})
}
