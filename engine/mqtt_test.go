package engine_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/kefu-im/kefu/engine"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/mochi-mqtt/server/v2/packets"
)

// The device every test signs in as, and its topic root; a second device
// of the same site for the ACL.
const (
	dev1  = "dev-1"
	dev2  = "dev-2"
	root1 = "kefu/demo/dev-1/"
	root2 = "kefu/demo/dev-2/"
)

// TestMQTTConnect: every client kind signs in with a device token; wrong
// credentials, unknown sites and foreign client ids are refused with the
// codes of their protocol version; an mqtt listener takes MQTT only.
func TestMQTTConnect(t *testing.T) {
	s := testserver.Start(t, withMQTTListener(t))
	for _, kind := range mqttKinds {
		t.Run("ok/"+kind, func(t *testing.T) {
			c := connectDevice(t, s, kind, dev1, "ok")
			if g := c.sub(t, root1+"#", 1); g != 1 {
				t.Fatalf("granted %#x", g)
			}
			c.close()
		})
	}
	good := devicePass(dev1)
	refusals := []struct {
		name, id, user, pass string
		v3, v5               byte
	}{
		{"wrong password", "demo/dev-1", "demo/dev-1", "1.AAAA", 0x04, 0x86},
		{"token of another device", "demo/dev-1", "demo/dev-1", devicePass(dev2), 0x04, 0x86},
		{"agent token", "demo/dev-1", "demo/dev-1", testserver.AgentToken(dev1), 0x04, 0x86},
		{"user name without device", "demo", "demo", good, 0x04, 0x86},
		{"unknown site", "other/dev-1", "other/dev-1", good, 0x05, 0x87},
		{"client id of another device", "demo/dev-2", "demo/dev-1", good, 0x05, 0x87},
		{"client id of another site", "shop/dev-1", "demo/dev-1", good, 0x05, 0x87},
	}
	for _, tc := range refusals {
		for _, kind := range mqttKinds {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				overWS := kind == v3WS || kind == v5WS
				if kind == v3TCP || kind == v3WS {
					_, rc, err := dialV3(t, s, overWS, tc.id, tc.user, tc.pass, nil)
					if err == nil || rc != tc.v3 {
						t.Fatalf("return code %#x (%v), want %#x", rc, err, tc.v3)
					}
					return
				}
				_, ack, err := dialV5(t, s, overWS, &paho.Connect{ClientID: tc.id, CleanStart: true, KeepAlive: 30,
					Username: tc.user, UsernameFlag: true, Password: []byte(tc.pass), PasswordFlag: true})
				if err == nil || ack == nil || ack.ReasonCode != tc.v5 {
					t.Fatalf("CONNACK %+v (%v), want %#x", ack, err, tc.v5)
				}
			})
		}
	}
	refused := float64(len(mqttKinds) * len(refusals))
	if n := metric(t, s, "kefu_mqtt_auth_failures_total"); n != refused {
		t.Errorf("kefu_mqtt_auth_failures_total = %v, want %v", n, refused)
	}
	waitMetric(t, s, `kefu_connections_closed_total{reason="auth"}`, refused)

	t.Run("mqtt listener", func(t *testing.T) {
		c, rc, err := dialV3(t, s, false, "demo/dev-1/l", "demo/dev-1", good, func(o *pahov3.ClientOptions) {
			o.Servers = nil
			o.AddBroker("tcp://" + s.GatewayAddr(1).String())
		})
		if err != nil {
			t.Fatalf("connect on the mqtt listener: %#x %v", rc, err)
		}
		waitMetric(t, s, `kefu_connections{protocol="mqtt"}`, 1)
		c.close()
		waitMetric(t, s, `kefu_connections{protocol="mqtt"}`, 0)
		// A WebSocket upgrade is not MQTT: closed without a reply.
		r := dialRawMQTT(t, s.GatewayAddr(1).String(), 4)
		r.write(t, []byte(upgradeReq))
		r.expectEOF(t)
	})
	t.Run("empty client id", func(t *testing.T) {
		c, ack, err := dialV5(t, s, false, &paho.Connect{CleanStart: true, KeepAlive: 30,
			Username: "demo/dev-1", UsernameFlag: true, Password: []byte(good), PasswordFlag: true})
		if err != nil || ack.Properties == nil || ack.Properties.AssignedClientID == "" {
			t.Fatalf("CONNACK %+v, %v: want an assigned client id", ack, err)
		}
		c.close()
	})
}

// TestMQTTPubSub: QoS 0, 1 and 2 from one client of a device to another,
// across protocol versions and transports.
func TestMQTTPubSub(t *testing.T) {
	s := testserver.Start(t)
	pairs := [][2]string{{v3TCP, v3TCP}, {v5TCP, v5WS}, {v3WS, v5TCP}, {v5WS, v3WS}, {v5TCP, v5TCP}}
	for i, p := range pairs {
		t.Run(p[0]+"→"+p[1], func(t *testing.T) {
			sub := connectDevice(t, s, p[1], dev1, fmt.Sprintf("sub%d", i))
			pub := connectDevice(t, s, p[0], dev1, fmt.Sprintf("pub%d", i))
			topic := fmt.Sprintf("%spair%d/data", root1, i)
			if g := sub.sub(t, root1+fmt.Sprintf("pair%d/+", i), 2); g != 2 {
				t.Fatalf("granted %#x", g)
			}
			want := map[string]byte{}
			for qos := byte(0); qos <= 2; qos++ {
				payload := fmt.Sprintf("qos%d from %s", qos, p[0])
				want[payload] = qos
				if rc := pub.pub(t, topic, payload, qos, false); rc != 0 {
					t.Fatalf("publish QoS %d: %#x", qos, rc)
				}
			}
			for range len(want) {
				m := sub.recv(t)
				if q, ok := want[m.payload]; !ok || m.qos != q || m.topic != topic || m.retain {
					t.Fatalf("got %+v", m)
				}
				delete(want, m.payload)
			}
			sub.quiet(t, 100*time.Millisecond)
			pub.close()
			sub.close()
		})
	}
	if n := metric(t, s, `kefu_mqtt_packets_received_total{type="Pubrel"}`); n != 5 {
		t.Errorf("PUBREL received %v, want 5", n)
	}
}

// TestMQTTRetained: a retained message reaches later subscribers, is
// replaced, and deleted by an empty payload.
func TestMQTTRetained(t *testing.T) {
	s := testserver.Start(t)
	pub := connectDevice(t, s, v5TCP, dev1, "pub")
	topic := root1 + "state"
	check := func(kind, want string) {
		t.Helper()
		sub := connectDevice(t, s, kind, dev1, "sub-"+want)
		sub.sub(t, root1+"+", 1)
		if want == "" {
			sub.quiet(t, 200*time.Millisecond)
		} else if m := sub.recv(t); m.payload != want || !m.retain || m.topic != topic {
			t.Fatalf("%s got %+v, want retained %q", kind, m, want)
		}
		sub.close()
	}
	pub.pub(t, topic, "on", 1, true)
	check(v3TCP, "on")
	waitMetric(t, s, "kefu_mqtt_retained_messages", 1)
	pub.pub(t, topic, "off", 2, true)
	check(v5WS, "off")
	pub.pub(t, topic, "", 1, true)
	check(v3WS, "")
	waitMetric(t, s, "kefu_mqtt_retained_messages", 0)
}

// TestMQTTWill: a client that drops its connection has its will
// published; one that says DISCONNECT does not.
func TestMQTTWill(t *testing.T) {
	s := testserver.Start(t)
	watcher := connectDevice(t, s, v5TCP, dev1, "watcher")
	watcher.sub(t, root1+"status", 1)

	v3, _, err := dialV3(t, s, false, "demo/dev-1/w3", "demo/dev-1", devicePass(dev1), func(o *pahov3.ClientOptions) {
		o.SetWill(root1+"status", "v3 offline", 1, false)
	})
	if err != nil {
		t.Fatal(err)
	}
	v3.kill()
	if m := watcher.recv(t); m.payload != "v3 offline" || m.qos != 1 {
		t.Fatalf("got %+v", m)
	}

	will := func(id string) *paho.Connect {
		return &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30,
			Username: "demo/dev-1", UsernameFlag: true, Password: []byte(devicePass(dev1)), PasswordFlag: true,
			WillMessage: &paho.WillMessage{Topic: root1 + "status", Payload: []byte("v5 offline"), QoS: 1}}
	}
	v5, _, err := dialV5(t, s, true, will("demo/dev-1/w5"))
	if err != nil {
		t.Fatal(err)
	}
	v5.kill()
	if m := watcher.recv(t); m.payload != "v5 offline" {
		t.Fatalf("got %+v", m)
	}

	polite, _, err := dialV5(t, s, false, will("demo/dev-1/polite"))
	if err != nil {
		t.Fatal(err)
	}
	polite.close()
	watcher.quiet(t, 300*time.Millisecond)

	// A will outside the device's subtree is refused at CONNECT.
	_, rc, err := dialV3(t, s, false, "demo/dev-1/bad-will", "demo/dev-1", devicePass(dev1), func(o *pahov3.ClientOptions) {
		o.SetWill(root2+"status", "x", 0, false)
	})
	if err == nil || rc != 0x05 {
		t.Fatalf("will on another device's topic: %#x %v", rc, err)
	}
}

// TestMQTTTakeover: a second connection with the same client id closes the
// first (MQTT 5: DISCONNECT 0x8E).
func TestMQTTTakeover(t *testing.T) {
	s := testserver.Start(t)
	first := connectDevice(t, s, v5TCP, dev1, "same").(*v5Client)
	second := connectDevice(t, s, v5WS, dev1, "same")
	if r := first.serverReason(t); r != 0x8E {
		t.Fatalf("DISCONNECT %#x, want 0x8E", r)
	}
	waitGone(t, first)
	second.sub(t, root1+"#", 0) // the new one works

	old := connectDevice(t, s, v3TCP, dev1, "same3")
	connectDevice(t, s, v3WS, dev1, "same3")
	waitGone(t, old)
	waitMetric(t, s, `kefu_connections_closed_total{reason="takeover"}`, 2)
	if n := metric(t, s, `kefu_mqtt_disconnects_total{reason="session_taken_over"}`); n != 2 {
		t.Fatalf("session_taken_over = %v, want 2", n)
	}
}

// TestMQTTACL: a device subscribes and publishes under its own root only:
// SUBACK 0x87 (3.1.1: 0x80), PUBACK 0x87 (3.1.1: dropped and counted).
func TestMQTTACL(t *testing.T) {
	s := testserver.Start(t)
	other := connectDevice(t, s, v5TCP, dev2, "other")
	other.sub(t, root2+"#", 1)
	for _, kind := range mqttKinds {
		t.Run(kind, func(t *testing.T) {
			c := connectDevice(t, s, kind, dev1, "acl")
			denied := byte(0x87)
			if kind == v3TCP || kind == v3WS {
				denied = 0x80
			}
			for _, f := range []string{root2 + "#", "kefu/demo/+/up", "#", "kefu/demo/dev-1", "$share/g/" + root2 + "x"} {
				if g := c.sub(t, f, 1); g != denied {
					t.Errorf("subscribe %q: %#x, want %#x", f, g, denied)
				}
			}
			for _, f := range []string{root1 + "+/state", root1 + "#", "$share/g/" + root1 + "x"} {
				if g := c.sub(t, f, 1); g != 1 {
					t.Errorf("subscribe %q: %#x, want 1", f, g)
				}
			}
			want := byte(0x87)
			if denied == 0x80 {
				want = 0 // 3.1.1 has no refusal in PUBACK: dropped
			}
			if rc := c.pub(t, root2+"down", "intrusion", 1, false); rc != want {
				t.Errorf("publish to another device: %#x, want %#x", rc, want)
			}
			c.close()
		})
	}
	other.quiet(t, 200*time.Millisecond)
	if n := metric(t, s, `kefu_mqtt_acl_denials_total{action="publish"}`); n != 4 {
		t.Errorf("publish denials %v, want 4", n)
	}
	if n := metric(t, s, `kefu_mqtt_acl_denials_total{action="subscribe"}`); n != 20 {
		t.Errorf("subscribe denials %v, want 20", n)
	}
}

// TestMQTTKeepAlive: a client silent for 1.5 × its keep alive is closed
// (MQTT 5: DISCONNECT 0x8D); one that pings stays.
func TestMQTTKeepAlive(t *testing.T) {
	s := testserver.Start(t)
	for _, v := range []byte{4, 5} {
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			r := dialRawMQTT(t, s.Addr(), v)
			r.connect(t, dev1, fmt.Sprintf("silent%d", v), 1)
			start := time.Now()
			if v == 5 {
				if d := r.expect(t, packets.Disconnect); d.ReasonCode != 0x8D {
					t.Fatalf("DISCONNECT %#x, want 0x8D", d.ReasonCode)
				}
			}
			r.expectEOF(t)
			if d := time.Since(start); d < 1400*time.Millisecond || d > 3*time.Second {
				t.Fatalf("closed after %v, want about 1.5 s", d)
			}
		})
	}
	alive, _, err := dialV5(t, s, false, &paho.Connect{ClientID: "demo/dev-1/alive", CleanStart: true, KeepAlive: 1,
		Username: "demo/dev-1", UsernameFlag: true, Password: []byte(devicePass(dev1)), PasswordFlag: true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	alive.sub(t, root1+"x", 0)
	if n := metric(t, s, `kefu_connections_closed_total{reason="idle_timeout"}`); n != 2 {
		t.Fatalf("idle_timeout closes %v, want 2", n)
	}
	if n := metric(t, s, `kefu_mqtt_disconnects_total{reason="keep_alive_timeout"}`); n != 2 {
		t.Fatalf("keep_alive_timeout %v, want 2", n)
	}
}

// TestMQTTHandshakeTimeout: a connection that sends no CONNECT in time is
// closed, sniffed or not.
func TestMQTTHandshakeTimeout(t *testing.T) {
	s := testserver.Start(t, fastTimeouts)
	r := dialRawMQTT(t, s.Addr(), 4)
	r.write(t, []byte{0x10}) // sniffed as MQTT, CONNECT never completed
	r.expectEOF(t)
	waitMetric(t, s, `kefu_connections_closed_total{reason="handshake_timeout"}`, 1)
}

// TestMQTTDrain: on shutdown MQTT 5 clients get DISCONNECT 0x8B, 3.1.1
// clients are closed, and the drain finishes.
func TestMQTTDrain(t *testing.T) {
	s := testserver.Start(t)
	tcp := connectDevice(t, s, v5TCP, dev1, "d1").(*v5Client)
	ws := connectDevice(t, s, v5WS, dev1, "d2").(*v5Client)
	v3 := connectDevice(t, s, v3TCP, dev1, "d3")
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	for _, c := range []*v5Client{tcp, ws} {
		if r := c.serverReason(t); r != 0x8B {
			t.Fatalf("DISCONNECT %#x, want 0x8B", r)
		}
	}
	waitGone(t, v3)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("drain did not finish")
	}
}

// TestMQTTMalformed: bad packets close the client that sent them, with the
// right reason and a counted metric; the others carry on.
func TestMQTTMalformed(t *testing.T) {
	s := testserver.Start(t, withMQTTListener(t))
	sub := connectDevice(t, s, v5TCP, dev1, "calm-sub")
	pub := connectDevice(t, s, v3TCP, dev1, "calm-pub")
	sub.sub(t, root1+"calm", 1)

	cases := []struct {
		name   string
		v      byte
		bytes  []byte
		reason string // kefu_decode_errors_total label, "" for none
		code   byte   // MQTT 5 DISCONNECT reason, 0 for none
	}{
		{"QoS 3", 5, []byte{0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}, "bad_qos", 0x81},
		{"wildcard in topic name", 5, []byte{0x30, 0x04, 0x00, 0x01, '#', 0x00}, "topic_invalid", 0x90},
		{"reserved flags", 4, []byte{0xC2, 0x00}, "bad_flags", 0},
		{"remaining length too long", 5, []byte{0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}, "bad_length", 0x81},
		{"second CONNECT", 5, nil, "", 0x82},
		{"too large", 5, []byte{0x30, 0x80, 0x80, 0x80, 0x01}, "too_large", 0x95},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRawMQTT(t, s.Addr(), tc.v)
			r.connect(t, dev1, fmt.Sprintf("bad%d", i), 30)
			b := tc.bytes
			if b == nil {
				b = mustAppend(t, connectPacket(tc.v, dev1, "again", 30), tc.v)
			}
			r.write(t, b)
			if tc.code != 0 {
				if d := r.expect(t, packets.Disconnect); d.ReasonCode != tc.code {
					t.Fatalf("DISCONNECT %#x, want %#x", d.ReasonCode, tc.code)
				}
			}
			r.expectEOF(t)
			if tc.reason != "" {
				waitMetric(t, s, `kefu_decode_errors_total{protocol="mqtt",reason="`+tc.reason+`"}`, 1)
			}
			pub.pub(t, root1+"calm", tc.name, 1, false)
			if m := sub.recv(t); m.payload != tc.name {
				t.Fatalf("bystander got %+v", m)
			}
		})
	}
	t.Run("not MQTT after 0x10", func(t *testing.T) {
		r := dialRawMQTT(t, s.Addr(), 4)
		b := mustAppend(t, connectPacket(4, dev1, "http", 30), 4)
		r.write(t, bytes.Replace(b, []byte("\x00\x04MQTT"), []byte("\x00\x04HTTP"), 1))
		r.expectEOF(t)
		waitMetric(t, s, `kefu_decode_errors_total{protocol="mqtt",reason="bad_protocol_name"}`, 1)
	})
	t.Run("packet before CONNECT", func(t *testing.T) {
		r := dialRawMQTT(t, s.GatewayAddr(1).String(), 4)
		r.write(t, []byte{0xC0, 0x00}) // PINGREQ
		r.expectEOF(t)
	})
	waitMetric(t, s, `kefu_connections_closed_total{reason="protocol_error"}`, float64(len(cases)+2))
	pub.pub(t, root1+"calm", "still here", 2, false)
	if m := sub.recv(t); m.payload != "still here" {
		t.Fatalf("got %+v", m)
	}
}

// withMQTTListener adds an mqtt listener (GatewayAddr(1)) on a free port:
// two listeners on "127.0.0.1:0" could not be told apart.
func withMQTTListener(t *testing.T) testserver.Option {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return func(c *server.Config) {
		c.Gateway.Listeners = append(c.Gateway.Listeners, engine.Listener{Addr: addr, Protocol: engine.ProtoMQTT})
	}
}

// TestMQTTSlowConsumer: a subscriber that stops reading is closed once its
// backlog passes the limits (MQTT 5: DISCONNECT 0x97); the publisher and
// others carry on.
func TestMQTTSlowConsumer(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) {
		c.Gateway.MaxFrameBytes = 16 << 10
		c.Gateway.MaxBodyBytes = 8 << 10
		c.Gateway.OutboundLimit = 64 << 10
	})
	slow := dialRawMQTT(t, s.Addr(), 5)
	if tc, ok := slow.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	slow.connect(t, dev1, "slow", 60)
	slow.send(t, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: root1 + "flood", Qos: 0}}})
	slow.expect(t, packets.Suback)
	// From here on the slow subscriber reads nothing.
	pub := connectDevice(t, s, v5TCP, dev1, "flooder")
	watcher := connectDevice(t, s, v3TCP, dev1, "watcher")
	watcher.sub(t, root1+"after", 1)
	body := string(make([]byte, 8<<10))
	for i := 0; metric(t, s, "kefu_slow_consumer_closes_total") == 0; i++ {
		for range 32 {
			pub.pub(t, root1+"flood", body, 0, false)
		}
		if i > 500 {
			t.Fatal("no slow-consumer close after 128 MiB")
		}
	}
	waitMetric(t, s, `kefu_connections_closed_total{reason="slow_consumer"}`, 1)
	pub.pub(t, root1+"after", "the publisher is unaffected", 1, false)
	if m := watcher.recv(t); m.payload != "the publisher is unaffected" {
		t.Fatalf("got %+v", m)
	}
}

// TestMQTTDisabled: with mqtt.enabled false, an MQTT CONNECT is an unknown
// protocol and /mqtt is not found.
func TestMQTTDisabled(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) { c.MQTT.Enabled = false })
	if s.Broker != nil {
		t.Fatal("a broker was built")
	}
	r := dialRawMQTT(t, s.Addr(), 4)
	r.send(t, connectPacket(4, dev1, "off", 30))
	r.expectEOF(t)
	waitMetric(t, s, `kefu_connections_closed_total{reason="unknown_protocol"}`, 1)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte(mqttUpgradeReq))
	buf := make([]byte, 64)
	_ = c.SetReadDeadline(time.Now().Add(mqttWait))
	n, _ := c.Read(buf)
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 404")) {
		t.Fatalf("/mqtt answered %q, want 404", buf[:n])
	}
}
