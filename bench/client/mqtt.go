package client

import (
	"math"
	"time"

	"github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// MQTT protocol levels.
const (
	// MQTT311 is MQTT 3.1.1 (protocol level 4).
	MQTT311 byte = 4
	// MQTT5 is MQTT 5.0.
	MQTT5 byte = 5
)

// MQTTConnect is what an MQTT connection says in its CONNECT. Zero values
// take the documented defaults.
type MQTTConnect struct {
	// Version is the protocol level: MQTT311 (the default) or MQTT5.
	Version byte
	// ClientID is the client identifier; empty asks the server for one.
	ClientID string
	// Username is sent when not empty (Kefu: "<site>/<device>").
	Username string
	// Password is sent when not empty (Kefu: a device token).
	Password string
	// Keepalive is the keep alive in seconds. Default: 1.5 × the pool's
	// Heartbeat (the connection pings after Heartbeat of silence, well
	// within it), or 0 (none) when heartbeats are off.
	Keepalive uint16
	// Persistent asks for a session that outlives the connection (clean
	// session 0; MQTT 5: clean start 0 and a session expiry of one hour).
	// Default: a clean session.
	Persistent bool
}

// MQTTHandler is the Handler of an MQTT pool. Ready is called on a
// successful CONNACK, Message never; every method runs on the
// connection's loop.
type MQTTHandler interface {
	Handler
	// Received is called for every PUBLISH from the server, after the
	// connection has answered it (PUBACK for QoS 1, PUBREC for QoS 2). A
	// QoS 2 message resent before its PUBREL is answered again but not
	// passed on: each is received once.
	Received(c *Conn, p *Publish)
	// Acked is called when an exchange that took a packet identifier ends:
	// a PUBLISH of QoS 1 or 2 (Publish) or a SUBSCRIBE (Subscribe).
	Acked(c *Conn, a Ack)
}

// Publish is a received PUBLISH. Topic and Payload alias the connection's
// inbound bytes (and the loop reuses the Publish): valid only during
// MQTTHandler.Received.
type Publish struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Retain   bool
	Dup      bool
	PacketID uint16
}

// Ack ends an exchange started by Conn.Publish (QoS 1 or 2) or
// Conn.Subscribe.
type Ack struct {
	// Type is the packet that ended it: packets.Puback (QoS 1),
	// packets.Pubcomp (QoS 2), packets.Pubrec (QoS 2 refused: Reason ≥
	// 0x80) or packets.Suback.
	Type byte
	// Reason is the MQTT 5 reason code of the acknowledgement (0 before
	// MQTT 5), or the SUBACK return code: the granted QoS, or ≥ 0x80 for a
	// refusal.
	Reason byte
	// Cookie is what the caller gave Publish or Subscribe.
	Cookie uint64
}

// Refused reports whether the server refused the PUBLISH or SUBSCRIBE.
func (a Ack) Refused() bool { return a.Reason >= 0x80 }

// Packet identifier slot states.
const (
	slotFree    uint8 = iota
	slotPub           // PUBLISH sent: waiting for PUBACK (QoS 1) or PUBREC (QoS 2)
	slotPubrel        // PUBREL sent: waiting for PUBCOMP
	slotSub           // SUBSCRIBE sent: waiting for SUBACK
	maxSlots    = 1 << 16
	minSlots    = 16
	defaultRecv = math.MaxUint16 // MQTT 5 §3.2.2.3.3: absent Receive Maximum
)

type mqttSlot struct {
	cookie uint64
	id     uint16
	state  uint8
}

// mqttState is an MQTT connection's protocol state; its loop owns it.
//
// Packet identifiers in use live in slots, a power-of-two table indexed by
// id & (len-1). Identifiers are taken in increasing order, skipping any
// whose slot is busy, so an identifier in use always sits in its own slot
// and a lookup is one probe. The table doubles when full (at most 65,536
// slots: every identifier).
type mqttState struct {
	version byte
	quota   int // the server's Receive Maximum
	slots   []mqttSlot
	used    int
	lastID  uint16
	q2in    []uint16 // QoS 2 received: PUBREC sent, PUBREL not yet
}

// Inflight returns the PUBLISH and SUBSCRIBE exchanges of c not yet ended.
// On c's loop only.
func (c *Conn) Inflight() int { return c.mq.used }

// Quota returns the most exchanges c may have in flight: the server's
// Receive Maximum (MQTT 5 CONNACK), 65,535 before MQTT 5.
func (c *Conn) Quota() int { return c.mq.quota }

// Publish sends a PUBLISH of payload to topic at qos (0, 1 or 2). QoS 1 and
// 2 take a packet identifier, and cookie comes back in MQTTHandler.Acked;
// Publish returns false and sends nothing when Quota exchanges are in
// flight, or when c is not accepted or is closing. On c's loop only.
func (c *Conn) Publish(topic string, qos byte, retain bool, payload []byte, cookie uint64) bool {
	if !c.ready || c.closing || qos > 2 {
		return false
	}
	l := c.loop
	pk := &l.pk
	pk.FixedHeader = packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain}
	pk.TopicName, pk.Payload, pk.PacketID = topic, payload, 0
	if qos > 0 {
		id, ok := c.mq.take(slotPub, cookie)
		if !ok {
			return false
		}
		pk.PacketID = id
	}
	var err error
	l.buf, err = mqtt.AppendPacket(l.buf[:0], pk, c.mq.version)
	pk.Payload = nil
	if err != nil { // a topic over 65,535 bytes or a packet over the format's limit
		if qos > 0 {
			c.mq.release(pk.PacketID)
		}
		return false
	}
	c.write(l.buf)
	return true
}

// Subscribe sends a SUBSCRIBE of one filter at qos; cookie comes back in
// MQTTHandler.Acked with the SUBACK. It returns false like Publish. On c's
// loop only.
func (c *Conn) Subscribe(filter string, qos byte, cookie uint64) bool {
	if !c.ready || c.closing || qos > 2 {
		return false
	}
	id, ok := c.mq.take(slotSub, cookie)
	if !ok {
		return false
	}
	l := c.loop
	l.filter[0] = packets.Subscription{Filter: filter, Qos: qos}
	pk := &l.pk
	pk.FixedHeader = packets.FixedHeader{Type: packets.Subscribe, Qos: 1}
	pk.PacketID, pk.Filters = id, l.filter[:]
	var err error
	l.buf, err = mqtt.AppendPacket(l.buf[:0], pk, c.mq.version)
	pk.Filters = nil
	if err != nil {
		c.mq.release(id)
		return false
	}
	c.write(l.buf)
	return true
}

// sendConnect starts an MQTT connection: CONNECT from c.MQTT.
func (c *Conn) sendConnect() {
	m := &c.MQTT
	c.mq = mqttState{version: m.Version, quota: defaultRecv}
	if c.mq.version != MQTT5 {
		c.mq.version = MQTT311
	}
	ka := m.Keepalive
	if ka == 0 && c.hb > 0 {
		ka = uint16(min(math.Ceil(1.5*c.hb.Seconds()), math.MaxUint16))
	}
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Connect},
		Connect: packets.ConnectParams{
			ClientIdentifier: m.ClientID,
			Keepalive:        ka,
			Clean:            !m.Persistent,
			UsernameFlag:     m.Username != "",
			Username:         []byte(m.Username),
			PasswordFlag:     m.Password != "",
			Password:         []byte(m.Password),
		},
	}
	if m.Persistent && c.mq.version == MQTT5 {
		pk.Properties.SessionExpiryInterval, pk.Properties.SessionExpiryIntervalFlag = 3600, true
	}
	l := c.loop
	var err error
	if l.buf, err = mqtt.AppendPacket(l.buf[:0], &pk, c.mq.version); err != nil {
		c.Close("mqtt_connect_encode")
		return
	}
	c.write(l.buf)
}

// consumeMQTT handles the MQTT packets buffered for c and returns how many
// bytes it used.
func (c *Conn) consumeMQTT(buf []byte) int {
	off := 0
	for off < len(buf) && !c.closing {
		pk, n, err := mqtt.Decode(buf[off:], c.mq.version, c.pool.opts.MaxPayload)
		if err != nil {
			c.Close("mqtt_" + mqtt.Reason(err))
			return len(buf)
		}
		if n == 0 {
			break
		}
		off += n
		if c.state == stHello {
			c.onConnack(&pk)
			continue
		}
		c.onMQTT(&pk)
	}
	return off
}

// onConnack handles the first packet: anything but CONNACK is a protocol
// error [MQTT-3.2.0-1]; a CONNACK with a non-zero code is a refusal.
func (c *Conn) onConnack(pk *packets.Packet) {
	if pk.FixedHeader.Type != packets.Connack {
		c.Close("mqtt_protocol")
		return
	}
	if pk.ReasonCode != 0 {
		c.Close(HexReason("connack_", pk.ReasonCode))
		return
	}
	if c.mq.version == MQTT5 {
		if rm := pk.Properties.ReceiveMaximum; rm > 0 { // 0 is a protocol error; absent = 65,535
			c.mq.quota = int(rm)
		}
		// §3.2.2.3.14: the server's keep alive replaces ours; ping well within it.
		if p := &pk.Properties; p.ServerKeepAliveFlag && p.ServerKeepAlive > 0 {
			if hb := secondsDuration(p.ServerKeepAlive) * 2 / 3; c.hb <= 0 || hb < c.hb {
				c.hb = hb
			}
		}
	}
	c.state, c.ready, c.Welcomed = stReady, true, c.loop.now
	c.pool.opts.Handler.Ready(c)
}

// onMQTT handles a packet after the CONNACK.
func (c *Conn) onMQTT(pk *packets.Packet) {
	l := c.loop
	v := c.mq.version
	switch pk.FixedHeader.Type {
	case packets.Publish:
		qos := pk.FixedHeader.Qos
		switch qos {
		case 1: // [MQTT-4.3.2-2] PUBACK, the same packet id
			c.write(mqtt.AppendAck(l.buf[:0], packets.Puback, pk.PacketID, 0, v))
		case 2: // [MQTT-4.3.3-2] PUBREC; a resend before PUBREL is not a new message
			c.write(mqtt.AppendAck(l.buf[:0], packets.Pubrec, pk.PacketID, 0, v))
			if c.mq.q2Has(pk.PacketID) {
				return
			}
			c.mq.q2in = append(c.mq.q2in, pk.PacketID)
		}
		l.pub = Publish{
			Topic: pk.TopicName, Payload: pk.Payload, QoS: qos,
			Retain: pk.FixedHeader.Retain, Dup: pk.FixedHeader.Dup, PacketID: pk.PacketID,
		}
		c.pool.mh.Received(c, &l.pub)
	case packets.Pubrel: // [MQTT-4.3.3-11] PUBCOMP, the same packet id
		c.mq.q2Del(pk.PacketID)
		c.write(mqtt.AppendAck(l.buf[:0], packets.Pubcomp, pk.PacketID, 0, v))
	case packets.Puback:
		c.ackSlot(pk, slotPub)
	case packets.Pubrec:
		s := c.mq.lookup(pk.PacketID)
		if s == nil || s.state != slotPub {
			// MQTT 5 §3.6.2.1: PUBREL with 0x92, packet identifier not found
			c.write(mqtt.AppendAck(l.buf[:0], packets.Pubrel, pk.PacketID, 0x92, v))
			return
		}
		if pk.ReasonCode >= 0x80 { // refused: the exchange ends here
			c.ackSlot(pk, slotPub)
			return
		}
		s.state = slotPubrel
		c.write(mqtt.AppendAck(l.buf[:0], packets.Pubrel, pk.PacketID, 0, v))
	case packets.Pubcomp:
		c.ackSlot(pk, slotPubrel)
	case packets.Suback:
		c.ackSlot(pk, slotSub)
	case packets.Pingresp:
	case packets.Disconnect: // MQTT 5: the server's reason for closing
		c.Close(HexReason("disconnect_", pk.ReasonCode))
	default: // a server sends no CONNECT, SUBSCRIBE, PINGREQ, … [MQTT-4.8.0-1]
		c.Close("mqtt_protocol")
	}
}

// ackSlot ends the exchange of pk's packet id, which must be in state
// want; an acknowledgement of an unknown identifier is ignored.
func (c *Conn) ackSlot(pk *packets.Packet, want uint8) {
	s := c.mq.lookup(pk.PacketID)
	if s == nil || s.state != want {
		return
	}
	a := Ack{Type: pk.FixedHeader.Type, Reason: pk.ReasonCode, Cookie: s.cookie}
	if a.Type == packets.Suback && len(pk.ReasonCodes) > 0 {
		a.Reason = pk.ReasonCodes[0]
	}
	c.mq.release(pk.PacketID)
	c.pool.mh.Acked(c, a)
}

// take reserves a packet identifier for an exchange in state st.
func (m *mqttState) take(st uint8, cookie uint64) (uint16, bool) {
	if m.used >= m.quota {
		return 0, false
	}
	if m.used == len(m.slots) {
		m.grow()
	}
	mask := uint16(len(m.slots) - 1)
	for {
		m.lastID++
		if m.lastID == 0 { // [MQTT-2.2.1-3] identifiers are non-zero
			m.lastID = 1
		}
		s := &m.slots[m.lastID&mask]
		if s.state == slotFree {
			*s = mqttSlot{cookie: cookie, id: m.lastID, state: st}
			m.used++
			return m.lastID, true
		}
	}
}

// grow doubles the slot table. Two identifiers in use never share a slot
// of the larger table: equal modulo 2n means equal modulo n.
func (m *mqttState) grow() {
	n := max(minSlots, 2*len(m.slots))
	if n > maxSlots {
		panic("BUG: more than 65,535 packet identifiers in use")
	}
	old := m.slots
	m.slots = make([]mqttSlot, n)
	for _, s := range old {
		if s.state != slotFree {
			m.slots[int(s.id)&(n-1)] = s
		}
	}
}

func (m *mqttState) lookup(id uint16) *mqttSlot {
	if len(m.slots) == 0 {
		return nil
	}
	s := &m.slots[int(id)&(len(m.slots)-1)]
	if s.state == slotFree || s.id != id {
		return nil
	}
	return s
}

func (m *mqttState) release(id uint16) {
	if s := m.lookup(id); s != nil {
		*s = mqttSlot{}
		m.used--
	}
}

func (m *mqttState) q2Has(id uint16) bool {
	for _, x := range m.q2in {
		if x == id {
			return true
		}
	}
	return false
}

func (m *mqttState) q2Del(id uint16) {
	for i, x := range m.q2in {
		if x == id {
			m.q2in[i] = m.q2in[len(m.q2in)-1]
			m.q2in = m.q2in[:len(m.q2in)-1]
			return
		}
	}
}

// appendPingreq appends a PINGREQ [MQTT-3.12].
func appendPingreq(dst []byte) []byte { return append(dst, packets.Pingreq<<4, 0) }

// appendDisconnect appends a DISCONNECT: in both versions the two-byte
// form (MQTT 5 §3.14.2.1: reason 0x00, normal disconnection).
func appendDisconnect(dst []byte) []byte { return append(dst, packets.Disconnect<<4, 0) }

// hexReason is a close label with a reason code: "connack_0x86".
func HexReason(prefix string, code byte) string {
	const digits = "0123456789abcdef"
	return prefix + "0x" + string([]byte{digits[code>>4], digits[code&0xF]})
}

func secondsDuration(s uint16) time.Duration { return time.Duration(s) * time.Second }
