package mqtt

import (
	"errors"
	"strings"
	"sync/atomic"
	"time"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Client states, owned by the event loop.
const (
	stNew       uint8 = iota // waiting for CONNECT
	stConnected              // CONNACK sent
	stClosed                 // Closed was called
)

// Actions is what the event loop does after a call on a Client: write Out
// to the connection, in order, then close it when Close is set. Out belongs
// to the Client and is valid until the next call on it (or Release).
type Actions struct {
	Out    []byte
	Close  bool
	Reason Reason
}

// Client is the protocol state of one MQTT connection. Everything but
// Goodbye, KeepAlive and Version must be called from the connection's event
// loop only, one call at a time; the broker reaches the client from other
// goroutines through its session (deliveries) and its kick flag
// (takeover, slow consumer), then Conn.Wake, which makes the loop call
// Drain.
type Client struct {
	b    *Broker
	conn Conn
	s    *session

	// Shared with other goroutines.
	kick      atomic.Uint32 // a Reason to close with, set by setKick
	version   atomic.Uint32 // protocol level once CONNACK is sent, else 0
	keepAlive atomic.Uint32 // 1.5 × keep alive, ms (at most 98,302,500); 0: none

	// Event loop only. Kept small (one per idle connection): what few
	// clients use (a will, topic aliases) hangs off pointers, allocated
	// when first needed.
	state       uint8
	v5          bool
	closing     bool
	reason      Reason
	aliasOutMax uint16 // aliases the broker may assign towards the client
	window      uint16 // outbound in-flight window (MaxInflight is at most 65,535)
	maxOut      uint32 // client's Maximum Packet Size; 0: none
	will        *clientWill
	id          Identity
	alias       *aliases // nil until the first alias in either direction
	out         *[]byte
}

// clientWill is the will of a connected client, with its delays.
type clientWill struct {
	msg   *Message
	delay int64 // Will Delay Interval, ns (MQTT 5)
	exp   int64 // Message Expiry Interval, ns
}

// aliases are a connection's topic alias tables (MQTT 5 §3.3.2.3.4).
type aliases struct {
	in  []string          // inbound topic aliases, index alias-1
	out map[string]uint16 // outbound topic aliases
}

// aliasTables returns the connection's alias tables, made on first use.
func (c *Client) aliasTables() *aliases {
	if c.alias == nil {
		c.alias = &aliases{}
	}
	return c.alias
}

// Version is the protocol level (4 or 5) once the client is connected, 0
// before. Any goroutine.
func (c *Client) Version() byte { return byte(c.version.Load()) }

// KeepAlive is how long the connection may stay silent before the
// engine closes it with ReasonKeepAlive: 1.5 × the keep alive in force
// [MQTT-3.1.2-24]; 0 for none. Set when CONNECT is accepted. Any goroutine.
func (c *Client) KeepAlive() time.Duration {
	return time.Duration(c.keepAlive.Load()) * time.Millisecond
}

// Identity is who the client authenticated as (after CONNECT).
func (c *Client) Identity() *Identity { return &c.id }

// Connected reports whether CONNECT was accepted and the client is not
// closed.
func (c *Client) Connected() bool { return c.state == stConnected && !c.closing }

// setKick asks the client's loop to close it with r; the first reason
// wins. It reports whether this call set it (the caller then wakes conn).
func (c *Client) setKick(r Reason) bool { return c.kick.CompareAndSwap(0, uint32(r)) }

func (c *Client) ver() byte {
	if c.v5 {
		return 5
	}
	return 4
}

// begin starts a call: the previous Out is spent.
func (c *Client) begin() {
	if c.out != nil {
		*c.out = (*c.out)[:0]
	}
}

func (c *Client) buf() []byte {
	if c.out == nil {
		c.out = c.b.opts.Pool.Get(256)
	}
	return *c.out
}

// result ends a call.
func (c *Client) result() Actions {
	if !c.closing && c.state == stConnected {
		if r := Reason(c.kick.Load()); r != 0 {
			c.fail(r)
		}
	}
	a := Actions{Close: c.closing, Reason: c.reason}
	if c.out != nil {
		a.Out = *c.out
	}
	return a
}

// Release hands the output buffer back to the pool; the engine calls it
// once Out is written, so that an idle connection holds no buffer.
func (c *Client) Release() {
	if c.out != nil {
		c.b.opts.Pool.Put(c.out)
		c.out = nil
	}
}

// send appends a packet the broker built; it cannot fail.
func (c *Client) send(pk *packets.Packet) {
	out, err := codec.AppendPacket(c.buf(), pk, c.ver())
	if err != nil {
		panic("BUG: encoding a broker packet: " + err.Error())
	}
	*c.out = out
	c.b.m.out[pk.FixedHeader.Type].Inc()
}

func (c *Client) sendAck(typ byte, id uint16, reason byte) {
	*c.out = codec.AppendAck(c.buf(), typ, id, reason, c.ver())
	c.b.m.out[typ].Inc()
}

// fail closes the connection with r: an MQTT 5 client is told with a
// DISCONNECT carrying r's reason code [MQTT-4.13.2-1].
func (c *Client) fail(r Reason) {
	if c.closing {
		return
	}
	c.closing, c.reason = true, r
	c.b.m.disconnects[r].Inc()
	if c.state == stConnected && c.v5 && r != ReasonNormal {
		c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect}, ReasonCode: r.disconnectCode()})
	}
}

// refuse answers a CONNECT with a CONNACK carrying r's code (the 3.1.1
// return code for level 3 and 4, or no CONNACK when 3.1.1 has none) and
// closes [MQTT-3.2.2-6].
func (c *Client) refuse(version byte, r Reason) {
	c.closing, c.reason = true, r
	c.b.m.disconnects[r].Inc()
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, ReasonCode: r.Code()}
	v := byte(5)
	if version != 5 {
		v3, ok := codec.V3Code(r.Code())
		if !ok {
			return
		}
		ack.ReasonCode, v = v3, 4
	}
	out, _ := codec.AppendPacket(c.buf(), &ack, v)
	*c.out = out
	c.b.m.out[packets.Connack].Inc()
}

// HandlePacket acts on one decoded packet. pk aliases the connection's
// read buffer; the Client copies what it keeps.
func (c *Client) HandlePacket(pk *packets.Packet) Actions {
	c.begin()
	typ := pk.FixedHeader.Type
	c.b.m.in[typ&0x0F].Inc()
	switch {
	case c.closing || c.state == stClosed:
		return Actions{Close: true, Reason: c.reason}
	case c.state == stNew:
		if typ != packets.Connect {
			c.fail(ReasonProtocol) // [MQTT-3.1.0-1] no CONNACK
		} else {
			c.connect(pk)
		}
		return c.result()
	}
	if r := Reason(c.kick.Load()); r != 0 {
		c.fail(r) // taken over or too slow: act on nothing more
		return c.result()
	}
	switch typ {
	case packets.Publish:
		c.publish(pk)
	case packets.Puback:
		c.puback(pk)
	case packets.Pubrec:
		c.pubrec(pk)
	case packets.Pubrel:
		c.pubrel(pk)
	case packets.Pubcomp:
		c.pubcomp(pk)
	case packets.Subscribe:
		c.subscribe(pk)
	case packets.Unsubscribe:
		c.unsubscribe(pk)
	case packets.Pingreq:
		*c.out = codec.AppendPingresp(c.buf()) // [MQTT-3.12.4-1]
		c.b.m.out[packets.Pingresp].Inc()
	case packets.Disconnect:
		c.disconnect(pk)
	default:
		// A second CONNECT [MQTT-3.1.0-2], AUTH without an authentication
		// method [MQTT-4.12.0-1], or a packet only servers send.
		c.fail(ReasonProtocol)
	}
	return c.result()
}

// DecodeError closes the connection after the codec refused a packet. pk
// is what Decode returned with the error (its type and, for CONNECT, its
// protocol level tell whether a CONNACK is due).
func (c *Client) DecodeError(pk *packets.Packet, err error) Actions {
	c.begin()
	r := reasonForCode(codec.Code(err))
	switch {
	case c.closing || c.state == stClosed:
	case c.state == stNew && errors.Is(err, codec.ErrBadProtocolName):
		c.fail(r) // not MQTT: closed without CONNACK [MQTT-3.1.2-1]
	case c.state == stNew && pk.FixedHeader.Type == packets.Connect:
		v := pk.ProtocolVersion
		if errors.Is(err, codec.ErrUnsupportedVersion) {
			v = 4 // answer an unknown level in the 3.1.1 format [MQTT-3.1.2-2]
		}
		c.refuse(v, r)
	case r == ReasonBadVersion || r == ReasonBadClientID:
		c.fail(ReasonProtocol) // a CONNECT after CONNECT [MQTT-3.1.0-2]
	default:
		c.fail(r)
	}
	return c.result()
}

// Drain moves deliveries queued by other goroutines into Out, as far as
// the in-flight window allows, writes the acknowledgements a Bridge gave
// (Ticket.Ack) for PUBLISHes of this connection, and acts on a pending
// kick. The engine calls it when Conn.Wake fires.
func (c *Client) Drain() Actions {
	c.begin()
	if c.state == stConnected && !c.closing {
		s := c.s
		s.mu.Lock()
		if s.owner == c {
			c.pumpLocked(s)
			c.flushHeldLocked(s)
		}
		s.mu.Unlock()
	}
	return c.result()
}

// Disconnect closes the connection for a reason the engine decided
// (ReasonKeepAlive, ReasonShutdown, ReasonAdministrative, …): an MQTT 5
// client gets a DISCONNECT with the reason code. The will is published.
func (c *Client) Disconnect(r Reason) Actions {
	c.begin()
	if c.state == stNew {
		c.closing, c.reason = true, r
		c.b.m.disconnects[r].Inc()
		return c.result()
	}
	c.fail(r)
	return c.result()
}

// Goodbye returns the DISCONNECT to send before closing for r from outside
// the event loop (the engine's ticker, for ReasonKeepAlive): nil unless the
// client speaks MQTT 5. It counts the disconnect and otherwise leaves the
// Client alone: Closed, on the loop, does the rest (the will is
// published). Any goroutine.
func (c *Client) Goodbye(r Reason) []byte {
	c.b.m.disconnects[r].Inc()
	if c.Version() != 5 {
		return nil
	}
	b, _ := codec.AppendPacket(nil, &packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Disconnect},
		ReasonCode: r.disconnectCode()}, 5)
	return b
}

// Closed tells the client its connection is gone, whatever the cause. It
// publishes the will unless the client sent a normal DISCONNECT, and
// leaves the session to expire (or ends it). Call it exactly once, from
// the loop, after the last other call.
func (c *Client) Closed() {
	prev := c.state
	c.state = stClosed
	c.Release()
	if prev != stConnected {
		return
	}
	c.b.m.clients.Dec()
	var w clientWill
	if c.will != nil {
		w = *c.will
	}
	if m := c.b.detach(c, w.msg, w.delay, w.exp); m != nil {
		c.b.publishWill(m, w.exp) // [MQTT-3.1.2-8]
	}
	c.will, c.alias = nil, nil
}

// connect handles the first packet [MQTT-3.1.4].
func (c *Client) connect(pk *packets.Packet) {
	b, cp, p := c.b, &pk.Connect, &pk.Properties
	v := pk.ProtocolVersion
	switch {
	case v != 4 && v != 5:
		c.refuse(4, ReasonBadVersion) // [MQTT-3.1.2-2]
		return
	case v == 5 && p.AuthenticationMethod != "":
		c.refuse(v, ReasonBadAuthMethod) // enhanced authentication unsupported
		return
	}
	c.v5 = v == 5
	clientID, assigned := cp.ClientIdentifier, false
	switch {
	case clientID == "" && v == 4 && !cp.Clean:
		c.refuse(v, ReasonBadClientID) // [MQTT-3.1.3-8]
		return
	case clientID == "":
		clientID, assigned = b.assignID(), true // [MQTT-3.1.3-6]
	case len(clientID) > b.opts.MaxClientIDLen:
		c.refuse(v, ReasonBadClientID) // [MQTT-3.1.3-5]
		return
	default:
		clientID = strings.Clone(clientID)
	}

	// Authentication [MQTT-3.1.4-2].
	id := Identity{ClientID: clientID, Username: userName(clientID, cp.Username)}
	if b.opts.Authenticator != nil {
		got, err := b.opts.Authenticator.AuthenticateMQTT(clientID, id.Username, cp.Password)
		if err != nil {
			b.m.authFailures.Inc()
			r := ReasonBadCredentials
			if errors.Is(err, ErrNotAuthorized) {
				r = ReasonNotAuthorized
			}
			c.refuse(v, r)
			return
		}
		id = got
		id.ClientID = clientID
	}
	c.id = id

	t := b.now()
	if cp.WillFlag {
		switch {
		case cp.WillRetain && b.opts.DisableRetain:
			c.refuse(v, ReasonRetainUnsupported) // [MQTT-3.2.2-13]
			return
		case b.opts.Authorizer != nil && !b.opts.Authorizer.CanPublish(&c.id, cp.WillTopic):
			b.m.aclPublish.Inc()
			c.refuse(v, ReasonNotAuthorized)
			return
		}
		wp := &cp.WillProperties
		w := &clientWill{msg: newMessage(strings.Clone(cp.WillTopic), cp.WillPayload, cp.WillQos, cp.WillRetain, wp, t, clientID)}
		w.msg.Expires = 0 // stamped when published
		w.exp = int64(wp.MessageExpiryInterval) * int64(time.Second)
		if c.v5 {
			w.delay = int64(wp.WillDelayInterval) * int64(time.Second)
		}
		c.will = w
	}

	// Keep alive [MQTT-3.1.2-24]; the server may impose its own (MQTT 5
	// §3.2.2.3.14).
	ka := time.Duration(cp.Keepalive) * time.Second
	serverKA := false
	if mk := b.opts.MaxKeepAlive; mk > 0 && (ka == 0 || ka > mk) {
		ka, serverKA = mk, true
	}
	// Whole seconds × 1.5 are whole milliseconds; a MaxKeepAlive below
	// that resolution is rounded up, never to 0 (none).
	c.keepAlive.Store(uint32((ka*3/2 + time.Millisecond - 1) / time.Millisecond))

	// The client's limits (MQTT 5 §3.1.2.11).
	window := b.opts.MaxInflight // at most 65,535 (Options.Validate)
	if c.v5 {
		if p.ReceiveMaximum > 0 {
			window = min(window, int(p.ReceiveMaximum))
		}
		c.maxOut = p.MaximumPacketSize
		c.aliasOutMax = uint16(min(int(p.TopicAliasMaximum), max(b.opts.MaxTopicAliasesOut, 0)))
	}
	c.window = uint16(window)

	// Session expiry: 3.1.1 clean session 0 keeps the session for
	// MaxSessionExpiry; MQTT 5 asks for an interval, capped.
	var expiry int64
	capped := false
	maxExp := int64(b.opts.MaxSessionExpiry)
	switch {
	case c.v5 && p.SessionExpiryIntervalFlag:
		expiry = int64(p.SessionExpiryInterval) * int64(time.Second)
		if p.SessionExpiryInterval == 0xFFFFFFFF || expiry > maxExp {
			expiry, capped = maxExp, true
		}
	case !c.v5 && !cp.Clean:
		expiry = maxExp
	}

	s, present := b.attach(c, clientID, cp.Clean, expiry, v)
	c.s = s

	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connack}, SessionPresent: present}
	if c.v5 {
		ap := &ack.Properties
		if assigned {
			ap.AssignedClientID = clientID // [MQTT-3.2.2-16]
		}
		ap.ReceiveMaximum = uint16(b.opts.ReceiveMaximum)
		if b.opts.MaxPacketSize < codec.HardMaxPacket {
			ap.MaximumPacketSize = uint32(b.opts.MaxPacketSize)
		}
		ap.TopicAliasMaximum = uint16(b.opts.aliasMax())
		if serverKA {
			ap.ServerKeepAlive, ap.ServerKeepAliveFlag = uint16(ka/time.Second), true
		}
		if capped {
			ap.SessionExpiryInterval = uint32(expiry / int64(time.Second))
			ap.SessionExpiryIntervalFlag = true
		}
		if b.opts.DisableRetain {
			ap.RetainAvailable, ap.RetainAvailableFlag = 0, true
		}
		if b.opts.DisableWildcards {
			ap.WildcardSubAvailable, ap.WildcardSubAvailableFlag = 0, true
		}
		if b.opts.DisableSubIDs {
			ap.SubIDAvailable, ap.SubIDAvailableFlag = 0, true
		}
		if b.opts.DisableShared {
			ap.SharedSubAvailable, ap.SharedSubAvailableFlag = 0, true
		}
	}
	c.send(&ack)
	c.state = stConnected
	c.version.Store(uint32(v))
	b.m.clients.Inc()

	// Resume: resend what was in flight, then what waited [MQTT-4.4.0-1].
	s.mu.Lock()
	if s.owner == c {
		c.resendLocked(s)
		c.pumpLocked(s)
	}
	s.mu.Unlock()
	if br := b.opts.Bridge; br != nil {
		br.Active(&c.id)
	}
}

// userName is the CONNECT user name as a string. Devices usually take
// their user name, or the user name and a suffix, as client identifier:
// the user name is then that part of clientID (no copy of its own).
func userName(clientID string, user []byte) string {
	if len(user) <= len(clientID) && clientID[:len(user)] == string(user) {
		return clientID[:len(user)]
	}
	return string(user)
}

// disconnect handles a DISCONNECT from the client [MQTT-3.14.4].
func (c *Client) disconnect(pk *packets.Packet) {
	if c.v5 {
		if p := &pk.Properties; p.SessionExpiryIntervalFlag {
			s := c.s
			s.mu.Lock()
			bad := s.expiry == 0 && p.SessionExpiryInterval != 0 // [MQTT-3.14.2-2]
			if !bad && s.owner == c {
				s.expiry = min(int64(p.SessionExpiryInterval)*int64(time.Second), int64(c.b.opts.MaxSessionExpiry))
			}
			s.mu.Unlock()
			if bad {
				c.fail(ReasonProtocol)
				return
			}
		}
	}
	if !c.v5 || pk.ReasonCode != 0x04 {
		c.will = nil // [MQTT-3.14.4-3]; 0x04: disconnect with will message
	}
	c.closing, c.reason = true, ReasonNormal
	c.b.m.disconnects[ReasonNormal].Inc()
}
