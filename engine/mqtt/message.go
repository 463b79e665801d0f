package mqtt

import (
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Message is one published application message. It is immutable once
// published: every subscriber's delivery points at the same Message, from
// any goroutine, so nothing may write to it (or to its slices) after it is
// handed to the broker.
type Message struct {
	// Topic is the topic name (never empty, no wildcards).
	Topic string
	// Payload is the application payload; may be empty.
	Payload []byte
	// QoS is the QoS it was published with (0..2).
	QoS byte
	// Retain is the RETAIN flag it was published with.
	Retain bool

	// MQTT 5 properties passed through to subscribers.
	PayloadFormat    byte // 0 unspecified bytes, 1 UTF-8
	PayloadFormatSet bool
	ContentType      string
	ResponseTopic    string
	CorrelationData  []byte
	User             []packets.UserProperty

	// Created is when the broker received it, Unix nanoseconds.
	Created int64
	// Expires is when it expires, Unix nanoseconds; 0: never (MQTT 5
	// Message Expiry Interval).
	Expires int64
	// Origin is the client identifier of the publisher; "" for messages
	// the server publishes itself.
	Origin string
}

// expired reports whether m has expired at now.
func (m *Message) expired(now int64) bool { return m.Expires != 0 && now >= m.Expires }

// expiryLeft is the Message Expiry Interval to send at now, in whole
// seconds, rounded up [MQTT-3.3.2-6]; 0 when m does not expire.
func (m *Message) expiryLeft(now int64) uint32 {
	if m.Expires == 0 {
		return 0
	}
	left := (m.Expires - now + int64(time.Second) - 1) / int64(time.Second)
	return uint32(max(left, 1))
}

// newMessage copies what a PUBLISH (or a will) carries out of the
// connection's buffer into one Message. topic is the resolved topic name,
// which the caller owns already when it came from an alias.
func newMessage(topic string, payload []byte, qos byte, retain bool, p *packets.Properties, now int64, origin string) *Message {
	m := &Message{
		Topic:            topic,
		QoS:              qos,
		Retain:           retain,
		PayloadFormat:    p.PayloadFormat,
		PayloadFormatSet: p.PayloadFormatFlag,
		Created:          now,
		Origin:           origin,
	}
	// One allocation for the byte fields.
	buf := make([]byte, len(payload)+len(p.CorrelationData))
	m.Payload = buf[:copy(buf, payload):len(payload)]
	if len(p.CorrelationData) > 0 {
		m.CorrelationData = buf[len(payload):]
		copy(m.CorrelationData, p.CorrelationData)
	}
	if p.ContentType != "" {
		m.ContentType = strings.Clone(p.ContentType)
	}
	if p.ResponseTopic != "" {
		m.ResponseTopic = strings.Clone(p.ResponseTopic)
	}
	if len(p.User) > 0 {
		m.User = make([]packets.UserProperty, len(p.User))
		for i, u := range p.User {
			m.User[i] = packets.UserProperty{Key: strings.Clone(u.Key), Val: strings.Clone(u.Val)}
		}
	}
	if p.MessageExpiryInterval > 0 {
		m.Expires = now + int64(p.MessageExpiryInterval)*int64(time.Second)
	}
	return m
}

// delivery is one message on its way to one session: queued, or in
// flight once it has a packet identifier.
type delivery struct {
	m      *Message
	subIDs []uint32 // all subscription identifiers when more than one
	subID  uint32   // the subscription identifier when only one; 0: none
	id     uint16   // packet identifier while in flight
	qos    byte
	retain bool
	state  uint8 // in flight: awaitAck, awaitRec, awaitComp
}

// In-flight states of an outbound QoS 1/2 delivery.
const (
	awaitAck  uint8 = iota + 1 // QoS 1: PUBLISH sent, PUBACK due
	awaitRec                   // QoS 2: PUBLISH sent, PUBREC due
	awaitComp                  // QoS 2: PUBREL sent, PUBCOMP due
)
