package engine

import (
	"time"

	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/internal/bufpool"
)

// MQTT connections (docs/protocol-mqtt.md). The protocol lives in
// engine/mqtt; the engine gives each MQTT connection a *mqtt.Client, feeds
// it decoded packets on the loop, writes what it returns and closes when
// told. The broker reaches a connection from other goroutines only through
// conn.Wake (deliveries queued, session taken over), which makes the loop
// call Client.Drain.
//
// Deadlines: until CONNECT is accepted the handshake timeout applies (ready
// is false); afterwards the client's keep alive (1.5 × what it asked for,
// Client.KeepAlive) or, for keep alive 0, the idle timeout, measured from
// the last bytes received. The server sends no pings to MQTT clients: they
// ping (PINGREQ), the broker answers.

// mqttSide is what the engine keeps for MQTT: the broker and the resources
// its connections share.
type mqttSide struct {
	broker    *mqtt.Broker      // nil: MQTT is refused
	maxPacket int               // inbound packet limit for the codec
	upgrade   ws.UpgradeOptions // the /mqtt path: subprotocol "mqtt" only
	wsDecode  ws.DecodeOptions  // MQTT over WebSocket: messages up to maxPacket
	pool      bufpool.Pool      // WebSocket framing of output, split-packet remainders
	lastTick  int64             // ticker-owned: when broker.Tick last ran
}

// MQTT over WebSocket (docs/protocol-mqtt.md §WebSocket).
const (
	subprotoMQTT = "mqtt"  // [MQTT-6.0.0-3]
	mqttPath     = "/mqtt" // also served on /ws with subprotocol "mqtt"
)

// mqttTickEvery is how often the broker's timers (delayed wills, session
// expiry) are run.
const mqttTickEvery = int64(time.Second)

// initMQTT sets up MQTT when a broker is given. Called once by New.
func (e *Engine) initMQTT(b *mqtt.Broker) {
	if b == nil {
		return
	}
	e.mq.broker = b
	e.mq.maxPacket = b.MaxPacketSize()
	e.upgrade.Protocols = append(e.upgrade.Protocols, subprotoMQTT)
	e.mq.upgrade = e.upgrade
	e.mq.upgrade.Protocols = []string{subprotoMQTT}
	e.mq.wsDecode = e.wsDecode // the same reassembly pool
	e.mq.wsDecode.MaxMessageSize = max(e.wsDecode.MaxMessageSize, e.mq.maxPacket)
}

// openMQTT makes c an MQTT connection waiting for CONNECT; p is its
// transport (protoMQTT or protoWS). Event loop only.
func (e *Engine) openMQTT(c *conn, p uint8) {
	c.proto, c.state = p, stateHello
	c.mq = e.mq.broker.NewClient(c)
}

// Wake implements mqtt.Conn: the broker queued deliveries for this client
// or wants it closed. Any goroutine. Wakes are coalesced: one is on its
// way to the loop at a time, and the loop clears the flag before it drains.
func (c *conn) Wake() {
	if c.woke.Load() || !c.woke.CompareAndSwap(false, true) {
		return
	}
	if c.gc.Wake(nil) != nil {
		c.woke.Store(false) // the connection is gone: nothing to drain
	}
}

// closedMQTT ends the client's protocol state. OnClose only.
func (e *Engine) closedMQTT(c *conn) {
	c.mq.Closed()
	if c.mqRem != nil {
		e.mq.pool.Put(c.mqRem)
		c.mqRem = nil
	}
}

// goodbyeMQTT is what an MQTT connection is sent when the engine closes it
// for r (conn.sayGoodbye, on the loop): an MQTT 5 client gets a DISCONNECT
// with the reason code (0x8B shutdown, 0x8D keep alive timeout, 0x97 slow
// consumer, 0x89 overload); over WebSocket it is framed and followed by a
// close frame. After a panic nothing is asked of the Client.
func (c *conn) goodbyeMQTT(r closeReason) []byte {
	var mr mqtt.Reason
	switch r {
	case reasonDraining:
		mr = mqtt.ReasonShutdown
	case reasonIdleTimeout:
		mr = mqtt.ReasonKeepAlive
	case reasonSlowConsumer:
		mr = mqtt.ReasonSlowConsumer
	case reasonOverload:
		mr = mqtt.ReasonServerBusy
	}
	var b []byte
	if mr != mqtt.ReasonNone && c.mq.Version() != 0 {
		b = c.mq.Goodbye(mr) // nil for 3.1.1, which has no server DISCONNECT
	}
	if c.proto != protoWS {
		return b
	}
	var out []byte
	if len(b) > 0 {
		out = ws.AppendFrame(nil, ws.OpBinary, b)
	}
	return ws.AppendClose(out, wsCloseCode(r), r.String())
}

// fireMQTT is the deadline of a connected MQTT client. Ticker goroutine.
func (e *Engine) fireMQTT(c *conn, now int64) (int64, bool) {
	limit := int64(c.mq.KeepAlive()) // 1.5 × keep alive [MQTT-3.1.2-24]
	if limit == 0 {
		limit = int64(e.opts.IdleTimeout)
	}
	last := c.lastRead.Load()
	if now-last >= limit {
		c.closeAsync(reasonIdleTimeout) // the loop says goodbye: 0x8D
		return 0, false
	}
	return last + limit, true
}

// tickMQTT runs the broker's timers about once a second. Ticker goroutine.
func (e *Engine) tickMQTT(now int64) {
	if e.mq.broker == nil || now-e.mq.lastTick < mqttTickEvery {
		return
	}
	e.mq.lastTick = now
	e.mq.broker.Tick()
}

// closeReasonOf is the engine close reason (the label of
// kefu_connections_closed_total) for a broker's reason.
func closeReasonOf(r mqtt.Reason) closeReason {
	switch r {
	case mqtt.ReasonNormal:
		return reasonPeer // the client sent DISCONNECT
	case mqtt.ReasonTakeover:
		return reasonTakeover
	case mqtt.ReasonKeepAlive:
		return reasonIdleTimeout
	case mqtt.ReasonShutdown:
		return reasonDraining
	case mqtt.ReasonSlowConsumer:
		return reasonSlowConsumer
	case mqtt.ReasonServerBusy:
		return reasonOverload
	case mqtt.ReasonBadCredentials, mqtt.ReasonNotAuthorized, mqtt.ReasonBadClientID, mqtt.ReasonBadAuthMethod:
		return reasonAuth
	}
	return reasonProtocolError
}
