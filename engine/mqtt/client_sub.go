package mqtt

import (
	"slices"

	"github.com/mochi-mqtt/server/v2/packets"
)

// failCode is a SUBACK or UNSUBACK failure code: code on MQTT 5, 0x80 in
// 3.1.1, which has no other [MQTT-3.9.3-2].
func (c *Client) failCode(code byte) byte {
	if c.v5 {
		return code
	}
	return 0x80
}

// retainedFor is a retained message owed to a new subscription.
type retainedFor struct {
	m     *Message
	qos   byte
	subID uint32
}

// subscribe handles a SUBSCRIBE [MQTT-3.8.4]: every filter is validated,
// authorized and granted or refused on its own (a refused filter is never
// granted and then dropped), the SUBACK lists the outcome per filter, and
// the retained messages the subscriptions ask for follow it.
func (c *Client) subscribe(pk *packets.Packet) {
	b, s := c.b, c.s
	var subID uint32
	if ids := pk.Properties.SubscriptionIdentifier; len(ids) > 0 {
		if b.opts.DisableSubIDs {
			c.fail(ReasonSubIDUnsupported) // MQTT 5 §3.8.2.1.2
			return
		}
		subID = uint32(ids[0])
	}
	codes := make([]byte, len(pk.Filters))
	var owed []retainedFor
	for i := range pk.Filters {
		f := &pk.Filters[i]
		group, filter, ok := parseFilter(f.Filter)
		var code byte
		switch {
		case !ok:
			code = c.failCode(0x8F) // topic filter invalid [MQTT-4.7.1-1]
		case group != "" && f.NoLocal:
			c.fail(ReasonProtocol) // [MQTT-3.8.3-4]
			return
		case group != "" && b.opts.DisableShared:
			code = c.failCode(0x9E)
		case b.opts.DisableWildcards && hasWildcard(filter):
			code = c.failCode(0xA2)
		case b.opts.Authorizer != nil && !b.opts.Authorizer.CanSubscribe(&c.id, filter):
			b.m.aclSubscribe.Inc()
			code = c.failCode(0x87)
		default:
			o := subOpts{id: subID, qos: f.Qos}
			var rh byte
			if c.v5 {
				o.noLocal, o.rap, rh = f.NoLocal, f.RetainAsPublished, f.RetainHandling
			}
			existed, added := s.addSub(c, f.Filter, rh, o)
			if !added {
				code = c.failCode(0x97) // quota exceeded
				break
			}
			code = f.Qos // granted [MQTT-3.9.3-1]
			// Retained messages: never for shared subscriptions; retain
			// handling 0 always, 1 only for a new subscription, 2 never
			// (MQTT 5 §3.8.3.1).
			if group == "" && (rh == 0 || rh == 1 && !existed) {
				for _, m := range b.retained.match(filter, nil) {
					owed = append(owed, retainedFor{m, min(m.QoS, f.Qos), subID})
				}
			}
		}
		codes[i] = code
	}
	c.send(&packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Suback}, PacketID: pk.PacketID, ReasonCodes: codes})
	if br := b.opts.Bridge; br != nil && slices.ContainsFunc(codes, func(x byte) bool { return x < 0x80 }) {
		br.Active(&c.id) // it may listen to what the bridge publishes now
	}
	if len(owed) == 0 {
		return
	}
	now := b.now()
	for _, r := range owed {
		if r.m.expired(now) {
			continue
		}
		// RETAIN is set on messages sent for a new subscription
		// [MQTT-3.3.1-8]. They go through the session's queue, after the
		// SUBACK, dropped beyond MaxQueued rather than kicking the client.
		s.enqueue(delivery{m: r.m, qos: r.qos, retain: true, subID: r.subID}, true)
	}
	s.mu.Lock()
	if s.owner == c {
		c.pumpLocked(s)
	}
	s.mu.Unlock()
}

// unsubscribe handles an UNSUBSCRIBE [MQTT-3.10.4].
func (c *Client) unsubscribe(pk *packets.Packet) {
	codes := make([]byte, len(pk.Filters))
	for i := range pk.Filters {
		raw := pk.Filters[i].Filter
		switch _, _, ok := parseFilter(raw); {
		case !ok:
			codes[i] = 0x8F
		case c.s.removeSub(c, raw):
			codes[i] = 0x00
		default:
			codes[i] = 0x11 // no subscription existed
		}
	}
	ack := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Unsuback}, PacketID: pk.PacketID}
	if c.v5 {
		ack.ReasonCodes = codes // [MQTT-3.11.3-1]
	}
	c.send(&ack)
}
