package engine_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/mochi-mqtt/server/v2/packets"
)

// MQTT sessions and retained messages across server restarts on the same
// data directory: the broker's PebbleStore (engine/mqtt) in the server's
// Pebble database.

// waitOffline waits until n persistent sessions are without a connection
// (the broker has seen the DISCONNECT and saved them).
func waitOffline(t *testing.T, s *testserver.Server, n int) {
	t.Helper()
	waitMetric(t, s, "kefu_mqtt_sessions_offline", float64(n))
}

// dialV3Persistent connects a 3.1.1 client with clean session 0.
func dialV3Persistent(t *testing.T, s *testserver.Server, suffix string) *v3Client {
	t.Helper()
	user := testserver.Site + "/" + dev1
	c, rc, err := dialV3(t, s, false, user+"/"+suffix, user, devicePass(dev1),
		func(o *pahov3.ClientOptions) { o.SetCleanSession(false) })
	if err != nil {
		t.Fatalf("connect %s: code %#x, %v", suffix, rc, err)
	}
	return c
}

// TestMQTTRestartQueuedAndRetained: a 3.1.1 subscriber with clean
// session 0 goes away; QoS 1 messages and a retained message are
// published; the server restarts on the same directory; the subscriber
// comes back and receives every queued message once, in order; a new
// subscriber gets the retained message. After one more restart nothing is
// delivered again.
func TestMQTTRestartQueuedAndRetained(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	sub := dialV3Persistent(t, s, "keeper")
	if code := sub.sub(t, root1+"q/#", 1); code != 1 {
		t.Fatalf("SUBACK %#x", code)
	}
	sub.close()
	waitOffline(t, s, 1)

	pub := connectDevice(t, s, v3TCP, dev1, "pub")
	const n = 20
	for i := range n {
		pub.pub(t, root1+"q/x", fmt.Sprintf("m%02d", i), 1, false)
	}
	pub.pub(t, root1+"state", "on", 1, true)
	s.Stop()

	s2 := testserver.StartAt(t, dir)
	if r, n := s2.Broker.Retained(), s2.Broker.Sessions(); r != 1 || n != 1 {
		t.Fatalf("%d retained messages, %d sessions after restart", r, n)
	}
	sub2 := dialV3Persistent(t, s2, "keeper")
	for i := range n {
		want := fmt.Sprintf("m%02d", i)
		if m := sub2.recv(t); m.payload != want || m.topic != root1+"q/x" || m.qos != 1 {
			t.Fatalf("message %d: %+v, want %s", i, m, want)
		}
	}
	sub2.quiet(t, 200*time.Millisecond)

	fresh := connectDevice(t, s2, v5TCP, dev1, "fresh")
	fresh.sub(t, root1+"state", 1)
	if m := fresh.recv(t); m.payload != "on" || !m.retain {
		t.Fatalf("retained after restart: %+v", m)
	}

	// Everything was acknowledged: a second restart brings nothing back.
	sub2.close()
	waitOffline(t, s2, 1)
	s2.Stop()
	s3 := testserver.StartAt(t, dir)
	if n := s3.Broker.Sessions(); n != 1 {
		t.Fatalf("%d sessions after the second restart", n)
	}
	dialV3Persistent(t, s3, "keeper").quiet(t, 200*time.Millisecond)
}

// TestMQTTRestartSessionExpiry: an MQTT 5 session whose expiry interval
// passes while the server is down is gone after the restart; one with a
// longer interval is resumed.
func TestMQTTRestartSessionExpiry(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	connect := func(s *testserver.Server, suffix string, expiry uint32) (*v5Client, bool) {
		t.Helper()
		user := testserver.Site + "/" + dev1
		c, ack, err := dialV5(t, s, false, &paho.Connect{ClientID: user + "/" + suffix, KeepAlive: 30,
			Username: user, UsernameFlag: true, Password: []byte(devicePass(dev1)), PasswordFlag: true,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}})
		if err != nil {
			t.Fatalf("connect %s: %+v, %v", suffix, ack, err)
		}
		return c, ack.SessionPresent
	}
	const short = 1 // second
	for _, tc := range []struct {
		suffix string
		expiry uint32
	}{{"short", short}, {"long", 3600}} {
		c, _ := connect(s, tc.suffix, tc.expiry)
		c.sub(t, root1+tc.suffix, 1)
		c.close()
	}
	waitOffline(t, s, 2)
	gone := time.Now()
	s.Stop()
	time.Sleep(time.Until(gone.Add(short*time.Second + 100*time.Millisecond)))

	s2 := testserver.StartAt(t, dir)
	if got := s2.Broker.Sessions(); got != 1 {
		t.Fatalf("%d sessions restored, want only the long one", got)
	}
	if _, present := connect(s2, "short", 60); present {
		t.Fatal("the expired session was resumed")
	}
	if _, present := connect(s2, "long", 3600); !present {
		t.Fatal("the long session was lost")
	}
}

// TestMQTTRestartQoS2Inbound: the receiver state of an inbound QoS 2
// PUBLISH (PUBREC sent, PUBREL due) survives a restart: the client's
// resend after the restart is acknowledged and not delivered again, and
// its PUBREL completes the exchange.
func TestMQTTRestartQoS2Inbound(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	topic := root1 + "exactly-once"
	connect := func(s *testserver.Server) (*rawMQTT, bool) {
		t.Helper()
		r := dialRawMQTT(t, s.Addr(), 5)
		pk := connectPacket(5, dev1, "qos2", 30)
		pk.Connect.Clean = false
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 3600, true
		r.send(t, pk)
		ack := r.expect(t, packets.Connack)
		if ack.ReasonCode != 0 {
			t.Fatalf("CONNACK %#x", ack.ReasonCode)
		}
		return r, ack.SessionPresent
	}
	publish := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 2}, TopicName: topic,
		PacketID: 7, Payload: []byte("once")}

	watch := connectDevice(t, s, v5TCP, dev1, "watch")
	watch.sub(t, topic, 2)
	r, _ := connect(s)
	r.send(t, publish)
	if rec := r.expect(t, packets.Pubrec); rec.PacketID != 7 || rec.ReasonCode != 0 {
		t.Fatalf("PUBREC %+v", rec)
	}
	if m := watch.recv(t); m.payload != "once" {
		t.Fatalf("delivered %+v", m)
	}
	s.Stop() // before the PUBREL
	if d := r.expect(t, packets.Disconnect); d.ReasonCode != 0x8B {
		t.Fatalf("DISCONNECT %#x, want 0x8B", d.ReasonCode)
	}

	s2 := testserver.StartAt(t, dir)
	watch2 := connectDevice(t, s2, v5TCP, dev1, "watch")
	watch2.sub(t, topic, 2)
	r2, present := connect(s2)
	if !present {
		t.Fatal("session lost")
	}
	publish.FixedHeader.Dup = true // [MQTT-4.4.0-1] the client resends
	r2.send(t, publish)
	if rec := r2.expect(t, packets.Pubrec); rec.PacketID != 7 || rec.ReasonCode != 0 {
		t.Fatalf("PUBREC of the resend %+v", rec)
	}
	watch2.quiet(t, 200*time.Millisecond)
	pubrel := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrel, Qos: 1}, PacketID: 7}
	r2.send(t, pubrel)
	if comp := r2.expect(t, packets.Pubcomp); comp.PacketID != 7 || comp.ReasonCode != 0 {
		t.Fatalf("PUBCOMP %+v, want reason 0 (the packet id was remembered)", comp)
	}
	r2.send(t, pubrel)
	if comp := r2.expect(t, packets.Pubcomp); comp.ReasonCode != 0x92 {
		t.Fatalf("second PUBCOMP %+v, want 0x92 (exchange over)", comp)
	}
}
