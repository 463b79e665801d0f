package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/ws"
	pb "github.com/kefu-im/kefu/proto"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/panjf2000/gnet/v2"
)

type connState uint8

const (
	stUpgrade connState = iota // WebSocket: request sent, waiting for 101
	stHello                    // HELLO sent, waiting for WELCOME
	stReady                    // welcomed
	stClosed                   // OnClose ran
)

// Conn is one client connection. The caller sets Hello and Tag, then
// dials it; from then on it belongs to its loop (see Handler).
type Conn struct {
	// Hello is sent once the transport is up (Kefu transports). Set
	// before Dial.
	Hello Hello
	// MQTT is the CONNECT of an MQTT connection (Transport MQTT). Set
	// before Dial.
	MQTT MQTTConnect
	// Tag is the scenario's index for its own per-connection state.
	Tag int

	// Dialed, Connected and Welcomed are Pool.Now() at the dial, at the
	// end of the TCP connect and at WELCOME (MQTT: at a successful
	// CONNACK).
	Dialed, Connected, Welcomed time.Duration

	pool     *Pool
	loop     *Loop
	gc       gnet.Conn
	state    connState
	ready    bool
	closing  bool
	goaway   bool
	idx      int
	reqID    uint64
	accept   [28]byte
	lastIn   time.Duration
	lastOut  time.Duration
	hb       time.Duration // ping after this much silence (MQTT: lowered by Server Keep Alive)
	pingAt   time.Duration // the first ping not followed by inbound bytes
	reason   string
	frag     []byte
	fragOp   ws.OpCode
	fragging bool
	mq       mqttState
}

// Loop returns the event loop that owns c.
func (c *Conn) Loop() *Loop { return c.loop }

// Ready reports whether the server has welcomed c.
func (c *Conn) Ready() bool { return c.ready }

// Closing reports whether c is closing or closed. On c's loop only.
func (c *Conn) Closing() bool { return c.closing }

// NextID returns a fresh request id (1, 2, …; never 0).
func (c *Conn) NextID() uint64 {
	c.reqID++
	if uint32(c.reqID) == 0 { // the frame header carries the low 32 bits
		c.reqID++
	}
	return c.reqID
}

// Send encodes r for c's transport and writes it; r.ID is set to NextID
// when 0. MQTT connections send nothing (see Publish). On c's loop only.
func (c *Conn) Send(r *Request) {
	if c.closing || c.gc == nil || c.pool.opts.Transport == MQTT {
		return
	}
	if r.ID == 0 {
		r.ID = c.NextID()
	}
	l := c.loop
	l.buf = AppendEnvelope(l.buf[:0], c.pool.opts.Transport, r, l.rng.Uint32())
	c.write(l.buf)
}

func (c *Conn) write(b []byte) {
	l := c.loop
	if l.cur == c { // inside c's traffic callback: one write at its end
		l.out = append(l.out, b...)
		c.lastOut = l.now
		return
	}
	if _, err := c.gc.Write(b); err != nil {
		c.Close("write_error")
		return
	}
	c.lastOut = c.loop.now
}

// Close closes c with reason (the first reason given wins). A welcomed
// WebSocket sends a close frame first, an MQTT connection accepted by its
// CONNACK a DISCONNECT (normal, so the server publishes no will). On c's
// loop only; the Closed callback follows.
func (c *Conn) Close(reason string) {
	c.closeWith(reason, ws.CloseNormal)
}

func (c *Conn) closeWith(reason string, code uint16) {
	if c.closing || c.gc == nil {
		return
	}
	c.closing = true
	if c.reason == "" {
		c.reason = reason
	}
	if l := c.loop; l.cur == c && len(l.out) > 0 { // what was queued goes first
		_, _ = c.gc.Write(l.out)
		l.out = l.out[:0]
	}
	if c.pool.opts.Transport == MQTT && c.state == stReady {
		_, _ = c.gc.Write(appendDisconnect(c.loop.buf[:0]))
	}
	if c.pool.opts.Transport.IsWS() && c.state != stUpgrade {
		l := c.loop
		var p [2]byte
		p[0], p[1] = byte(code>>8), byte(code)
		l.buf = AppendMasked(l.buf[:0], ws.OpClose, p[:], l.rng.Uint32())
		_, _ = c.gc.Write(l.buf)
	}
	_ = c.gc.Close()
}

// SetLinger0 makes c's close send a reset (no TIME_WAIT). On c's loop only.
func (c *Conn) SetLinger0() {
	if c.gc != nil {
		_ = c.gc.SetLinger(0)
	}
}

// pingUnanswered reports whether c, silent for longer than the idle
// timeout, has also had a ping unanswered for IdleTimeout − heartbeat: a
// sweep that comes late (a stalled bench) pings first instead of blaming
// the server. Without heartbeats, silence alone decides.
func (c *Conn) pingUnanswered(now time.Duration) bool {
	if c.hb <= 0 {
		return true
	}
	return c.pingAt > c.lastIn && now-c.pingAt >= c.pool.opts.IdleTimeout-c.hb
}

func (c *Conn) ping() {
	if c.pingAt <= c.lastIn { // none outstanding: this one starts the clock
		c.pingAt = c.loop.now
	}
	if c.pool.opts.Transport == MQTT {
		c.write(appendPingreq(c.loop.buf[:0]))
		return
	}
	if c.pool.opts.Transport.IsWS() {
		l := c.loop
		l.buf = AppendMasked(l.buf[:0], ws.OpPing, nil, l.rng.Uint32())
		c.write(l.buf)
		return
	}
	c.Send(&Request{Type: pb.Type_TYPE_PING})
}

func (c *Conn) sendHello() {
	h := c.Hello
	c.Send(&Request{Type: pb.Type_TYPE_HELLO, Hello: &h})
}

// consume handles the bytes buffered for c and returns how many it used.
func (c *Conn) consume(buf []byte) int {
	if c.pool.opts.Transport == MQTT {
		return c.consumeMQTT(buf)
	}
	off := 0
	if c.state == stUpgrade {
		n, status, err := ParseUpgradeResponse(buf, c.accept[:])
		if n == 0 && err == nil {
			return 0
		}
		if err != nil {
			switch {
			case status != 0 && status != 101:
				c.Close("upgrade_" + strconv.Itoa(status))
			case errors.Is(err, ErrUpgradeAccept):
				c.Close("upgrade_accept")
			default:
				c.Close("upgrade_bad")
			}
			return len(buf)
		}
		off = n
		c.state = stHello
		c.sendHello()
	}
	maxp := c.pool.opts.MaxPayload
	for off < len(buf) && !c.closing {
		if c.pool.opts.Transport.IsWS() {
			f, n, err := DecodeServerFrame(buf[off:], maxp)
			if err != nil {
				c.Close("ws_protocol")
				return len(buf)
			}
			if n == 0 {
				break
			}
			off += n
			c.onWSFrame(f)
			continue
		}
		f, n, err := frame.Decode(buf[off:], maxp)
		if err != nil {
			c.Close("frame_protocol")
			return len(buf)
		}
		if n == 0 {
			break
		}
		off += n
		m := &c.loop.msg
		if err := ParseProto(f.Payload, m); err != nil {
			c.Close("bad_payload")
			return len(buf)
		}
		if m.Type == 0 {
			m.Type = pb.Type(f.Type)
		}
		if m.ID == 0 {
			m.ID = uint64(f.RequestID)
		}
		c.dispatch(m)
	}
	return off
}

func (c *Conn) onWSFrame(f WSFrame) {
	l := c.loop
	switch f.Op {
	case ws.OpPing: // RFC 6455 §5.5.2: answer with a pong carrying the same data
		l.buf = AppendMasked(l.buf[:0], ws.OpPong, f.Payload, l.rng.Uint32())
		c.write(l.buf)
	case ws.OpPong:
	case ws.OpClose: // §5.5.1: echo the status, then close
		code, _ := ws.ParseClose(f.Payload)
		reason := "ws_close_" + strconv.Itoa(int(code))
		if code == ws.CloseNoStatus {
			code = ws.CloseNormal
		}
		c.closeWith(reason, code)
	case ws.OpContinuation:
		if !c.fragging {
			c.Close("ws_protocol")
			return
		}
		c.frag = append(c.frag, f.Payload...)
		if f.Fin {
			c.fragging = false
			c.deliver(c.fragOp, c.frag)
			c.frag = nil
		}
	default: // text, binary
		if c.fragging {
			c.Close("ws_protocol")
			return
		}
		if !f.Fin {
			c.fragging, c.fragOp = true, f.Op
			c.frag = append(c.frag[:0], f.Payload...)
			return
		}
		c.deliver(f.Op, f.Payload)
	}
}

func (c *Conn) deliver(op ws.OpCode, payload []byte) {
	m := &c.loop.msg
	var err error
	if op == ws.OpText {
		err = ParseJSON(payload, m)
	} else {
		err = ParseProto(payload, m)
	}
	if err != nil {
		c.Close("bad_payload")
		return
	}
	c.dispatch(m)
}

func (c *Conn) dispatch(m *Msg) {
	switch c.state {
	case stHello:
		switch m.Type {
		case pb.Type_TYPE_WELCOME:
			c.state, c.ready, c.Welcomed = stReady, true, c.loop.now
			c.pool.opts.Handler.Ready(c)
		case pb.Type_TYPE_ERROR:
			c.Close("hello_" + pb.CodeName(m.Code))
		case pb.Type_TYPE_GOAWAY:
			c.goaway = true
		}
	case stReady:
		switch m.Type {
		case pb.Type_TYPE_PING:
			c.Send(&Request{Type: pb.Type_TYPE_PONG, ID: m.ID})
		case pb.Type_TYPE_PONG:
		default:
			if m.Type == pb.Type_TYPE_GOAWAY {
				c.goaway = true
			}
			c.pool.opts.Handler.Message(c, m)
		}
	}
}

// Loop is one event loop of a Pool and the connections it owns.
type Loop struct {
	gnet.BuiltinEventEngine
	// Index is the loop's position in Pool.Loops.
	Index int

	pool        *Pool
	cli         *gnet.Client
	cur         *Conn  // the connection whose OnTraffic is running
	out         []byte // what cur sends, written at the end of OnTraffic
	el          atomic.Pointer[elHandle]
	conns       []*Conn
	buf         []byte
	msg         Msg
	pub         Publish                 // MQTT: the PUBLISH handed to Received
	pk          packets.Packet          // MQTT: the packet being encoded
	filter      [1]packets.Subscription // MQTT: SUBSCRIBE's filter list
	rng         *rand.Rand
	now         time.Duration
	lastSweep   time.Duration
	tickPending atomic.Bool
}

type elHandle struct{ el gnet.EventLoop }

// Pool returns the loop's pool.
func (l *Loop) Pool() *Pool { return l.pool }

// Conns returns the loop's open connections. On the loop only; the slice
// changes as connections open and close.
func (l *Loop) Conns() []*Conn { return l.conns }

// Now is the pool clock as of the current callback. On the loop only.
func (l *Loop) Now() time.Duration { return l.now }

// Exec runs fn on the loop. It returns false when the loop cannot run it:
// no connection was ever opened on it, or it has stopped.
func (l *Loop) Exec(fn func()) bool {
	h := l.el.Load()
	if h == nil {
		return false
	}
	err := h.el.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		l.now = l.pool.Now()
		fn()
		return nil
	}))
	return err == nil
}

const minSweep = 200 * time.Millisecond

func (l *Loop) ticker() {
	defer l.pool.tickers.Done()
	t := time.NewTicker(l.pool.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-l.pool.stop:
			return
		case <-t.C:
		}
		if l.tickPending.CompareAndSwap(false, true) && !l.Exec(l.tick) {
			l.tickPending.Store(false)
		}
	}
}

func (l *Loop) tick() {
	l.tickPending.Store(false)
	now := l.now
	l.pool.opts.Handler.Tick(l, now)
	if now-l.lastSweep < max(minSweep, l.pool.opts.Tick) {
		return
	}
	l.lastSweep = now
	o := &l.pool.opts
	for _, c := range l.conns {
		switch {
		case c.closing:
		case !c.ready:
			if now-c.Dialed > o.HandshakeTimeout {
				c.Close("handshake_timeout")
			}
		case o.IdleTimeout > 0 && now-c.lastIn > o.IdleTimeout && c.pingUnanswered(now):
			c.Close("idle_timeout")
		case c.hb > 0 && now-c.lastOut >= c.hb:
			c.ping()
		}
	}
}

// OnOpen starts the handshake: the upgrade request, HELLO, or CONNECT.
func (l *Loop) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c := gc.Context().(*Conn)
	c.gc = gc
	if l.el.Load() == nil {
		l.el.Store(&elHandle{gc.EventLoop()})
	}
	l.now = l.pool.Now()
	c.idx = len(l.conns)
	l.conns = append(l.conns, c)
	l.pool.open.Add(1)
	c.lastIn, c.lastOut = l.now, l.now
	c.hb = l.pool.opts.Heartbeat
	t := l.pool.opts.Transport
	if t == MQTT {
		c.state = stHello
		c.sendConnect()
		return nil, gnet.None
	}
	if !t.IsWS() {
		c.state = stHello
		c.sendHello()
		return nil, gnet.None
	}
	var r [16]byte
	for i := 0; i < 16; i += 8 {
		v := l.rng.Uint64()
		for j := range 8 {
			r[i+j] = byte(v >> (8 * j))
		}
	}
	key := NewKey(r)
	c.accept = AcceptFor(key[:])
	c.state = stUpgrade
	l.buf = AppendUpgradeRequest(l.buf[:0], l.pool.opts.Host, l.pool.opts.Path, key[:], t.Subprotocol())
	c.write(l.buf)
	return nil, gnet.None
}

// OnTraffic decodes what arrived.
func (l *Loop) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*Conn)
	buf, _ := gc.Peek(-1)
	if len(buf) == 0 {
		return gnet.None
	}
	l.now = l.pool.Now()
	c.lastIn = l.now
	if c.closing {
		_, _ = gc.Discard(len(buf))
		return gnet.None
	}
	l.cur, l.out = c, l.out[:0]
	n := c.consume(buf)
	l.cur = nil
	_, _ = gc.Discard(n)
	if len(l.out) > 0 && !c.closing {
		if _, err := gc.Write(l.out); err != nil {
			c.Close("write_error")
		}
	}
	return gnet.None
}

// OnClose reports the close to the handler.
func (l *Loop) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, ok := gc.Context().(*Conn)
	if !ok || c.state == stClosed {
		return gnet.None
	}
	l.now = l.pool.Now()
	last := l.conns[len(l.conns)-1]
	l.conns[c.idx] = last
	last.idx = c.idx
	l.conns[len(l.conns)-1] = nil
	l.conns = l.conns[:len(l.conns)-1]
	l.pool.open.Add(-1)
	reason := c.reason
	if reason == "" {
		switch {
		case err == nil && c.goaway:
			reason = "goaway"
		case err == nil:
			reason = "eof"
		case errors.Is(err, syscall.ECONNRESET):
			reason = "reset"
		default:
			reason = "io_error"
		}
	}
	c.state, c.closing, c.frag = stClosed, true, nil
	l.pool.opts.Handler.Closed(c, reason)
	return gnet.None
}
