package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/gorilla/websocket"
	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/mochi-mqtt/server/v2/packets"
)

// MQTT test clients: paho.mqtt.golang speaks 3.1.1, paho.golang 5.0, both
// over TCP (the auto listener) and WebSocket (3.1.1 on /mqtt through
// paho's own dialer, 5.0 on /ws with subprotocol "mqtt"). A raw client
// writes exactly the bytes a test wants.

const mqttWait = 5 * time.Second

// Transports × protocol versions.
const (
	v3TCP = "v3/tcp"
	v3WS  = "v3/ws"
	v5TCP = "v5/tcp"
	v5WS  = "v5/ws"
)

var mqttKinds = []string{v3TCP, v3WS, v5TCP, v5WS}

type mqttMsg struct {
	topic, payload string
	qos            byte
	retain         bool
}

// mqttClient is what the tests need of a connected client.
type mqttClient interface {
	// pub publishes and waits for the acknowledgement; it returns the MQTT
	// 5 reason code of a refusal (0 otherwise, and always for 3.1.1).
	pub(t *testing.T, topic, payload string, qos byte, retain bool) byte
	// sub subscribes and returns the SUBACK code: the granted QoS or a
	// refusal (0x80 and up).
	sub(t *testing.T, filter string, qos byte) byte
	recv(t *testing.T) mqttMsg
	quiet(t *testing.T, d time.Duration)
	// gone is closed once the server has closed the connection.
	gone() <-chan struct{}
	kill()  // drop the connection without DISCONNECT
	close() // DISCONNECT
}

func devicePass(device string) string { return testserver.DeviceToken(device) }

// connectDevice connects a client of device (user name demo/<device>,
// client id demo/<device>/<suffix>) and fails the test if it is refused.
func connectDevice(t *testing.T, s *testserver.Server, kind, device, suffix string) mqttClient {
	t.Helper()
	user := testserver.Site + "/" + device
	id := user + "/" + suffix
	if strings.HasPrefix(kind, "v3") {
		c, rc, err := dialV3(t, s, kind == v3WS, id, user, devicePass(device), nil)
		if err != nil {
			t.Fatalf("%s connect %s: code %#x, %v", kind, id, rc, err)
		}
		return c
	}
	c, ack, err := dialV5(t, s, kind == v5WS, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true,
		Username: user, UsernameFlag: true, Password: []byte(devicePass(device)), PasswordFlag: true})
	if err != nil {
		t.Fatalf("%s connect %s: %+v, %v", kind, id, ack, err)
	}
	return c
}

// v3Client is a paho.mqtt.golang client (MQTT 3.1.1).
type v3Client struct {
	c      pahov3.Client
	mu     sync.Mutex
	raw    net.Conn // TCP: the socket, for kill
	msgs   chan mqttMsg
	lost   chan struct{}
	lostMu sync.Once
}

func dialV3(t *testing.T, s *testserver.Server, overWS bool, clientID, user, pass string, tweak func(*pahov3.ClientOptions)) (*v3Client, byte, error) {
	t.Helper()
	cl := &v3Client{msgs: make(chan mqttMsg, 256), lost: make(chan struct{})}
	o := pahov3.NewClientOptions().SetProtocolVersion(4).SetClientID(clientID).SetUsername(user).SetPassword(pass).
		SetAutoReconnect(false).SetConnectRetry(false).SetCleanSession(true).SetKeepAlive(30 * time.Second).
		SetConnectTimeout(mqttWait).SetWriteTimeout(mqttWait)
	o.SetDefaultPublishHandler(func(_ pahov3.Client, m pahov3.Message) {
		cl.msgs <- mqttMsg{m.Topic(), string(m.Payload()), m.Qos(), m.Retained()}
	})
	o.SetConnectionLostHandler(func(pahov3.Client, error) { cl.lostMu.Do(func() { close(cl.lost) }) })
	if overWS {
		o.AddBroker(s.MQTTWSURL())
	} else {
		o.AddBroker("tcp://" + s.Addr())
		o.SetCustomOpenConnectionFn(func(u *url.URL, _ pahov3.ClientOptions) (net.Conn, error) {
			c, err := net.DialTimeout("tcp", u.Host, mqttWait)
			cl.mu.Lock()
			cl.raw = c
			cl.mu.Unlock()
			return c, err
		})
	}
	if tweak != nil {
		tweak(o)
	}
	cl.c = pahov3.NewClient(o)
	tok := cl.c.Connect()
	if !tok.WaitTimeout(mqttWait) {
		t.Fatalf("v3 connect %s: timeout", clientID)
	}
	rc := tok.(*pahov3.ConnectToken).ReturnCode()
	if err := tok.Error(); err != nil {
		return nil, rc, err
	}
	t.Cleanup(func() { cl.c.Disconnect(0) })
	return cl, rc, nil
}

func (c *v3Client) pub(t *testing.T, topic, payload string, qos byte, retain bool) byte {
	t.Helper()
	tok := c.c.Publish(topic, qos, retain, payload)
	if !tok.WaitTimeout(mqttWait) || tok.Error() != nil {
		t.Fatalf("v3 publish %s: %v", topic, tok.Error())
	}
	return 0
}

func (c *v3Client) sub(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	tok := c.c.Subscribe(filter, qos, nil)
	if !tok.WaitTimeout(mqttWait) || tok.Error() != nil {
		t.Fatalf("v3 subscribe %s: %v", filter, tok.Error())
	}
	if strings.HasPrefix(filter, "$share/") { // paho keys results by the filter without its group
		filter = strings.Join(strings.Split(filter, "/")[2:], "/")
	}
	return tok.(*pahov3.SubscribeToken).Result()[filter]
}

func (c *v3Client) recv(t *testing.T) mqttMsg { t.Helper(); return recvMsg(t, c.msgs) }

func (c *v3Client) quiet(t *testing.T, d time.Duration) { t.Helper(); quietMsgs(t, c.msgs, d) }

func (c *v3Client) gone() <-chan struct{} { return c.lost }

func (c *v3Client) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		_ = c.raw.Close()
	}
}

func (c *v3Client) close() { c.c.Disconnect(100) }

// v5Client is a paho.golang client (MQTT 5).
type v5Client struct {
	c    *paho.Client
	conn net.Conn
	msgs chan mqttMsg
	disc chan byte // reason codes of server DISCONNECTs
}

func dialV5(t *testing.T, s *testserver.Server, overWS bool, cp *paho.Connect) (*v5Client, *paho.Connack, error) {
	t.Helper()
	var conn net.Conn
	if overWS {
		conn = dialWSConn(t, s.WSURL())
	} else {
		var err error
		if conn, err = net.DialTimeout("tcp", s.Addr(), mqttWait); err != nil {
			t.Fatal(err)
		}
	}
	cl := &v5Client{conn: conn, msgs: make(chan mqttMsg, 256), disc: make(chan byte, 4)}
	cl.c = paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			p := pr.Packet
			cl.msgs <- mqttMsg{p.Topic, string(p.Payload), p.QoS, p.Retain}
			return true, nil
		}},
		OnServerDisconnect: func(d *paho.Disconnect) { cl.disc <- d.ReasonCode },
		OnClientError:      func(error) {},
		PacketTimeout:      mqttWait,
	})
	ctx, cancel := context.WithTimeout(t.Context(), mqttWait)
	defer cancel()
	ack, err := cl.c.Connect(ctx, cp)
	if err != nil {
		_ = conn.Close()
		return nil, ack, err
	}
	t.Cleanup(func() { _ = conn.Close() })
	return cl, ack, nil
}

func (c *v5Client) pub(t *testing.T, topic, payload string, qos byte, retain bool) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), mqttWait)
	defer cancel()
	resp, err := c.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: qos, Retain: retain, Payload: []byte(payload)})
	switch {
	case resp != nil && resp.ReasonCode >= 0x80:
		return resp.ReasonCode
	case err != nil:
		t.Fatalf("v5 publish %s: %v", topic, err)
	}
	return 0
}

func (c *v5Client) sub(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), mqttWait)
	defer cancel()
	sa, err := c.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if sa == nil || len(sa.Reasons) != 1 {
		t.Fatalf("v5 subscribe %s: %+v, %v", filter, sa, err)
	}
	return sa.Reasons[0]
}

func (c *v5Client) recv(t *testing.T) mqttMsg { t.Helper(); return recvMsg(t, c.msgs) }

func (c *v5Client) quiet(t *testing.T, d time.Duration) { t.Helper(); quietMsgs(t, c.msgs, d) }

func (c *v5Client) gone() <-chan struct{} { return c.c.Done() }

func (c *v5Client) kill() { _ = c.conn.Close() }

func (c *v5Client) close() { _ = c.c.Disconnect(&paho.Disconnect{}) }

// serverReason waits for a DISCONNECT from the server.
func (c *v5Client) serverReason(t *testing.T) byte {
	t.Helper()
	select {
	case r := <-c.disc:
		return r
	case <-time.After(mqttWait):
		t.Fatal("no DISCONNECT from the server")
		return 0
	}
}

func recvMsg(t *testing.T, ch <-chan mqttMsg) mqttMsg {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(mqttWait):
		t.Fatal("no message")
		return mqttMsg{}
	}
}

func quietMsgs(t *testing.T, ch <-chan mqttMsg, d time.Duration) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected message %+v", m)
	case <-time.After(d):
	}
}

func waitGone(t *testing.T, c mqttClient) {
	t.Helper()
	select {
	case <-c.gone():
	case <-time.After(mqttWait):
		t.Fatal("the server did not close the connection")
	}
}

// wsConn is a net.Conn over a gorilla WebSocket connection with the
// subprotocol "mqtt": every Write is one binary message; Read streams the
// messages' bytes. paho.golang writes a packet in several Writes and holds
// the connection's sync.Locker around them, so that packets from its
// goroutines do not interleave: the embedded Mutex is that lock, wmu
// serializes gorilla's writes.
type wsConn struct {
	*websocket.Conn
	sync.Mutex
	r   io.Reader
	wmu sync.Mutex
}

func dialWSConn(t *testing.T, url string) *wsConn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"mqtt"}, HandshakeTimeout: mqttWait}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("websocket dial %s: %v", url, err)
	}
	if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != "mqtt" {
		t.Fatalf("subprotocol %q, want mqtt", p)
	}
	return &wsConn{Conn: c}
}

func (w *wsConn) Read(p []byte) (int, error) {
	for {
		if w.r == nil {
			typ, r, err := w.NextReader()
			if err != nil {
				return 0, err
			}
			if typ != websocket.BinaryMessage {
				return 0, fmt.Errorf("websocket message type %d, want binary", typ)
			}
			w.r = r
		}
		n, err := w.r.Read(p)
		if err == io.EOF {
			w.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (w *wsConn) Write(p []byte) (int, error) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	if err := w.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *wsConn) SetDeadline(t time.Time) error {
	if err := w.SetReadDeadline(t); err != nil {
		return err
	}
	return w.SetWriteDeadline(t)
}

// rawMQTT is a hand-written MQTT client over TCP.
type rawMQTT struct {
	c   net.Conn
	v   byte
	buf []byte
}

func dialRawMQTT(t *testing.T, addr string, version byte) *rawMQTT {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, mqttWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawMQTT{c: c, v: version}
}

func (r *rawMQTT) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := r.c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func (r *rawMQTT) send(t *testing.T, pk *packets.Packet) {
	t.Helper()
	r.write(t, mustAppend(t, pk, r.v))
}

func mustAppend(t *testing.T, pk *packets.Packet, v byte) []byte {
	t.Helper()
	b, err := codec.AppendPacket(nil, pk, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// next reads the next packet from the server; ok is false at EOF.
func (r *rawMQTT) next(t *testing.T) (pk packets.Packet, ok bool) {
	t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(mqttWait))
	tmp := make([]byte, 4096)
	for {
		pk, n, err := codec.Decode(r.buf, r.v, 0)
		if err != nil {
			t.Fatalf("server sent a bad packet: %v", err)
		}
		if n > 0 {
			codec.Detach(&pk)
			r.buf = r.buf[n:]
			return pk, true
		}
		m, err := r.c.Read(tmp)
		r.buf = append(r.buf, tmp[:m]...)
		if err == io.EOF && m == 0 {
			return pk, false
		}
		if err != nil && err != io.EOF {
			t.Fatalf("read: %v", err)
		}
	}
}

func (r *rawMQTT) expect(t *testing.T, typ byte) packets.Packet {
	t.Helper()
	pk, ok := r.next(t)
	if !ok {
		t.Fatalf("EOF, want %s", packets.PacketNames[typ])
	}
	if pk.FixedHeader.Type != typ {
		t.Fatalf("got %s, want %s", packets.PacketNames[pk.FixedHeader.Type], packets.PacketNames[typ])
	}
	return pk
}

func (r *rawMQTT) expectEOF(t *testing.T) {
	t.Helper()
	if pk, ok := r.next(t); ok {
		t.Fatalf("got %s, want EOF", packets.PacketNames[pk.FixedHeader.Type])
	}
}

// connectPacket is a CONNECT of device with a valid token.
func connectPacket(version byte, device, suffix string, keepAlive uint16) *packets.Packet {
	user := testserver.Site + "/" + device
	return &packets.Packet{
		FixedHeader:     packets.FixedHeader{Type: packets.Connect},
		ProtocolVersion: version,
		Connect: packets.ConnectParams{
			ProtocolName: []byte("MQTT"), Clean: true, Keepalive: keepAlive,
			ClientIdentifier: user + "/" + suffix,
			UsernameFlag:     true, Username: []byte(user),
			PasswordFlag: true, Password: []byte(devicePass(device)),
		},
	}
}

// rawConnect connects a raw client and checks the CONNACK.
func (r *rawMQTT) connect(t *testing.T, device, suffix string, keepAlive uint16) {
	t.Helper()
	r.send(t, connectPacket(r.v, device, suffix, keepAlive))
	if ack := r.expect(t, packets.Connack); ack.ReasonCode != 0 {
		t.Fatalf("CONNACK %#x", ack.ReasonCode)
	}
}
