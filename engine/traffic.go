package engine

import (
	"errors"
	"runtime/debug"
	"strings"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/proto"
	"github.com/panjf2000/gnet/v2"
	gproto "google.golang.org/protobuf/proto"
)

// OnTraffic consumes every complete frame in the connection's buffer
// (gnet hands unread bytes back only when more arrive), then discards them.
// Nothing here blocks: requests go to the shards through their rings.
func (e *Engine) OnTraffic(gc gnet.Conn) (action gnet.Action) {
	c, _ := gc.Context().(*conn)
	if c == nil {
		return gnet.Close
	}
	defer func() {
		if r := recover(); r != nil {
			e.m.panics.Inc()
			e.log.Error("panic on event loop; connection closed", "conn", c.id, "panic", r, "stack", string(debug.Stack()))
			c.markClosing(reasonPanic)
			c.sayGoodbye() // WebSocket 1011, or a binary ERROR
			action = gnet.Close
		}
	}()
	if c.closed.Load() { // closed from another goroutine, or earlier on the loop
		c.sayGoodbye()
		return gnet.Close
	}
	buf, _ := gc.Peek(-1)
	if len(buf) > 0 {
		c.lastRead.Store(e.clock.Now())
		n := e.process(c, buf)
		if n > 0 {
			_, _ = gc.Discard(n)
		}
		// Hand a finished reassembly buffer back: an idle connection keeps none.
		c.ws.Release(&e.wsDecode)
	}
	if c.mq != nil && !c.closed.Load() {
		e.afterMQTT(c) // deliveries a Wake asked for; the outbound limit
	}
	if c.closed.Load() {
		return gnet.Close
	}
	return gnet.None
}

// process handles as much of buf as forms complete frames and returns how
// many bytes it used. It stops early once the connection is closing.
func (e *Engine) process(c *conn, buf []byte) int {
	off := 0
	for off < len(buf) && !c.closed.Load() {
		if c.proto == protoUnknown && !e.sniff(c, buf[off]) {
			return off
		}
		var n int
		switch {
		case c.proto == protoWS && c.state == stateUpgrade:
			n = e.upgradeWS(c, buf[off:])
		case c.proto == protoWS:
			n = e.readWS(c, buf[off:])
		case c.proto == protoMQTT:
			n = e.readMQTT(c, buf[off:])
		default:
			n = e.readFrame(c, buf[off:])
		}
		if n == 0 {
			break
		}
		off += n
	}
	e.m.bytesIn[c.proto].Add(float64(off))
	return off
}

// sniff chooses the protocol of an auto listener from the first byte.
func (e *Engine) sniff(c *conn, b byte) bool {
	e.m.conns[protoUnknown].Dec()
	switch {
	case b == 'G':
		c.proto, c.state = protoWS, stateUpgrade
	case b == frame.Magic:
		c.proto, c.state = protoFrame, stateHello
	case b == mqttConnectByte && e.mq.broker != nil:
		e.openMQTT(c, protoMQTT)
	default:
		e.m.conns[protoUnknown].Inc()
		e.m.decodeErrors.WithLabelValues("unknown", "unknown_protocol").Inc()
		c.closeOnLoop(reasonUnknownProtocol)
		return false
	}
	e.m.conns[c.proto].Inc()
	return true
}

func (e *Engine) upgradeWS(c *conn, buf []byte) int {
	up := e.upgradeOptions(buf) // /mqtt offers only the "mqtt" subprotocol
	n, resp, info, err := ws.Upgrade(buf, nil, up)
	if err != nil {
		e.m.decodeErrors.WithLabelValues("ws", ws.HandshakeReason(err)).Inc()
		if len(resp) > 0 {
			_, _ = c.gc.Write(resp)
		}
		r := reasonBadHandshake
		if errors.Is(err, ws.ErrOriginDenied) {
			r = reasonOriginDenied
		}
		c.closeOnLoop(r)
		return 0
	}
	if n == 0 {
		return 0
	}
	if p := info.Path; p != wsPath && !strings.HasPrefix(p, wsPath+"?") && up != &e.mq.upgrade {
		e.m.decodeErrors.WithLabelValues("ws", "bad_path").Inc()
		_, _ = c.gc.Write(notFound)
		c.closeOnLoop(reasonBadHandshake)
		return 0
	}
	_, _ = c.gc.Write(resp)
	c.state = stateHello
	c.origin = info.OriginTag
	if up == &e.mq.upgrade || info.Protocol == subprotoMQTT {
		e.openMQTT(c, protoWS)
		return n
	}
	c.format = wire.FormatWSJSON
	if info.Protocol == subprotoProto {
		c.format = wire.FormatWSProto
	}
	return n
}

func (e *Engine) readWS(c *conn, buf []byte) int {
	opts := &e.wsDecode
	if c.mq != nil {
		opts = &e.mq.wsDecode // MQTT packets may exceed max_frame_bytes
	}
	m, n, err := c.ws.Decode(buf, opts)
	if err != nil {
		e.wsFail(c, err)
		return 0
	}
	if n == 0 || !m.Complete() {
		return n
	}
	switch m.Op {
	case ws.OpPing:
		e.reply(c, ws.AppendPong(nil, m.Payload))
	case ws.OpPong:
	case ws.OpClose:
		// RFC 6455 §5.5.1: answer a close with a close, echoing the code.
		code, _ := ws.ParseClose(m.Payload)
		if code == 0 {
			code = ws.CloseNormal
		}
		if c.markClosing(reasonPeer) {
			c.byeSent = true
			_, _ = c.gc.Write(ws.AppendClose(nil, code, ""))
			_ = c.gc.Close()
		}
	case ws.OpText, ws.OpBinary:
		if c.mq != nil {
			e.readWSMQTT(c, m)
			return n
		}
		e.m.framesIn[protoWS].Inc()
		env := new(proto.Envelope)
		var derr error
		if m.Op == ws.OpText {
			derr = proto.UnmarshalJSON(m.Payload, env)
		} else {
			derr = gproto.Unmarshal(m.Payload, env)
		}
		if derr != nil {
			// A well-framed message with a bad envelope: answer, stay open.
			e.m.decodeErrors.WithLabelValues("ws", "bad_envelope").Inc()
			e.replyEnv(c, errEnv(0, proto.Code_CODE_BAD_REQUEST, "malformed envelope", false))
			return n
		}
		e.dispatch(c, env)
	}
	return n
}

func (e *Engine) wsFail(c *conn, err error) {
	var ce *ws.CloseError
	code, reason := uint16(ws.CloseProtocolError), "error"
	if errors.As(err, &ce) {
		code, reason = ce.Code, ce.Reason
	}
	e.m.decodeErrors.WithLabelValues("ws", reason).Inc()
	if c.markClosing(reasonProtocolError) {
		c.byeSent = true
		_, _ = c.gc.Write(ws.AppendClose(nil, code, reason))
		_ = c.gc.Close()
	}
}

func (e *Engine) readFrame(c *conn, buf []byte) int {
	f, n, err := frame.Decode(buf, e.opts.MaxFrameBytes)
	if err != nil {
		e.m.decodeErrors.WithLabelValues("frame", frame.Reason(err)).Inc()
		if c.markClosing(reasonProtocolError) {
			c.byeSent = true
			b, _ := wire.Append(nil, wire.FormatFrame, errEnv(0, frame.CodeFor(err), err.Error(), false), nil)
			_, _ = c.gc.Write(b)
			_ = c.gc.Close()
		}
		return 0
	}
	if n == 0 {
		return 0
	}
	e.m.framesIn[protoFrame].Inc()
	switch proto.Type(f.Type) {
	case proto.Type_TYPE_PING:
		e.reply(c, frame.AppendFrame(nil, uint8(proto.Type_TYPE_PONG), f.RequestID, nil)) // docs/protocol-frame.md §7: echo the id
		return n
	case proto.Type_TYPE_PONG:
		return n
	}
	env, err := frame.DecodeEnvelope(f)
	if err != nil {
		e.m.decodeErrors.WithLabelValues("frame", "bad_envelope").Inc()
		e.replyEnv(c, errEnv(uint64(f.RequestID), proto.Code_CODE_BAD_REQUEST, "malformed envelope", false))
		return n
	}
	e.dispatch(c, env)
	return n
}

// reply writes b on the loop (we are on it: OnTraffic).
func (e *Engine) reply(c *conn, b []byte) {
	_, _ = c.gc.Write(b)
	e.m.framesOut[c.proto].Inc()
	e.m.bytesOut[c.proto].Add(float64(len(b)))
}

func (e *Engine) replyEnv(c *conn, env *proto.Envelope) {
	b, err := wire.Append(nil, c.format, env, nil)
	if err != nil {
		panic("BUG: encoding a reply: " + err.Error())
	}
	e.reply(c, b)
}

func appendFrameType(dst []byte, t proto.Type) []byte {
	return frame.AppendFrame(dst, uint8(t), 0, nil)
}

// wsPath is where WebSocket clients connect (docs/protocol-ws.md).
const wsPath = "/ws"

var notFound = []byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
