package engine

import (
	"slices"
	"sync/atomic"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/wire"
	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/engine/mqtt"
	"github.com/kefu-im/kefu/proto"
	"github.com/kefu-im/kefu/shard"
	"github.com/panjf2000/gnet/v2"
)

// Connection states, owned by the event loop.
const (
	stateNew     uint8 = iota // nothing read yet (auto listeners sniff)
	stateUpgrade              // WebSocket: waiting for the HTTP upgrade
	stateHello                // waiting for HELLO
	stateReady                // authenticated
)

// conn is the per-connection state, set as the gnet context. It holds no
// buffer while idle: the WebSocket decoder borrows one from a pool only
// while a fragmented message is being reassembled, and an MQTT-over-
// WebSocket connection keeps mqRem only while a packet spans messages.
//
// Fields above the atomics are owned by the event loop; lastPing by the
// ticker goroutine; the atomics are shared with workers and the ticker.
// mq is set on the loop before ready; the ticker reads it only once ready
// is true (conn_mqtt.go).
type conn struct {
	gc      gnet.Conn
	e       *Engine
	ln      *listener
	id      uint64
	proto   uint8
	state   uint8
	format  wire.Format
	byeSent bool   // the close frame went out
	origin  uint32 // WebSocket: tag of an Origin allowed only by some site (0: none or allowed everywhere)
	shards  uint64 // bit i: a subscribing request went to shard i
	who     *shard.Identity
	ws      ws.Decoder
	mq      *mqtt.Client // MQTT connections only (TCP or WebSocket)
	mqRem   *[]byte      // MQTT over WebSocket: the start of a split packet

	opened   int64 // unix nanos
	lastPing int64 // ticker-owned: when the last ping was sent

	lastRead atomic.Int64 // unix nanos of the last inbound bytes
	pending  atomic.Int64 // bytes handed to AsyncWrite and not yet written
	ready    atomic.Bool  // HELLO accepted
	reason   atomic.Uint32
	closed   atomic.Bool
	woke     atomic.Bool // MQTT: a Wake is on its way to the loop
}

// ID implements shard.Sink.
func (c *conn) ID() uint64 { return c.id }

// Format implements shard.Sink. Set on the loop before the first request
// is submitted; the ring hand-off orders it before any worker reads it.
func (c *conn) Format() wire.Format { return c.format }

// Closed implements shard.Sink.
func (c *conn) Closed() bool { return c.closed.Load() }

// Write implements shard.Sink: called by workers and the ticker, never on
// the loop. The bytes are shared and immutable; the [][]byte is copied when
// it has to outlive the call.
func (c *conn) Write(bufs [][]byte) bool {
	if c.closed.Load() || len(bufs) == 0 {
		return !c.closed.Load()
	}
	n := 0
	for _, b := range bufs {
		n += len(b)
	}
	limit := int64(c.e.opts.OutboundLimit)
	if c.pending.Add(int64(n)) > limit {
		c.pending.Add(-int64(n))
		c.e.m.slow.Inc()
		c.closeAsync(reasonSlowConsumer)
		return false
	}
	done := func(gc gnet.Conn, err error) error {
		c.pending.Add(-int64(n))
		if err == nil && gc.OutboundBuffered() > int(limit) {
			c.e.m.slow.Inc()
			c.closeOnLoop(reasonSlowConsumer)
		}
		return nil
	}
	var err error
	if len(bufs) == 1 {
		err = c.gc.AsyncWrite(bufs[0], done)
	} else {
		err = c.gc.AsyncWritev(slices.Clone(bufs), done)
	}
	if err != nil {
		c.pending.Add(-int64(n))
		return false
	}
	c.e.m.framesOut[c.proto].Add(float64(len(bufs)))
	c.e.m.bytesOut[c.proto].Add(float64(n))
	return true
}

// markClosing records the first close reason; it reports whether this call
// was the first.
func (c *conn) markClosing(r closeReason) bool {
	if c.closed.Swap(true) {
		return false
	}
	c.reason.Store(uint32(r))
	return true
}

// closeOnLoop closes with a goodbye suited to the protocol. Event loop only.
func (c *conn) closeOnLoop(r closeReason) {
	if !c.markClosing(r) {
		return
	}
	c.sayGoodbye()
	_ = c.gc.Close()
}

// sayGoodbye writes the close frame of the recorded reason, once. Event
// loop only: it reads the loop-owned protocol state.
func (c *conn) sayGoodbye() {
	if c.byeSent {
		return
	}
	c.byeSent = true
	if b := c.goodbye(closeReason(c.reason.Load())); b != nil {
		_, _ = c.gc.Write(b)
	}
}

// closeAsync closes from any goroutine: it records the reason and wakes
// the loop, which (in OnTraffic) writes the goodbye behind what is already
// queued and closes the connection.
func (c *conn) closeAsync(r closeReason) {
	if !c.markClosing(r) {
		return
	}
	_ = c.gc.Wake(nil)
}

// goodbye is the last frame sent for a close reason, or nil.
func (c *conn) goodbye(r closeReason) []byte {
	if c.mq != nil {
		return c.goodbyeMQTT(r)
	}
	switch c.proto {
	case protoWS:
		if c.state < stateHello {
			return nil // not upgraded: nothing WebSocket to say
		}
		return ws.AppendClose(nil, wsCloseCode(r), r.String())
	case protoFrame:
		switch r {
		case reasonDraining:
			return frame.AppendFrame(nil, uint8(proto.Type_TYPE_GOAWAY), 0, nil)
		case reasonSlowConsumer, reasonIdleTimeout, reasonHandshakeTimeout, reasonPanic, reasonOverload:
			b, _ := wire.Append(nil, wire.FormatFrame, errEnv(0, proto.Code_CODE_BUSY, r.String(), true), nil)
			return b
		}
	}
	return nil
}

// wsCloseCode is the WebSocket close code sent for a close reason.
func wsCloseCode(r closeReason) uint16 {
	switch r {
	case reasonDraining:
		return ws.CloseGoingAway
	case reasonSlowConsumer:
		return closeSlowConsumer
	case reasonIdleTimeout, reasonHandshakeTimeout:
		return ws.CloseGoingAway
	case reasonAuth:
		return ws.ClosePolicyViolation
	case reasonPanic, reasonOverload:
		return ws.CloseInternalError
	case reasonProtocolError:
		return ws.CloseProtocolError
	}
	return ws.CloseNormal
}

// closeSlowConsumer is the application close code for a slow consumer
// (docs/protocol-ws.md).
const closeSlowConsumer = 4008

func errEnv(id uint64, code proto.Code, msg string, retryable bool) *proto.Envelope {
	return &proto.Envelope{
		Type: proto.Type_TYPE_ERROR, Id: id,
		Error: &proto.Error{Code: code, Message: msg, Retryable: retryable},
	}
}
