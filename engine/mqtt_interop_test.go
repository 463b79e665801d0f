package engine_test

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mqttUpgradeReq opens MQTT over WebSocket on /mqtt (the key matches the
// accept value dialRawWS checks).
const mqttUpgradeReq = "GET /mqtt HTTP/1.1\r\nHost: kefu\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

// expectMQTT reads WebSocket frames until they hold a whole MQTT packet
// and returns its type; the server sends each packet batch in one binary
// message.
func expectMQTT(t *testing.T, r *rawWS, typ byte) packets.Packet {
	t.Helper()
	h, p := r.readFrame(t)
	if h.OpCode != ws.OpBinary || !h.Fin {
		t.Fatalf("frame %+v, want one binary frame", h)
	}
	pk, n, err := codec.Decode(p, 5, 0)
	if err != nil || n != len(p) {
		t.Fatalf("message %x: %d bytes of a packet, %v", p, n, err)
	}
	if pk.FixedHeader.Type != typ {
		t.Fatalf("got %s, want %s", packets.PacketNames[pk.FixedHeader.Type], packets.PacketNames[typ])
	}
	codec.Detach(&pk)
	return pk
}

// TestMQTTOverWebSocketFraming: packets split over WebSocket messages,
// several packets in one message, a fragmented message, and a text
// message (refused with close 1003).
func TestMQTTOverWebSocketFraming(t *testing.T) {
	s := testserver.Start(t)
	r := dialRawWS(t, s.Addr(), []byte(mqttUpgradeReq))
	defer r.c.Close()

	connect := mustAppend(t, connectPacket(5, dev1, "rawws", 30), 5)
	r.write(t, clientFrame(ws.OpBinary, true, connect[:3]))
	r.write(t, clientFrame(ws.OpBinary, true, connect[3:]))
	if ack := expectMQTT(t, r, packets.Connack); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", ack.ReasonCode)
	}

	sub := mustAppend(t, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 7,
		Filters: packets.Subscriptions{{Filter: root1 + "in", Qos: 1}}}, 5)
	ping := []byte{0xC0, 0x00}
	first := append(append(append([]byte{}, ping...), ping...), sub[:1]...)
	r.write(t, clientFrame(ws.OpBinary, true, first))
	r.write(t, clientFrame(ws.OpBinary, true, sub[1:4]))
	r.write(t, clientFrame(ws.OpBinary, true, sub[4:]))
	expectMQTT(t, r, packets.Pingresp)
	expectMQTT(t, r, packets.Pingresp)
	if ack := expectMQTT(t, r, packets.Suback); ack.PacketID != 7 || len(ack.ReasonCodes) != 1 || ack.ReasonCodes[0] != 1 {
		t.Fatalf("SUBACK %+v", ack)
	}

	// A fragmented message: PUBLISH QoS 1 to ourselves, across two frames.
	pub := mustAppend(t, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 8,
		TopicName: root1 + "in", Payload: []byte("over websocket")}, 5)
	r.write(t, clientFrame(ws.OpBinary, false, pub[:6]))
	r.write(t, clientFrame(ws.OpContinuation, true, pub[6:]))
	got := map[byte]packets.Packet{}
	for len(got) < 2 { // PUBACK and the delivery, in one message or two
		h, p := r.readFrame(t)
		if h.OpCode != ws.OpBinary {
			t.Fatalf("frame %+v", h)
		}
		for len(p) > 0 {
			pk, n, err := codec.Decode(p, 5, 0)
			if err != nil || n == 0 {
				t.Fatalf("message %x: %v", p, err)
			}
			codec.Detach(&pk)
			got[pk.FixedHeader.Type] = pk
			p = p[n:]
		}
	}
	if m := got[packets.Publish]; string(m.Payload) != "over websocket" || got[packets.Puback].PacketID != 8 {
		t.Fatalf("got %+v", got)
	}

	r.write(t, clientFrame(ws.OpText, true, []byte("{}")))
	if code := r.expectClose(t); code != 1003 {
		t.Fatalf("close %d, want 1003", code)
	}
	waitMetric(t, s, `kefu_decode_errors_total{protocol="mqtt",reason="text_frame"}`, 1)

	// /mqtt speaks MQTT even when the client offers no subprotocol.
	plain := dialRawWS(t, s.Addr(), []byte(strings.Replace(mqttUpgradeReq, "Sec-WebSocket-Protocol: mqtt\r\n", "", 1)))
	defer plain.c.Close()
	plain.write(t, clientFrame(ws.OpBinary, true, mustAppend(t, connectPacket(5, dev1, "plain", 30), 5)))
	expectMQTT(t, plain, packets.Connack)
	if n := metric(t, s, `kefu_connections{protocol="ws"}`); n != 1 {
		t.Fatalf(`kefu_connections{protocol="ws"} = %v, want 1`, n)
	}
}

// mosquittoTools finds Debian's mosquitto clients. Their absence fails the
// test: the interoperability check must not silently go away.
func mosquittoTools(t *testing.T) (pub, sub string) {
	t.Helper()
	var err error
	if pub, err = exec.LookPath("mosquitto_pub"); err == nil {
		sub, err = exec.LookPath("mosquitto_sub")
	}
	if err != nil {
		t.Fatalf("mosquitto_pub/mosquitto_sub not found (%v): install Debian's mosquitto-clients "+
			"(apt-get install mosquitto-clients; `make deps` does it as root). The MQTT interoperability test needs them.", err)
	}
	return pub, sub
}

// TestMQTTMosquittoInterop: mosquitto_pub and mosquitto_sub (3.1.1 and 5)
// against the broker, with a paho client on the other side.
func TestMQTTMosquittoInterop(t *testing.T) {
	pubBin, subBin := mosquittoTools(t)
	s := testserver.Start(t)
	host, port, _ := net.SplitHostPort(s.Addr())
	cred := func(id string) []string {
		return []string{"-h", host, "-p", port, "-i", id, "-u", "demo/dev-1", "-P", devicePass(dev1)}
	}
	run := func(bin string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
		defer cancel()
		var out bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	mpub := func(args ...string) {
		t.Helper()
		if out, err := run(pubBin, args...); err != nil || out != "" {
			t.Fatalf("mosquitto_pub %v: %v %s", args, err, out)
		}
	}

	mpub(append(cred("demo/dev-1/mp0"), "-V", "5", "-r", "-q", "1", "-t", root1+"state", "-m", "retained by mosquitto")...)

	paho := connectDevice(t, s, v5TCP, dev1, "paho")
	paho.sub(t, root1+"#", 2)
	if m := paho.recv(t); m.payload != "retained by mosquitto" || !m.retain {
		t.Fatalf("paho got %+v", m)
	}

	type result struct {
		out string
		err error
	}
	subDone := make(chan result, 1)
	go func() {
		out, err := run(subBin, append(cred("demo/dev-1/ms"), "-V", "311", "-q", "2", "-t", root1+"#", "-v", "-C", "4", "-W", "10")...)
		subDone <- result{out, err}
	}()
	waitMetric(t, s, "kefu_mqtt_subscriptions", 2)

	mpub(append(cred("demo/dev-1/mp1"), "-V", "311", "-q", "0", "-t", root1+"a", "-m", "mosquitto 3.1.1 qos0")...)
	mpub(append(cred("demo/dev-1/mp2"), "-V", "5", "-q", "1", "-t", root1+"b", "-m", "mosquitto 5 qos1")...)
	paho.pub(t, root1+"c", "paho 5 qos2", 2, false)
	res := <-subDone
	if res.err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", res.err, res.out)
	}
	want := []string{
		root1 + "state retained by mosquitto",
		root1 + "a mosquitto 3.1.1 qos0",
		root1 + "b mosquitto 5 qos1",
		root1 + "c paho 5 qos2",
	}
	if got := strings.Split(strings.TrimSpace(res.out), "\n"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("mosquitto_sub printed\n%s\nwant\n%s", res.out, strings.Join(want, "\n"))
	}
	for _, w := range want[1:3] {
		if m := paho.recv(t); w != m.topic+" "+m.payload {
			t.Fatalf("paho got %+v, want %q", m, w)
		}
	}

	// Refusals, as mosquitto reports them (its exit status is the code).
	bad := append(cred("demo/dev-1/bad"), "-t", root1+"x", "-m", "x")
	bad[len(bad)-5] = "not-a-token" // the password
	if out, err := run(pubBin, bad...); exitCode(err) != 4 {
		t.Errorf("3.1.1 wrong password: %v %s, want exit status 4", err, out)
	}
	if out, err := run(pubBin, append([]string{"-V", "5"}, bad...)...); exitCode(err) != 0x86 {
		t.Errorf("5 wrong password: %v %s, want exit status 134", err, out)
	}
	if out, _ := run(pubBin, append(cred("demo/dev-1/acl"), "-V", "5", "-q", "1", "-t", root2+"x", "-m", "x")...); !strings.Contains(out, "Not authorized") {
		t.Errorf("5 publish to another device: %q, want a refusal", out)
	}
	if out, _ := run(subBin, append(cred("demo/dev-1/acl"), "-V", "5", "-t", root2+"#", "-W", "2")...); !strings.Contains(out, "denied") {
		t.Errorf("5 subscribe to another device: %q, want a refusal", out)
	}
	if out, _ := run(subBin, append(cred("demo/dev-1/acl"), "-V", "311", "-t", root2+"#", "-W", "2")...); !strings.Contains(out, "denied") {
		t.Errorf("3.1.1 subscribe to another device: %q, want a refusal", out)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}
