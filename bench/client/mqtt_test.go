package client

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/bench/baseline/mochibroker"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mqttRecorder is an MQTTHandler that forwards events to channels.
type mqttRecorder struct {
	*recorder
	pubs chan received
	acks chan acked
}

type received struct {
	c       *Conn
	topic   string
	payload string
	qos     byte
}

type acked struct {
	c *Conn
	a Ack
}

func newMQTTRecorder() *mqttRecorder {
	return &mqttRecorder{recorder: newRecorder(), pubs: make(chan received, 256), acks: make(chan acked, 256)}
}

func (r *mqttRecorder) Received(c *Conn, p *Publish) {
	r.pubs <- received{c, strings.Clone(p.Topic), string(p.Payload), p.QoS}
}

func (r *mqttRecorder) Acked(c *Conn, a Ack) { r.acks <- acked{c, a} }

// brokers starts the two MQTT brokers the bench measures: Kefu (device
// tokens, per-device ACL) and the mochi baseline (anything goes).
func brokers(t *testing.T) map[string]string {
	t.Helper()
	srv := testserver.Start(t)
	mb, err := mochibroker.New(mochibroker.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mb.Close() })
	return map[string]string{"kefu": srv.Addr(), "mochi": mb.Addr().String()}
}

func deviceConnect(device, suffix string, version byte) MQTTConnect {
	name := testserver.Site + "/" + device
	return MQTTConnect{Version: version, ClientID: name + "/" + suffix, Username: name, Password: testserver.DeviceToken(device)}
}

func waitReady(t *testing.T, rec *recorder, n int) {
	t.Helper()
	for range n {
		select {
		case <-rec.ready:
		case r := <-rec.closed:
			t.Fatalf("closed before CONNACK: %s", r)
		case <-time.After(5 * time.Second):
			t.Fatal("no CONNACK")
		}
	}
}

func waitAck(t *testing.T, ch chan acked) acked {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no acknowledgement within 5s")
	}
	return acked{}
}

// TestMQTTPubSub: a device's publisher and subscriber, over both versions
// and every QoS, against Kefu and mochi: SUBACK, the publisher's
// acknowledgements with their cookies, the messages in order.
func TestMQTTPubSub(t *testing.T) {
	for name, addr := range brokers(t) {
		for _, v := range []byte{MQTT311, MQTT5} {
			for qos := range byte(3) {
				t.Run(fmt.Sprintf("%s/v%d/qos%d", name, v, qos), func(t *testing.T) {
					rec := newMQTTRecorder()
					p, err := New(Options{Addr: addr, Transport: MQTT, Loops: 2, Handler: rec, Tick: 10 * time.Millisecond})
					if err != nil {
						t.Fatal(err)
					}
					defer p.Close(2 * time.Second)
					device := fmt.Sprintf("d-%s-%d-%d", name, v, qos)
					topic := "kefu/" + testserver.Site + "/" + device + "/t"
					pub := &Conn{MQTT: deviceConnect(device, "pub", v)}
					sub := &Conn{MQTT: deviceConnect(device, "sub", v)}
					for _, c := range []*Conn{pub, sub} {
						if err := p.Dial(context.Background(), c); err != nil {
							t.Fatal(err)
						}
					}
					waitReady(t, rec.recorder, 2)
					sub.Loop().Exec(func() {
						if !sub.Subscribe(topic, qos, 77) {
							t.Error("Subscribe refused")
						}
					})
					if a := waitAck(t, rec.acks); a.c != sub || a.a.Type != packets.Suback || a.a.Cookie != 77 || a.a.Reason != qos {
						t.Fatalf("SUBACK %+v", a)
					}
					const n = 5
					pub.Loop().Exec(func() {
						for i := range n {
							if !pub.Publish(topic, qos, i == n-1, []byte("m"+strconv.Itoa(i)), uint64(100+i)) {
								t.Error("Publish refused")
							}
						}
						if qos > 0 && pub.Inflight() != n {
							t.Errorf("in flight %d", pub.Inflight())
						}
					})
					if qos > 0 {
						want := byte(packets.Puback)
						if qos == 2 {
							want = packets.Pubcomp
						}
						seen := map[uint64]bool{}
						for range n {
							a := waitAck(t, rec.acks)
							if a.c != pub || a.a.Type != want || a.a.Refused() || a.a.Cookie < 100 || a.a.Cookie >= 100+n || seen[a.a.Cookie] {
								t.Fatalf("ack %+v", a)
							}
							seen[a.a.Cookie] = true
						}
					}
					for i := range n {
						select {
						case m := <-rec.pubs:
							if m.c != sub || m.topic != topic || m.payload != "m"+strconv.Itoa(i) || m.qos != qos {
								t.Fatalf("message %d: %+v", i, m)
							}
						case <-time.After(5 * time.Second):
							t.Fatalf("message %d not delivered", i)
						}
					}
					pub.Loop().Exec(func() {
						if pub.Inflight() != 0 {
							t.Errorf("in flight after the acks: %d", pub.Inflight())
						}
					})
					if err := p.Close(2 * time.Second); err != nil {
						t.Fatal(err)
					}
					for range 2 {
						if r := <-rec.closed; r != "client_close" {
							t.Fatalf("close reason %q", r)
						}
					}
				})
			}
		}
	}
}

// TestMQTTRefusals: Kefu's refusals arrive as close reasons: a bad token
// in CONNACK, another device's topic in SUBACK (MQTT 5: 0x87; 3.1.1: 0x80).
func TestMQTTRefusals(t *testing.T) {
	srv := testserver.Start(t)
	for _, tc := range []struct {
		v               byte
		connack, suback byte
	}{{MQTT311, 0x04, 0x80}, {MQTT5, 0x86, 0x87}} {
		rec := newMQTTRecorder()
		p, err := New(Options{Addr: srv.Addr(), Transport: MQTT, Loops: 1, Handler: rec})
		if err != nil {
			t.Fatal(err)
		}
		bad := &Conn{MQTT: deviceConnect("d1", "x", tc.v)}
		bad.MQTT.Password = "1.bad"
		if err := p.Dial(context.Background(), bad); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-rec.closed:
			if want := HexReason("connack_", tc.connack); r != want {
				t.Fatalf("v%d: reason %q, want %q", tc.v, r, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("not refused")
		}
		c := &Conn{MQTT: deviceConnect("d1", "y", tc.v)}
		if err := p.Dial(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		waitReady(t, rec.recorder, 1)
		c.Loop().Exec(func() { c.Subscribe("kefu/demo/d2/t", 1, 9) })
		if a := waitAck(t, rec.acks); a.a.Type != packets.Suback || a.a.Reason != tc.suback || !a.a.Refused() || a.a.Cookie != 9 {
			t.Fatalf("v%d: SUBACK %+v", tc.v, a)
		}
		p.Close(time.Second)
	}
}

// TestMQTTKeepalive: an idle connection pings within its keep alive and
// the PINGRESPs keep its own idle timeout from firing.
func TestMQTTKeepalive(t *testing.T) {
	for name, addr := range brokers(t) {
		rec := newMQTTRecorder()
		p, err := New(Options{Addr: addr, Transport: MQTT, Loops: 1, Handler: rec,
			Heartbeat: 100 * time.Millisecond, IdleTimeout: 400 * time.Millisecond, Tick: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c := &Conn{MQTT: deviceConnect("ka", "a", MQTT5)}
		if err := p.Dial(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		waitReady(t, rec.recorder, 1)
		select {
		case r := <-rec.closed:
			t.Fatalf("%s: idle connection closed: %s", name, r)
		case <-time.After(1500 * time.Millisecond):
		}
		p.Close(time.Second)
	}
}

// TestMQTTSlots: packet identifiers are unique among those in flight,
// never 0, found again by lookup, wrap around, and respect the quota.
func TestMQTTSlots(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, quota := range []int{1, 3, 64, 1000, 65535} {
		m := mqttState{quota: quota}
		live := map[uint16]uint64{}
		var order []uint16 // live ids, released in random order
		var cookie uint64
		for step := range 30_000 {
			if len(order) > 0 && (r.IntN(2) == 0 || len(order) == quota) {
				i := r.IntN(len(order))
				id := order[i]
				order[i] = order[len(order)-1]
				order = order[:len(order)-1]
				if s := m.lookup(id); s == nil || s.cookie != live[id] {
					t.Fatalf("quota %d step %d: id %d lost", quota, step, id)
				}
				m.release(id)
				delete(live, id)
			}
			if len(live) == quota {
				if _, ok := m.take(slotPub, 0); ok {
					t.Fatalf("quota %d: took beyond the quota", quota)
				}
				continue
			}
			cookie++
			id, ok := m.take(slotPub, cookie)
			if !ok || id == 0 {
				t.Fatalf("quota %d step %d: take %d %v with %d in flight", quota, step, id, ok, len(live))
			}
			if _, dup := live[id]; dup {
				t.Fatalf("quota %d: id %d given twice", quota, id)
			}
			live[id] = cookie
			order = append(order, id)
			if m.used != len(live) {
				t.Fatalf("used %d, want %d", m.used, len(live))
			}
		}
		if m.lookup(0) != nil || m.lastID == 0 {
			t.Fatal("id 0")
		}
	}
	// Fill every identifier: the table grows to 65,536 slots.
	m := mqttState{quota: defaultRecv}
	for range defaultRecv {
		if _, ok := m.take(slotSub, 0); !ok {
			t.Fatal("could not take all 65,535 identifiers")
		}
	}
	if len(m.slots) != maxSlots || m.used != defaultRecv {
		t.Fatalf("slots %d used %d", len(m.slots), m.used)
	}
}

// TestPublishAllocs: publishing and answering deliveries do not allocate.
func TestPublishAllocs(t *testing.T) {
	p, err := New(Options{Addr: "127.0.0.1:1", Transport: MQTT, Loops: 1, Handler: newMQTTRecorder()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(time.Second)
	l := p.Loops()[0]
	c := &Conn{pool: p, loop: l, ready: true, mq: mqttState{version: MQTT5, quota: 64}}
	l.cur = c // writes go to l.out, no socket needed
	payload := make([]byte, 100)
	rel := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel}, PacketID: 7}
	n := testing.AllocsPerRun(1000, func() {
		l.out = l.out[:0]
		if !c.Publish("kefu/demo/dev-1/t", 1, false, payload, 1) {
			t.Fatal("refused")
		}
		c.mq.release(c.mq.lastID)
		c.onMQTT(rel)
	})
	if n != 0 {
		t.Fatalf("%v allocations per publish", n)
	}
}

// BenchmarkPublish: encoding one QoS 1 PUBLISH of 100 bytes and decoding
// its PUBACK, without a socket.
func BenchmarkPublish(b *testing.B) {
	var events bytes.Buffer
	p, err := New(Options{Addr: "127.0.0.1:1", Transport: MQTT, Loops: 1, Handler: nopMQTT{transcript{&events}}})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(time.Second)
	l := p.Loops()[0]
	c := &Conn{pool: p, loop: l, ready: true, state: stReady, mq: mqttState{version: MQTT311, quota: 64}}
	l.cur = c
	payload := make([]byte, 100)
	ack := []byte{packets.Puback << 4, 2, 0, 0}
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		l.out = l.out[:0]
		c.Publish("kefu/demo/dev-1/t", 1, false, payload, 1)
		ack[2], ack[3] = byte(c.mq.lastID>>8), byte(c.mq.lastID)
		c.consumeMQTT(ack)
	}
}

// nopMQTT drops acknowledgements (benchmarks).
type nopMQTT struct{ transcript }

func (nopMQTT) Acked(*Conn, Ack) {}

// TestMQTTIdleTimeout: a server that accepts the CONNECT and then answers
// nothing gets the client's pings, and the connection is closed as idle
// once a ping has gone unanswered.
func TestMQTTIdleTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pings := make(chan int, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, 256)
		n, _ := nc.Read(buf) // the CONNECT
		if n == 0 {
			return
		}
		_, _ = nc.Write([]byte{packets.Connack << 4, 2, 0, 0})
		var all []byte
		for {
			n, err := nc.Read(buf)
			all = append(all, buf[:n]...)
			if err != nil {
				pings <- bytes.Count(all, []byte{packets.Pingreq << 4, 0})
				return
			}
		}
	}()
	rec := newMQTTRecorder()
	p, err := New(Options{Addr: ln.Addr().String(), Transport: MQTT, Loops: 1, Handler: rec,
		Heartbeat: 100 * time.Millisecond, IdleTimeout: 400 * time.Millisecond, Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(time.Second)
	if err := p.Dial(context.Background(), &Conn{MQTT: MQTTConnect{ClientID: "idle"}}); err != nil {
		t.Fatal(err)
	}
	waitReady(t, rec.recorder, 1)
	select {
	case r := <-rec.closed:
		if r != "idle_timeout" {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("not closed")
	}
	if n := <-pings; n < 1 {
		t.Fatalf("%d pings before the idle close", n)
	}
}
