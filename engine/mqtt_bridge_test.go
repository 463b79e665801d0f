package engine_test

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
	kefu "github.com/kefu-im/kefu/sdk/go"
	"github.com/mochi-mqtt/server/v2/packets"
	gproto "google.golang.org/protobuf/proto"
)

// The conversation bridge (docs/protocol-mqtt.md): real MQTT devices
// (paho 3.1.1, paho.golang 5, a raw client, mosquitto) and an agent on
// WebSocket (sdk/go) in one conversation.

// dialAgent connects an agent console over WebSocket.
func dialAgent(t *testing.T, s *testserver.Server, name string) *kefu.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), mqttWait)
	defer cancel()
	a, err := kefu.Dial(ctx, kefu.Options{Addr: s.WSURL(), Site: testserver.Site, User: name,
		Role: proto.Role_ROLE_AGENT, Token: testserver.AgentToken(name)})
	if err != nil {
		t.Fatalf("agent %s: %v", name, err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func agentJoin(t *testing.T, a *kefu.Client, conv string, cursor uint64) *kefu.Page {
	t.Helper()
	p, err := a.Join(t.Context(), conv, cursor)
	if err != nil {
		t.Fatalf("join %s: %v", conv, err)
	}
	return p
}

func agentSay(t *testing.T, a *kefu.Client, conv, body string) uint64 {
	t.Helper()
	ack, err := a.Send(t.Context(), conv, "", body)
	if err != nil {
		t.Fatalf("send %q: %v", body, err)
	}
	return ack.Seq
}

// agentNext returns the next pushed envelope of type typ, skipping the
// rest (system messages, notices).
func agentNext(t *testing.T, a *kefu.Client, typ proto.Type) *proto.Envelope {
	t.Helper()
	deadline := time.After(mqttWait)
	for {
		select {
		case e, ok := <-a.Messages():
			if !ok {
				t.Fatalf("agent connection ended: %v", a.Err())
			}
			if e.Type == typ && e.Sender != "s:system" {
				return e
			}
		case <-deadline:
			t.Fatalf("agent: no %v", typ)
		}
	}
}

// downReader reads what a device gets on its topics as envelopes, and
// checks that down brings every seq once, in order.
type downReader struct {
	c    mqttClient
	last uint64
}

// next returns the next envelope on topic (root1+"down" or
// root1+"events"); system MESSAGEs on down (routing notices) are checked
// for order and skipped, and so are system EVENTs on events.
func (r *downReader) next(t *testing.T, topic string) *proto.Envelope {
	t.Helper()
	for {
		m := r.c.recv(t)
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON([]byte(m.payload), env); err != nil {
			t.Fatalf("%s: %q: %v", m.topic, m.payload, err)
		}
		if m.topic == root1+"down" {
			if env.Type != proto.Type_TYPE_MESSAGE || env.Seq <= r.last || m.qos != 1 {
				t.Fatalf("down: %v (qos %d) after seq %d", env, m.qos, r.last)
			}
			r.last = env.Seq
			if env.Sender == "s:system" {
				continue
			}
		}
		if m.topic == topic && !(env.Type == proto.Type_TYPE_EVENT && env.Sender == "s:system") { // queue positions come and go
			return env
		}
	}
}

// quiet asserts that nothing but system notices (routing) arrives for d.
func (r *downReader) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	var ch <-chan mqttMsg
	switch c := r.c.(type) {
	case *v3Client:
		ch = c.msgs
	case *v5Client:
		ch = c.msgs
	default:
		t.Fatalf("quiet on %T", r.c)
	}
	deadline := time.After(d)
	for {
		select {
		case m := <-ch:
			var env proto.Envelope
			if err := proto.UnmarshalJSON([]byte(m.payload), &env); err != nil || env.Sender != "s:system" || env.Seq != 0 && env.Seq <= r.last {
				t.Fatalf("unexpected %s %q", m.topic, m.payload)
			}
			r.last = max(r.last, env.Seq)
		case <-deadline:
			return
		}
	}
}

// history reads a conversation straight from the log.
func history(t *testing.T, s *testserver.Server, conv string) []*proto.Envelope {
	t.Helper()
	var out []*proto.Envelope
	if _, err := s.Store.History(conv, 0, 1000, func(_ uint64, v []byte) error {
		env := new(proto.Envelope)
		if err := gproto.Unmarshal(v, env); err != nil {
			return err
		}
		if env.Sender != "s:system" {
			out = append(out, env)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func bodies(envs []*proto.Envelope) string {
	var b []string
	for _, e := range envs {
		b = append(b, e.Body)
	}
	return strings.Join(b, "|")
}

// TestMQTTBridgeConversation: a device's up is acknowledged once it is in
// the log; the agent sees it, answers, and the answer comes down; typing
// events go both ways.
func TestMQTTBridgeConversation(t *testing.T) {
	s := testserver.Start(t)
	for i, kind := range []string{v5TCP, v3TCP, v5WS} {
		t.Run(kind, func(t *testing.T) {
			device := []string{"dev-a", "dev-b", "dev-c"}[i]
			r1 := "kefu/demo/" + device + "/"
			c := connectDevice(t, s, kind, device, "main")
			if g := c.sub(t, r1+"#", 1); g != 1 {
				t.Fatalf("granted %#x", g)
			}
			if rc := c.pub(t, r1+"up", "hello from "+kind, 1, false); rc != 0 {
				t.Fatalf("PUBACK %#x", rc)
			}
			// The PUBACK came after the commit: the message is in the log.
			conv, _ := s.Bridge.Conversation(testserver.Site, device)
			if h := history(t, s, conv); bodies(h) != "hello from "+kind || h[0].Sender != "v:"+device {
				t.Fatalf("log of %q after PUBACK: %v", conv, h)
			}
			rd := &downReader{c: deviceTopics{c, r1}}
			if j := rd.next(t, root1+"events"); j.Type != proto.Type_TYPE_JOINED || j.Conversation != conv {
				t.Fatalf("events: %v", j)
			}

			a := dialAgent(t, s, "alice-"+device)
			if p := agentJoin(t, a, conv, 0); bodies(onlyVisitor(p.Messages)) != "hello from "+kind {
				t.Fatalf("agent join: %v", p.Messages)
			}
			seq := agentSay(t, a, conv, "how can I help?")
			if m := rd.next(t, root1+"down"); m.Body != "how can I help?" || m.Seq != seq || m.Sender != "a:alice-"+device {
				t.Fatalf("down: %v", m)
			}
			if err := a.Event(conv, "typing", 0); err != nil {
				t.Fatal(err)
			}
			if e := rd.next(t, root1+"events"); e.Type != proto.Type_TYPE_EVENT || e.Event != "typing" {
				t.Fatalf("events: %v", e)
			}
			c.pub(t, r1+"events", `{"event":"typing"}`, 0, false)
			if e := agentNext(t, a, proto.Type_TYPE_EVENT); e.Event != "typing" || e.Sender != "v:"+device {
				t.Fatalf("agent got %v", e)
			}
			c.pub(t, r1+"up", "the screen is blank", 2, false)
			if m := agentNext(t, a, proto.Type_TYPE_MESSAGE); m.Body != "the screen is blank" || m.Seq <= seq {
				t.Fatalf("agent got %v", m)
			}
			c.close()
		})
	}
}

// deviceTopics maps another device's topics onto root1 for downReader.
type deviceTopics struct {
	mqttClient
	root string
}

func (d deviceTopics) recv(t *testing.T) mqttMsg {
	m := d.mqttClient.recv(t)
	m.topic = root1 + strings.TrimPrefix(m.topic, d.root)
	return m
}

func onlyVisitor(envs []*proto.Envelope) []*proto.Envelope {
	var out []*proto.Envelope
	for _, e := range envs {
		if strings.HasPrefix(e.Sender, "v:") {
			out = append(out, e)
		}
	}
	return out
}

// TestMQTTBridgeOffline: a device with a persistent session gets what the
// agent said while it was away, exactly once, in order, when it returns.
func TestMQTTBridgeOffline(t *testing.T) {
	s := testserver.Start(t)
	persistent := func(o *pahov3.ClientOptions) { o.SetCleanSession(false) }
	c, _, err := dialV3(t, s, false, "demo/dev-1/p", "demo/dev-1", devicePass(dev1), persistent)
	if err != nil {
		t.Fatal(err)
	}
	c.sub(t, root1+"down", 1)
	c.pub(t, root1+"up", "hello", 1, false)
	conv, _ := s.Bridge.Conversation(testserver.Site, dev1)
	c.close()

	a := dialAgent(t, s, "alice")
	agentJoin(t, a, conv, 0)
	for _, b := range []string{"one", "two", "three"} {
		agentSay(t, a, conv, b)
	}
	c, _, err = dialV3(t, s, false, "demo/dev-1/p", "demo/dev-1", devicePass(dev1), persistent)
	if err != nil {
		t.Fatal(err)
	}
	rd := &downReader{c: c}
	for _, want := range []string{"one", "two", "three"} {
		if m := rd.next(t, root1+"down"); m.Body != want {
			t.Fatalf("down %v, want %q", m, want)
		}
	}
	rd.quiet(t, 300*time.Millisecond)
	agentSay(t, a, conv, "four")
	if m := rd.next(t, root1+"down"); m.Body != "four" {
		t.Fatalf("down %v", m)
	}
}

// TestMQTTBridgeResend: a QoS 1 up resent (DUP) over a new connection,
// whether or not its first PUBACK was written, is acknowledged and stored
// once; so is a second publication with the same client_msg_id user
// property (MQTT 5).
func TestMQTTBridgeResend(t *testing.T) {
	s := testserver.Start(t)
	for _, v := range []byte{4, 5} {
		device := map[byte]string{4: "dup-3", 5: "dup-5"}[v]
		pub := &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
			TopicName: "kefu/demo/" + device + "/up", PacketID: 7, Payload: []byte("once v" + string('0'+v))}
		cp := connectPacket(v, device, "raw", 30)
		cp.Connect.Clean = false
		if v == 5 {
			cp.Properties.SessionExpiryInterval, cp.Properties.SessionExpiryIntervalFlag = 600, true
		}
		r := dialRawMQTT(t, s.Addr(), v)
		r.send(t, cp)
		r.expect(t, packets.Connack)
		r.send(t, pub)
		_ = r.c.Close() // before reading the PUBACK

		r = dialRawMQTT(t, s.Addr(), v)
		r.send(t, cp)
		if ack := r.expect(t, packets.Connack); !ack.SessionPresent {
			t.Fatalf("v%d: session not present", v)
		}
		pub.FixedHeader.Dup = true
		r.send(t, pub)
		if ack := r.expect(t, packets.Puback); ack.PacketID != 7 || ack.ReasonCode != 0 {
			t.Fatalf("v%d: PUBACK %+v", v, ack)
		}
		conv, _ := s.Bridge.Conversation(testserver.Site, device)
		if h := history(t, s, conv); len(h) != 1 || h[0].Body != string(pub.Payload) {
			t.Fatalf("v%d: stored %v", v, h)
		}
	}

	c := connectDevice(t, s, v5TCP, "dup-id", "a")
	for id := range 2 {
		ctx, cancel := context.WithTimeout(t.Context(), mqttWait)
		resp, err := c.(*v5Client).c.Publish(ctx, &paho.Publish{Topic: "kefu/demo/dup-id/up", QoS: 1, Payload: []byte("with an id"),
			Properties: &paho.PublishProperties{User: paho.UserProperties{{Key: "client_msg_id", Value: "order-42"}}}})
		cancel()
		if err != nil || resp.ReasonCode != 0 {
			t.Fatalf("publish %d: %v %+v", id, err, resp)
		}
	}
	conv, _ := s.Bridge.Conversation(testserver.Site, "dup-id")
	if h := history(t, s, conv); len(h) != 1 || h[0].ClientMsgId != "order-42" {
		t.Fatalf("stored %v", h)
	}
}

// TestMQTTBridgeRestart: after a restart the device keeps its
// conversation, and gets what was said while the server was down and it
// away, once.
func TestMQTTBridgeRestart(t *testing.T) {
	dir := t.TempDir()
	s := testserver.StartAt(t, dir)
	expiry := uint32(600)
	connect := func(s *testserver.Server) *v5Client {
		c, _, err := dialV5(t, s, false, &paho.Connect{ClientID: "demo/dev-1/r", KeepAlive: 30, CleanStart: false,
			Username: "demo/dev-1", UsernameFlag: true, Password: []byte(devicePass(dev1)), PasswordFlag: true,
			Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := connect(s)
	c.sub(t, root1+"down", 1)
	c.pub(t, root1+"up", "before", 1, false)
	conv, _ := s.Bridge.Conversation(testserver.Site, dev1)
	a := dialAgent(t, s, "alice")
	agentJoin(t, a, conv, 0)
	agentSay(t, a, conv, "reply")
	rd := &downReader{c: c}
	if m := rd.next(t, root1+"down"); m.Body != "reply" {
		t.Fatalf("down %v", m)
	}
	c.close()
	_ = a.Close()
	s.Stop()

	s = testserver.StartAt(t, dir)
	if c2, _ := s.Bridge.Conversation(testserver.Site, dev1); c2 != conv {
		t.Fatalf("conversation after restart %q, want %q", c2, conv)
	}
	a = dialAgent(t, s, "alice")
	agentJoin(t, a, conv, 0)
	agentSay(t, a, conv, "while you were away")
	c = connect(s)
	rd.c = c
	if m := rd.next(t, root1+"down"); m.Body != "while you were away" {
		t.Fatalf("down %v", m)
	}
	rd.quiet(t, 300*time.Millisecond)
	c.pub(t, root1+"up", "after", 1, false)
	if got := bodies(history(t, s, conv)); got != "before|reply|while you were away|after" {
		t.Fatalf("log %q", got)
	}
}

// TestMQTTBridgeBadPayloads: invalid UTF-8 and oversize bodies are
// refused (MQTT 5 reason codes; 3.1.1 a plain PUBACK) and counted.
func TestMQTTBridgeBadPayloads(t *testing.T) {
	s := testserver.Start(t)
	c5 := connectDevice(t, s, v5TCP, dev1, "bad5")
	if rc := c5.pub(t, root1+"up", "\xff\xfebad", 1, false); rc != 0x99 {
		t.Fatalf("invalid UTF-8: %#x, want 0x99", rc)
	}
	if rc := c5.pub(t, root1+"up", strings.Repeat("x", s.Config.Gateway.MaxBodyBytes+1), 1, false); rc != 0x97 {
		t.Fatalf("oversize: %#x, want 0x97", rc)
	}
	if rc := c5.pub(t, root1+"down", "forged", 1, false); rc != 0x87 {
		t.Fatalf("publish to down: %#x, want 0x87", rc)
	}
	c3 := connectDevice(t, s, v3TCP, dev1, "bad3")
	c3.pub(t, root1+"up", "\xc3", 1, false) // a plain PUBACK
	waitMetric(t, s, `kefu_mqtt_bridge_rejected_total{reason="bad_utf8"}`, 2)
	waitMetric(t, s, `kefu_mqtt_bridge_rejected_total{reason="too_large"}`, 1)
	waitMetric(t, s, `kefu_mqtt_bridge_rejected_total{reason="down_topic"}`, 1)
	if conv, _ := s.Bridge.Conversation(testserver.Site, dev1); conv != "" {
		t.Fatalf("refused ups opened %s", conv)
	}
}

// TestMQTTBridgeMosquitto: the examples of docs/protocol-mqtt.md, with
// Debian's mosquitto clients as the device.
func TestMQTTBridgeMosquitto(t *testing.T) {
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
	if out, err := run(pubBin, append(cred("demo/dev-1/pub"), "-V", "5", "-q", "1", "-t", root1+"up", "-m", "hello from mosquitto")...); err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
	if out, err := run(pubBin, append(cred("demo/dev-1/pub"), "-V", "5", "-q", "1", "-t", root1+"up",
		"-D", "publish", "content-type", "application/json", "-D", "publish", "user-property", "client_msg_id", "photo-1",
		"-m", `{"kind":"image","body":"https://cdn.example/p/1.jpg"}`)...); err != nil {
		t.Fatalf("mosquitto_pub JSON: %v %s", err, out)
	}
	conv, _ := s.Bridge.Conversation(testserver.Site, dev1)
	h := history(t, s, conv)
	if bodies(h) != "hello from mosquitto|https://cdn.example/p/1.jpg" || h[1].Kind != proto.Kind_KIND_IMAGE || h[1].ClientMsgId != "photo-1" {
		t.Fatalf("log %v", h)
	}
	// The agent answers while no mosquitto_sub listens: the device is sent
	// what it missed (system notices included) when it subscribes.
	a := dialAgent(t, s, "alice")
	agentJoin(t, a, conv, 0)
	seq := agentSay(t, a, conv, "hello from the console")
	missed := 0 // what the device is owed: every message not its own (routing notices too)
	if _, err := s.Store.History(conv, 0, 100, func(_ uint64, v []byte) error {
		var m proto.Envelope
		if err := gproto.Unmarshal(v, &m); err != nil || m.Sender != "v:"+dev1 {
			missed++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	out, err := run(subBin, append(cred("demo/dev-1/sub"), "-V", "5", "-q", "1", "-t", root1+"down",
		"-C", strconv.Itoa(missed), "-W", "10")...)
	if err != nil {
		t.Fatalf("mosquitto_sub: %v %s", err, out)
	}
	var last uint64
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m proto.Envelope
		if err := proto.UnmarshalJSON([]byte(line), &m); err != nil || m.Seq <= last {
			t.Fatalf("mosquitto_sub printed %q", out)
		}
		last = m.Seq
		found = found || m.Seq == seq && m.Body == "hello from the console"
	}
	if !found {
		t.Fatalf("mosquitto_sub printed %q, without the agent's message", out)
	}
	if out, err := run(pubBin, append(cred("demo/dev-1/ev"), "-V", "5", "-t", root1+"events", "-m", `{"event":"typing"}`)...); err != nil {
		t.Fatalf("mosquitto_pub events: %v %s", err, out)
	}
	if e := agentNext(t, a, proto.Type_TYPE_EVENT); e.Event != "typing" {
		t.Fatalf("agent got %v", e)
	}
}
