package mqtt

import (
	"slices"
	"strings"

	codec "github.com/kefu-im/kefu/codec/mqtt"
	"github.com/mochi-mqtt/server/v2/packets"
)

// publish handles a PUBLISH from the client [MQTT-3.3.4].
func (c *Client) publish(pk *packets.Packet) {
	b, p, s := c.b, &pk.Properties, c.s
	qos, id := pk.FixedHeader.Qos, pk.PacketID
	if len(p.SubscriptionIdentifier) > 0 {
		c.fail(ReasonProtocol) // [MQTT-3.3.4-6]
		return
	}

	// Topic aliases (MQTT 5 §3.3.2.3.4).
	topic, owned := pk.TopicName, false
	if p.TopicAliasFlag {
		a := int(p.TopicAlias)
		if a == 0 || a > b.opts.aliasMax() {
			c.fail(ReasonTopicAlias) // [MQTT-3.3.2-8] [MQTT-3.3.2-9]
			return
		}
		if topic == "" {
			if c.alias == nil || c.alias.in == nil || c.alias.in[a-1] == "" {
				c.fail(ReasonProtocol) // an alias never set on this connection
				return
			}
		} else {
			at := c.aliasTables()
			if at.in == nil {
				at.in = make([]string, b.opts.aliasMax())
			}
			if at.in[a-1] != topic {
				at.in[a-1] = strings.Clone(topic)
			}
		}
		topic, owned = c.alias.in[a-1], true
	}

	retain := pk.FixedHeader.Retain
	if retain && b.opts.DisableRetain {
		if c.v5 {
			c.fail(ReasonRetainUnsupported) // MQTT 5 §3.3.1.3
			return
		}
		retain = false
	}

	// A topic of the bridge (engine/bridge): acknowledged when the bridge
	// says so, not routed.
	br := b.opts.Bridge
	claimed := br != nil && br.Claims(&c.id, topic)

	// QoS 2, receiver side: remember the packet id until PUBREL, deliver
	// once (MQTT 5 §4.3.3 method B). A bridged one is remembered once the
	// bridge acknowledged it (PUBREC after the commit).
	if qos == 2 {
		s.mu.Lock()
		dup := slices.Contains(s.awaitRel, id)
		full := !dup && !claimed && len(s.awaitRel)+s.bridged.open() >= b.opts.ReceiveMaximum
		if !dup && !full && !claimed {
			s.awaitRel = append(s.awaitRel, id)
		}
		s.mu.Unlock()
		if full {
			c.fail(ReasonReceiveMaximum) // [MQTT-3.3.4-9]
			return
		}
		if dup {
			c.sendAck(packets.Pubrec, id, 0) // a resend: acknowledge, do not deliver again
			return
		}
	}

	if a := b.opts.Authorizer; a != nil && !a.CanPublish(&c.id, topic) {
		b.m.aclPublish.Inc()
		b.m.dropped[dropACL].Inc()
		switch qos {
		case 1:
			c.sendAck(packets.Puback, id, 0x87) // 3.1.1: a plain PUBACK, message dropped
		case 2:
			c.sendAck(packets.Pubrec, id, 0x87)
			if c.v5 {
				c.releaseInbound(id) // a PUBREC >= 0x80 ends the exchange
			}
		}
		return
	}

	if claimed {
		c.bridgePublish(br, topic, pk)
		return
	}
	if !owned {
		topic = strings.Clone(topic)
	}
	m := newMessage(topic, pk.Payload, qos, retain, p, b.now(), c.id.ClientID)
	b.m.published.Inc()
	matched, self := b.route(m, s, c.conn)
	if retain {
		b.retain(m) // [MQTT-3.3.1-5]
	}
	var reason byte
	if matched == 0 && c.v5 {
		reason = 0x10 // no matching subscribers
	}
	switch qos {
	case 1:
		c.sendAck(packets.Puback, id, reason) // [MQTT-4.3.2-2]
	case 2:
		c.sendAck(packets.Pubrec, id, reason) // [MQTT-4.3.3-2]
	}
	if self {
		s.mu.Lock()
		if s.owner == c {
			c.pumpLocked(s)
		}
		s.mu.Unlock()
	}
}

func (c *Client) releaseInbound(id uint16) bool {
	s := c.s
	s.mu.Lock()
	i := slices.Index(s.awaitRel, id)
	if i >= 0 {
		s.awaitRel = slices.Delete(s.awaitRel, i, i+1)
	}
	s.mu.Unlock()
	return i >= 0
}

// pubrel completes an inbound QoS 2 exchange [MQTT-4.3.3-11].
func (c *Client) pubrel(pk *packets.Packet) {
	var reason byte
	if !c.releaseInbound(pk.PacketID) && c.v5 {
		reason = 0x92 // packet identifier not found
	}
	c.sendAck(packets.Pubcomp, pk.PacketID, reason)
}

// puback ends an outbound QoS 1 delivery [MQTT-4.3.2].
func (c *Client) puback(pk *packets.Packet) {
	s := c.s
	s.mu.Lock()
	if i := s.findInflight(pk.PacketID); i >= 0 && s.inflight[i].state == awaitAck && s.owner == c {
		s.removeInflight(i)
		c.pumpLocked(s)
	}
	s.mu.Unlock()
}

// pubrec moves an outbound QoS 2 delivery to its release [MQTT-4.3.3].
func (c *Client) pubrec(pk *packets.Packet) {
	s := c.s
	var reason byte
	s.mu.Lock()
	i := s.findInflight(pk.PacketID)
	switch {
	case s.owner != c:
	case i < 0:
		if c.v5 {
			reason = 0x92
		}
		c.sendAck(packets.Pubrel, pk.PacketID, reason)
	case pk.ReasonCode >= 0x80:
		s.removeInflight(i) // the receiver refused it: the exchange ends
		c.pumpLocked(s)
	default:
		s.inflight[i].state = awaitComp
		c.sendAck(packets.Pubrel, pk.PacketID, 0) // [MQTT-4.3.3-4]; again for a repeated PUBREC
	}
	s.mu.Unlock()
}

// pubcomp ends an outbound QoS 2 delivery.
func (c *Client) pubcomp(pk *packets.Packet) {
	s := c.s
	s.mu.Lock()
	if i := s.findInflight(pk.PacketID); i >= 0 && s.inflight[i].state == awaitComp && s.owner == c {
		s.removeInflight(i)
		c.pumpLocked(s)
	}
	s.mu.Unlock()
}

// pumpLocked sends queued deliveries while the in-flight window has room:
// QoS 0 ones as they come, QoS 1 and 2 with a new packet identifier.
// Deliveries leave the queue in order, so a full window holds back the
// QoS 0 messages behind it too. s.mu must be held and s.owner == c.
func (c *Client) pumpLocked(s *session) {
	s.wake = false
	now := int64(0)
	for s.queued() > 0 {
		d := &s.queue[s.head]
		if d.qos > 0 && len(s.inflight) >= int(c.window) {
			return
		}
		dv := s.pop()
		c.b.m.queued.Dec()
		if dv.m.Expires != 0 {
			if now == 0 {
				now = c.b.now()
			}
			if dv.m.expired(now) {
				c.b.m.dropped[dropExpired].Inc() // MQTT 5 §3.3.2.3.3
				continue
			}
		}
		if dv.qos > 0 {
			dv.id = s.allocID()
			dv.state = awaitAck
			if dv.qos == 2 {
				dv.state = awaitRec
			}
		}
		if !c.writePublish(&dv, false, now) {
			continue
		}
		if dv.qos > 0 {
			s.inflight = append(s.inflight, dv)
			c.b.m.inflight.Inc()
		}
	}
}

// resendLocked resends, on a resumed session, every PUBLISH not
// acknowledged (with DUP) and every PUBREL not completed, with their
// original packet identifiers [MQTT-4.4.0-1].
func (c *Client) resendLocked(s *session) {
	for i := 0; i < len(s.inflight); {
		d := &s.inflight[i]
		if d.state == awaitComp {
			c.sendAck(packets.Pubrel, d.id, 0)
			i++
			continue
		}
		if !c.writePublish(d, true, c.b.now()) {
			s.removeInflight(i) // too large for the new connection
			continue
		}
		i++
	}
}

// writePublish encodes one delivery into Out. It returns false, and
// writes nothing, when the packet would exceed the client's Maximum
// Packet Size: the message is then dropped for this client
// [MQTT-3.1.2-25].
func (c *Client) writePublish(d *delivery, dup bool, now int64) bool {
	m := d.m
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: d.qos, Retain: d.retain, Dup: dup},
		TopicName:   m.Topic,
		PacketID:    d.id,
		Payload:     m.Payload,
	}
	var ids [4]int
	var alias uint16
	newAlias := false
	if c.v5 {
		p := &pk.Properties
		p.PayloadFormat, p.PayloadFormatFlag = m.PayloadFormat, m.PayloadFormatSet // [MQTT-3.3.2-4]
		if m.Expires != 0 {
			if now == 0 {
				now = c.b.now()
			}
			p.MessageExpiryInterval = m.expiryLeft(now) // [MQTT-3.3.2-6]
		}
		p.ContentType, p.ResponseTopic = m.ContentType, m.ResponseTopic // [MQTT-3.3.2-20] [MQTT-3.3.2-15]
		p.CorrelationData, p.User = m.CorrelationData, m.User           // [MQTT-3.3.2-16] [MQTT-3.3.2-17]
		switch {
		case len(d.subIDs) > len(ids):
			p.SubscriptionIdentifier = make([]int, len(d.subIDs))
			for i, x := range d.subIDs {
				p.SubscriptionIdentifier[i] = int(x)
			}
		case len(d.subIDs) > 0:
			for i, x := range d.subIDs {
				ids[i] = int(x)
			}
			pk.Properties.SubscriptionIdentifier = ids[:len(d.subIDs)] // not through p: keeps ids on the stack
		case d.subID != 0:
			ids[0] = int(d.subID)
			pk.Properties.SubscriptionIdentifier = ids[:1]
		}
		if c.aliasOutMax > 0 {
			var out map[string]uint16
			if c.alias != nil {
				out = c.alias.out
			}
			if a, ok := out[m.Topic]; ok {
				alias, pk.TopicName = a, "" // MQTT 5 §3.3.2.3.4
			} else if len(out) < int(c.aliasOutMax) {
				alias, newAlias = uint16(len(out)+1), true
			}
			if alias != 0 {
				p.TopicAlias, p.TopicAliasFlag = alias, true
			}
		}
	}
	buf := c.buf()
	out, err := codec.AppendPacket(buf, &pk, c.ver())
	if err != nil || c.maxOut > 0 && len(out)-len(buf) > int(c.maxOut) {
		*c.out = buf
		c.b.m.dropped[dropTooLarge].Inc()
		return false
	}
	*c.out = out
	if newAlias {
		at := c.aliasTables()
		if at.out == nil {
			at.out = make(map[string]uint16, c.aliasOutMax)
		}
		at.out[m.Topic] = alias
	}
	c.b.m.out[packets.Publish].Inc()
	return true
}
