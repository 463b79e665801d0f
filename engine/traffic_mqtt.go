package engine

import (
	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// mqttConnectByte is byte 0 of a CONNECT, the first packet a client must
// send [MQTT-3.1.0-1]: what an auto listener sniffs.
const mqttConnectByte = packets.Connect << 4

// readMQTT decodes and handles one packet at the start of buf (MQTT over
// TCP) and returns its size, or 0 for "need more" and after an error.
func (e *Engine) readMQTT(c *conn, buf []byte) int {
	pk, n, err := codec.Decode(buf, c.mq.Version(), e.mq.maxPacket)
	switch {
	case err != nil:
		e.decodeErrorMQTT(c, &pk, err)
		return 0
	case n == 0:
		return 0
	}
	e.m.framesIn[protoMQTT].Inc()
	e.actMQTT(c, c.mq.HandlePacket(&pk))
	return n
}

// readWSMQTT handles one WebSocket message of an MQTT connection. MQTT over
// WebSocket is carried in binary messages [MQTT-6.0.0-1], and a packet may
// span messages or share one with others [MQTT-6.0.0-2]: the bytes of a
// split packet wait in c.mqRem (pooled, held only while a packet is split).
// m.Payload is consumed before the next Decode of the WebSocket decoder.
func (e *Engine) readWSMQTT(c *conn, m ws.Message) {
	if m.Op == ws.OpText {
		e.m.decodeErrors.WithLabelValues("mqtt", "text_frame").Inc()
		if c.markClosing(reasonProtocolError) {
			c.byeSent = true
			_, _ = c.gc.Write(ws.AppendClose(nil, ws.CloseUnsupportedData, "MQTT needs binary messages"))
			_ = c.gc.Close()
		}
		return
	}
	e.m.framesIn[protoWS].Inc()
	data := m.Payload
	if c.mqRem != nil {
		*c.mqRem = append(*c.mqRem, data...)
		data = *c.mqRem
	}
	off := 0
	for off < len(data) && !c.closed.Load() {
		pk, n, err := codec.Decode(data[off:], c.mq.Version(), e.mq.maxPacket)
		if err != nil {
			e.decodeErrorMQTT(c, &pk, err)
			break
		}
		if n == 0 {
			break
		}
		off += n
		e.actMQTT(c, c.mq.HandlePacket(&pk))
	}
	rest := data[off:]
	switch {
	case len(rest) == 0 || c.closed.Load():
		if c.mqRem != nil {
			e.mq.pool.Put(c.mqRem)
			c.mqRem = nil
		}
	case c.mqRem == nil:
		bp := e.mq.pool.Get(len(rest))
		*bp = append(*bp, rest...)
		c.mqRem = bp
	default: // rest is the tail of *c.mqRem: move it to the front
		*c.mqRem = (*c.mqRem)[:copy(*c.mqRem, rest)]
	}
}

// decodeErrorMQTT counts a refused packet and closes the connection, with
// the CONNACK or DISCONNECT the broker decides.
func (e *Engine) decodeErrorMQTT(c *conn, pk *packets.Packet, err error) {
	e.m.decodeErrors.WithLabelValues("mqtt", codec.Reason(err)).Inc()
	e.actMQTT(c, c.mq.DecodeError(pk, err))
	if !c.closed.Load() { // the stream cannot be trusted after a decode error
		c.closeOnLoop(reasonProtocolError)
	}
}

// actMQTT carries out what a call on the Client returned: write Out,
// hand the buffer back, then close, or mark the connection ready once
// CONNECT was accepted. Event loop only.
func (e *Engine) actMQTT(c *conn, a mqtt.Actions) {
	if len(a.Out) > 0 {
		e.writeMQTT(c, a.Out)
	}
	c.mq.Release()
	switch {
	case a.Close:
		e.closeMQTT(c, a.Reason)
	case c.state == stateHello && c.mq.Version() != 0:
		c.state = stateReady // CONNACK sent: keep alive deadlines from now on
		c.ready.Store(true)
	}
}

// writeMQTT writes packets on the loop: as they are over TCP, in one
// binary message over WebSocket.
func (e *Engine) writeMQTT(c *conn, out []byte) {
	if c.proto != protoWS {
		e.reply(c, out)
		return
	}
	bp := e.mq.pool.Get(ws.HeaderSize(len(out)) + len(out))
	*bp = ws.AppendHeader(*bp, ws.OpBinary, len(out))
	*bp = append(*bp, out...)
	e.reply(c, *bp)
	e.mq.pool.Put(bp)
}

// closeMQTT closes after the broker decided so; its DISCONNECT (MQTT 5),
// if any, was in the Out just written. Event loop only.
func (e *Engine) closeMQTT(c *conn, r mqtt.Reason) {
	cr := closeReasonOf(r)
	if cr == reasonSlowConsumer {
		e.m.slow.Inc()
	}
	if !c.markClosing(cr) {
		return
	}
	c.byeSent = true
	if c.proto == protoWS {
		_, _ = c.gc.Write(ws.AppendClose(nil, wsCloseCode(cr), cr.String()))
	}
	_ = c.gc.Close()
}

// afterMQTT runs at the end of OnTraffic for an open MQTT connection: a
// Wake from the broker is answered with Drain (queued deliveries, a kick),
// then the loop's own writes are held to the outbound limit.
func (e *Engine) afterMQTT(c *conn) {
	if c.woke.Swap(false) {
		e.actMQTT(c, c.mq.Drain())
	}
	if !c.closed.Load() && c.gc.OutboundBuffered() > e.opts.OutboundLimit {
		e.m.slow.Inc()
		c.closeOnLoop(reasonSlowConsumer) // MQTT 5: DISCONNECT 0x97
	}
}

// upgradeOptions chooses the handshake options by path: on /mqtt the only
// subprotocol is "mqtt" and the connection speaks MQTT whatever the client
// offered; on /ws "mqtt" is one of the offered subprotocols.
func (e *Engine) upgradeOptions(buf []byte) *ws.UpgradeOptions {
	if e.mq.broker != nil && (hasPrefix(buf, "GET "+mqttPath+" ") || hasPrefix(buf, "GET "+mqttPath+"?")) {
		return &e.mq.upgrade
	}
	return &e.upgrade
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }
