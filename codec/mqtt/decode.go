package mqtt

import (
	"encoding/binary"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Decode decodes the packet at the start of src. It returns the packet and
// the number of bytes it occupies, n > 0; or n == 0 and a nil error when src
// does not hold a whole packet yet; or n == 0 and an error. The fixed header
// is checked as soon as its bytes are present (DecodeHeader), so an
// oversized packet fails with ErrTooLarge before its body is buffered.
//
// version is the connection's protocol level: 4 (3.1.1) or 5; 0 before
// CONNECT (bodies are then read as 3.1.1). A CONNECT carries its own level,
// which Decode reads and returns in pk.ProtocolVersion; with
// ErrUnsupportedVersion pk.ProtocolVersion still holds the level read, for
// the CONNACK.
//
// The body is validated by a walk over exactly the packet bytes (field
// bounds, reserved bits, UTF-8, wildcards in topic names, packet id 0,
// property identifiers, duplicates and ranges, reason codes, empty
// subscription lists), then decoded by mochi's decoder for the type with
// ProtocolVersion set. Acknowledgements without properties, PINGREQ,
// PINGRESP and the short forms of DISCONNECT and AUTH are decoded here
// directly. Strings and byte slices in pk alias src: see Detach.
func Decode(src []byte, version byte, maxPacket int) (pk packets.Packet, n int, err error) {
	h, err := DecodeHeader(src, version, maxPacket)
	if err != nil || h.Len == 0 || len(src) < h.Size() {
		return pk, 0, err
	}
	n = h.Size()
	if version == 0 {
		version = 4
	}
	pk.ProtocolVersion = version
	pk.FixedHeader = packets.FixedHeader{Type: h.Type, Remaining: h.Remaining}
	if h.Type == packets.Publish || h.Type == packets.Pubrel ||
		h.Type == packets.Subscribe || h.Type == packets.Unsubscribe {
		pk.FixedHeader.Qos = h.QoS()
	}
	if h.Type == packets.Publish {
		pk.FixedHeader.Dup = h.Flags&0x08 != 0
		pk.FixedHeader.Retain = h.Flags&0x01 != 0
	}
	if err = decodeBody(&pk, src[h.Len:n:n]); err != nil {
		return pk, 0, err
	}
	return pk, n, nil
}

func decodeBody(pk *packets.Packet, b []byte) error {
	v5 := pk.ProtocolVersion >= 5
	switch pk.FixedHeader.Type {
	case packets.Connect:
		return decodeConnect(pk, b)
	case packets.Connack:
		return decodeConnack(pk, b, v5)
	case packets.Publish:
		return decodePublish(pk, b, v5)
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		return decodeAck(pk, b, v5)
	case packets.Subscribe:
		return decodeSubscribe(pk, b, v5)
	case packets.Suback, packets.Unsuback:
		return decodeSubUnsubAck(pk, b, v5)
	case packets.Unsubscribe:
		return decodeUnsubscribe(pk, b, v5)
	case packets.Pingreq, packets.Pingresp:
		if len(b) != 0 {
			return ErrBadLength // [MQTT-3.12] [MQTT-3.13] no body
		}
		return nil
	case packets.Disconnect:
		return decodeDisconnect(pk, b, v5)
	case packets.Auth:
		return decodeAuth(pk, b)
	}
	return ErrBadType
}

func decodeConnect(pk *packets.Packet, b []byte) error {
	c := cursor{b: b}
	name := c.bin()
	level := c.u8()
	if c.err != nil {
		return ErrMalformed
	}
	pk.ProtocolVersion = level
	switch {
	case string(name) == "MQTT" && (level == 4 || level == 5):
	case string(name) == "MQIsdp" && level == 3:
	case string(name) == "MQTT" || string(name) == "MQIsdp":
		return ErrUnsupportedVersion // [MQTT-3.1.2-2]
	default:
		return ErrBadProtocolName // [MQTT-3.1.2-1]
	}
	flags := c.u8()
	if c.err != nil {
		return c.err
	}
	will, wqos, wretain := flags&0x04 != 0, flags>>3&3, flags&0x20 != 0
	user, pass := flags&0x80 != 0, flags&0x40 != 0
	switch {
	case flags&0x01 != 0:
		return ErrBadFlags // [MQTT-3.1.2-3] reserved bit
	case wqos == 3:
		return ErrBadQoS // [MQTT-3.1.2-12]
	case !will && (wqos != 0 || wretain):
		return ErrBadFlags // [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15]
	case level < 5 && pass && !user:
		return ErrProtocol // [MQTT-3.1.2-22]
	}
	c.u16() // keep alive
	if level >= 5 {
		c.props(packets.Connect)
	}
	if c.err != nil {
		return c.err
	}
	c.str() // client identifier [MQTT-3.1.3-4]
	if c.err == ErrBadUTF8 {
		return ErrBadClientID
	}
	if will {
		if level >= 5 {
			c.props(kindWill)
		}
		if t := c.str(); c.err == nil && (len(t) == 0 || hasWildcard(t)) {
			return ErrTopicInvalid // will topic is a topic name [MQTT-3.1.3-9]
		}
		c.bin() // will payload
	}
	if user {
		c.str() // [MQTT-3.1.3-11] user name is a UTF-8 string
	}
	if pass {
		c.bin()
	}
	if c.err != nil {
		return c.err
	}
	if c.off != len(b) {
		return ErrMalformed // bytes after the last field
	}
	if err := pk.ConnectDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeConnack(pk *packets.Packet, b []byte, v5 bool) error {
	if len(b) < 2 || !v5 && len(b) != 2 {
		return ErrBadLength
	}
	if b[0]&0xFE != 0 {
		return ErrBadFlags // [MQTT-3.2.2-1]
	}
	if v5 && !validReason(packets.Connack, b[1]) || !v5 && b[1] > 5 {
		return ErrProtocol
	}
	if v5 {
		c := cursor{b: b, off: 2}
		if c.props(packets.Connack); c.err != nil {
			return c.err
		}
		if c.off != len(b) {
			return ErrMalformed
		}
	}
	if err := pk.ConnackDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodePublish(pk *packets.Packet, b []byte, v5 bool) error {
	c := cursor{b: b}
	topic := c.str() // [MQTT-3.3.2-1]
	if pk.FixedHeader.Qos > 0 && c.u16() == 0 && c.err == nil {
		return ErrNoPacketID // [MQTT-2.2.1-3]
	}
	propsAt := c.off
	if v5 {
		c.props(packets.Publish)
	}
	switch {
	case c.err != nil:
		return c.err
	case hasWildcard(topic):
		return ErrTopicInvalid // [MQTT-3.3.2-2]
	case len(topic) == 0 && !v5:
		return ErrTopicInvalid // [MQTT-4.7.3-1]
	}
	if v5 && c.off == propsAt+1 {
		// No properties: mochi's 3.1.1 path reads the same fields without
		// the allocation its property decoder makes; the payload starts
		// after the empty property length.
		if len(topic) == 0 {
			return ErrProtocol // MQTT 5 §3.3.2.1: empty topic needs a topic alias
		}
		pk.ProtocolVersion = 4
		err := pk.PublishDecode(b[:propsAt:propsAt])
		pk.ProtocolVersion = 5
		if err != nil {
			return fromMochi(err)
		}
		pk.Payload = b[c.off:]
		return nil
	}
	if err := pk.PublishDecode(b); err != nil {
		return fromMochi(err)
	}
	if len(topic) == 0 && !pk.Properties.TopicAliasFlag {
		return ErrProtocol // MQTT 5 §3.3.2.1: empty topic needs a topic alias
	}
	return nil
}

func decodeAck(pk *packets.Packet, b []byte, v5 bool) error {
	if len(b) < 2 || !v5 && len(b) != 2 {
		return ErrBadLength // [MQTT-3.4.1] 3.1.1: exactly the packet id
	}
	if pk.PacketID = binary.BigEndian.Uint16(b); pk.PacketID == 0 {
		return ErrNoPacketID // [MQTT-2.2.1-3]
	}
	if len(b) == 2 {
		return nil // MQTT 5 §3.4.2.1: reason 0x00 and no properties omitted
	}
	typ := pk.FixedHeader.Type
	if pk.ReasonCode = b[2]; !validReason(typ, pk.ReasonCode) {
		return ErrProtocol
	}
	if len(b) == 3 {
		return nil
	}
	c := cursor{b: b, off: 3}
	if c.props(typ); c.err != nil {
		return c.err
	}
	if c.off != len(b) {
		return ErrMalformed
	}
	var err error
	switch typ {
	case packets.Puback:
		err = pk.PubackDecode(b)
	case packets.Pubrec:
		err = pk.PubrecDecode(b)
	case packets.Pubrel:
		err = pk.PubrelDecode(b)
	default:
		err = pk.PubcompDecode(b)
	}
	if err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeSubscribe(pk *packets.Packet, b []byte, v5 bool) error {
	c := cursor{b: b}
	if c.u16() == 0 && c.err == nil {
		return ErrNoPacketID // [MQTT-2.2.1-3]
	}
	if v5 {
		c.props(packets.Subscribe)
	}
	count := 0
	for c.off < len(b) && c.err == nil {
		c.str() // topic filter [MQTT-3.8.3-1]
		o := c.u8()
		if c.err != nil {
			break
		}
		switch {
		case v5 && o&0xC0 != 0:
			return ErrBadFlags // [MQTT-3.8.3-5] reserved option bits
		case !v5 && o&0xFC != 0:
			return ErrBadFlags // [MQTT-3-8.3-4]
		case o&3 == 3:
			return ErrBadQoS // [MQTT-3-8.3-4]
		case o>>4&3 == 3:
			return ErrProtocol // MQTT 5 §3.8.3.1: retain handling 3
		}
		count++
	}
	if c.err != nil {
		return c.err
	}
	if count == 0 {
		return ErrNoFilters // [MQTT-3.8.3-3]
	}
	if err := pk.SubscribeDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeUnsubscribe(pk *packets.Packet, b []byte, v5 bool) error {
	c := cursor{b: b}
	if c.u16() == 0 && c.err == nil {
		return ErrNoPacketID // [MQTT-2.2.1-3]
	}
	if v5 {
		c.props(packets.Unsubscribe)
	}
	count := 0
	for c.off < len(b) && c.err == nil {
		c.str() // [MQTT-3.10.3-1]
		count++
	}
	if c.err != nil {
		return c.err
	}
	if count == 0 {
		return ErrNoFilters // [MQTT-3.10.3-2]
	}
	if err := pk.UnsubscribeDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeSubUnsubAck(pk *packets.Packet, b []byte, v5 bool) error {
	typ := pk.FixedHeader.Type
	c := cursor{b: b}
	if c.u16() == 0 && c.err == nil {
		return ErrNoPacketID
	}
	if v5 {
		c.props(typ)
	}
	if c.err != nil {
		return c.err
	}
	codes := b[c.off:]
	switch {
	case typ == packets.Unsuback && !v5:
		if len(codes) != 0 {
			return ErrBadLength // [MQTT-3.11.2] 3.1.1: no payload
		}
	case len(codes) == 0:
		return ErrMalformed // one reason code per filter [MQTT-3.9.3-1]
	}
	for _, code := range codes {
		if v5 && !validReason(typ, code) || !v5 && code > 2 && code != 0x80 {
			return ErrProtocol // [MQTT-3.9.3-2]
		}
	}
	var err error
	if typ == packets.Suback {
		err = pk.SubackDecode(b)
	} else {
		err = pk.UnsubackDecode(b)
	}
	if err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeDisconnect(pk *packets.Packet, b []byte, v5 bool) error {
	if !v5 {
		if len(b) != 0 {
			return ErrBadLength // [MQTT-3.14.1] 3.1.1: no body
		}
		return nil
	}
	if len(b) == 0 {
		return nil // MQTT 5 §3.14.2.1: reason 0x00, no properties
	}
	if pk.ReasonCode = b[0]; !validReason(packets.Disconnect, pk.ReasonCode) {
		return ErrProtocol
	}
	if len(b) == 1 {
		return nil
	}
	c := cursor{b: b, off: 1}
	if c.props(packets.Disconnect); c.err != nil {
		return c.err
	}
	if c.off != len(b) {
		return ErrMalformed
	}
	if err := pk.DisconnectDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}

func decodeAuth(pk *packets.Packet, b []byte) error {
	if len(b) == 0 {
		return nil // MQTT 5 §3.15.2.1: reason 0x00, no properties
	}
	if pk.ReasonCode = b[0]; !validReason(packets.Auth, pk.ReasonCode) {
		return ErrProtocol // [MQTT-3.15.2-1]
	}
	if len(b) == 1 {
		return nil
	}
	c := cursor{b: b, off: 1}
	if c.props(packets.Auth); c.err != nil {
		return c.err
	}
	if c.off != len(b) {
		return ErrMalformed
	}
	if err := pk.AuthDecode(b); err != nil {
		return fromMochi(err)
	}
	return nil
}
