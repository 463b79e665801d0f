package mqtt

import (
	"github.com/mochi-mqtt/server/v2/packets"
)

// enc appends fields to b; bad records a string or binary field longer
// than 65,535 bytes [MQTT-1.5.4], [MQTT-1.5.6].
type enc struct {
	b   []byte
	bad bool
}

func (e *enc) u8(v byte) { e.b = append(e.b, v) }

func (e *enc) u16(v uint16) { e.b = append(e.b, byte(v>>8), byte(v)) }

func (e *enc) u32(v uint32) { e.b = append(e.b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v)) }

func (e *enc) str(s string) {
	if len(s) > 0xFFFF {
		e.bad = true
		return
	}
	e.b = append(e.b, byte(len(s)>>8), byte(len(s)))
	e.b = append(e.b, s...)
}

func (e *enc) bin(v []byte) {
	if len(v) > 0xFFFF {
		e.bad = true
		return
	}
	e.b = append(e.b, byte(len(v)>>8), byte(len(v)))
	e.b = append(e.b, v...)
}

// begin reserves room for the longest fixed header in front of the body
// the caller appends next; finish fills it in.
func (e *enc) begin() (start int) {
	start = len(e.b)
	e.b = append(e.b, 0, 0, 0, 0, 0)
	return start
}

// finish writes the fixed header for the body appended since begin plus
// extra bytes the caller appends afterwards (a PUBLISH payload), and moves
// the body down against the header: only the variable header moves, never
// the payload.
func (e *enc) finish(start int, b0 byte, extra int) error {
	if e.bad {
		return ErrTooLarge
	}
	rem := len(e.b) - start - MaxHeaderLen + extra
	if rem > MaxRemaining {
		return ErrTooLarge
	}
	shift := MaxHeaderLen - 1 - VarintLen(rem)
	h := e.b[start+shift:]
	h[0] = b0
	putVarint(h[1:], rem)
	if shift > 0 {
		copy(e.b[start:], e.b[start+shift:])
		e.b = e.b[:len(e.b)-shift]
	}
	return nil
}

// props appends an MQTT 5 property block of the given kind: a Variable
// Byte Integer length and the properties of p that are set and allowed in
// that kind of packet. It reports whether the block is empty.
func (e *enc) props(kind byte, p *packets.Properties) (empty bool) {
	start := len(e.b)
	e.b = append(e.b, 0, 0, 0, 0)
	ok := func(id byte) bool { return propKinds(id)&(1<<kind) != 0 }
	if ok(packets.PropPayloadFormat) && p.PayloadFormatFlag {
		e.u8(packets.PropPayloadFormat)
		e.u8(p.PayloadFormat)
	}
	if ok(packets.PropMessageExpiryInterval) && p.MessageExpiryInterval > 0 {
		e.u8(packets.PropMessageExpiryInterval)
		e.u32(p.MessageExpiryInterval)
	}
	if ok(packets.PropContentType) && p.ContentType != "" {
		e.u8(packets.PropContentType)
		e.str(p.ContentType)
	}
	if ok(packets.PropResponseTopic) && p.ResponseTopic != "" {
		e.u8(packets.PropResponseTopic)
		e.str(p.ResponseTopic)
	}
	if ok(packets.PropCorrelationData) && len(p.CorrelationData) > 0 {
		e.u8(packets.PropCorrelationData)
		e.bin(p.CorrelationData)
	}
	if ok(packets.PropSubscriptionIdentifier) {
		for _, id := range p.SubscriptionIdentifier {
			if id > 0 && id <= MaxRemaining {
				e.u8(packets.PropSubscriptionIdentifier)
				e.b = AppendVarint(e.b, id)
			}
		}
	}
	if ok(packets.PropSessionExpiryInterval) && p.SessionExpiryIntervalFlag {
		e.u8(packets.PropSessionExpiryInterval)
		e.u32(p.SessionExpiryInterval)
	}
	if ok(packets.PropAssignedClientID) && p.AssignedClientID != "" {
		e.u8(packets.PropAssignedClientID)
		e.str(p.AssignedClientID)
	}
	if ok(packets.PropServerKeepAlive) && p.ServerKeepAliveFlag {
		e.u8(packets.PropServerKeepAlive)
		e.u16(p.ServerKeepAlive)
	}
	if ok(packets.PropAuthenticationMethod) && p.AuthenticationMethod != "" {
		e.u8(packets.PropAuthenticationMethod)
		e.str(p.AuthenticationMethod)
	}
	if ok(packets.PropAuthenticationData) && len(p.AuthenticationData) > 0 {
		e.u8(packets.PropAuthenticationData)
		e.bin(p.AuthenticationData)
	}
	if ok(packets.PropRequestProblemInfo) && p.RequestProblemInfoFlag {
		e.u8(packets.PropRequestProblemInfo)
		e.u8(p.RequestProblemInfo)
	}
	if ok(packets.PropWillDelayInterval) && p.WillDelayInterval > 0 {
		e.u8(packets.PropWillDelayInterval)
		e.u32(p.WillDelayInterval)
	}
	if ok(packets.PropRequestResponseInfo) && p.RequestResponseInfo > 0 {
		e.u8(packets.PropRequestResponseInfo)
		e.u8(p.RequestResponseInfo)
	}
	if ok(packets.PropResponseInfo) && p.ResponseInfo != "" {
		e.u8(packets.PropResponseInfo)
		e.str(p.ResponseInfo)
	}
	if ok(packets.PropServerReference) && p.ServerReference != "" {
		e.u8(packets.PropServerReference)
		e.str(p.ServerReference)
	}
	if ok(packets.PropReasonString) && p.ReasonString != "" {
		e.u8(packets.PropReasonString)
		e.str(p.ReasonString)
	}
	if ok(packets.PropReceiveMaximum) && p.ReceiveMaximum > 0 {
		e.u8(packets.PropReceiveMaximum)
		e.u16(p.ReceiveMaximum)
	}
	if ok(packets.PropTopicAliasMaximum) && p.TopicAliasMaximum > 0 {
		e.u8(packets.PropTopicAliasMaximum)
		e.u16(p.TopicAliasMaximum)
	}
	if ok(packets.PropTopicAlias) && p.TopicAliasFlag && p.TopicAlias > 0 {
		e.u8(packets.PropTopicAlias)
		e.u16(p.TopicAlias)
	}
	if ok(packets.PropMaximumQos) && p.MaximumQosFlag {
		e.u8(packets.PropMaximumQos)
		e.u8(p.MaximumQos)
	}
	if ok(packets.PropRetainAvailable) && p.RetainAvailableFlag {
		e.u8(packets.PropRetainAvailable)
		e.u8(p.RetainAvailable)
	}
	if ok(packets.PropUser) {
		for _, u := range p.User {
			e.u8(packets.PropUser)
			e.str(u.Key)
			e.str(u.Val)
		}
	}
	if ok(packets.PropMaximumPacketSize) && p.MaximumPacketSize > 0 {
		e.u8(packets.PropMaximumPacketSize)
		e.u32(p.MaximumPacketSize)
	}
	if ok(packets.PropWildcardSubAvailable) && p.WildcardSubAvailableFlag {
		e.u8(packets.PropWildcardSubAvailable)
		e.u8(p.WildcardSubAvailable)
	}
	if ok(packets.PropSubIDAvailable) && p.SubIDAvailableFlag {
		e.u8(packets.PropSubIDAvailable)
		e.u8(p.SubIDAvailable)
	}
	if ok(packets.PropSharedSubAvailable) && p.SharedSubAvailableFlag {
		e.u8(packets.PropSharedSubAvailable)
		e.u8(p.SharedSubAvailable)
	}
	n := len(e.b) - start - 4
	if n > MaxRemaining {
		e.bad = true
		n = 0
	}
	shift := 4 - VarintLen(n)
	putVarint(e.b[start+shift:], n)
	copy(e.b[start:], e.b[start+shift:])
	e.b = e.b[:len(e.b)-shift]
	return n == 0
}

// AppendPacket appends the encoding of pk for a connection speaking
// protocol level version (5 for MQTT 5; 3 or 4 for 3.1 / 3.1.1, which
// carry no properties or reason codes beyond CONNACK's). It does not
// allocate when dst has room, and it does not modify pk.
//
// Fields are taken as Decode fills them: FixedHeader.Type, Qos, Dup and
// Retain (Dup only with QoS > 0; Remaining is computed), PacketID,
// ReasonCode, ReasonCodes, Filters, Payload, TopicName, Connect, and the
// Properties allowed in the packet type that are set (flags where mochi has
// one, non-zero values or non-empty strings otherwise). An MQTT 5
// acknowledgement, DISCONNECT or AUTH with reason 0x00 and no properties
// uses the short form. On error dst is returned unchanged: ErrBadType for an
// unknown type, ErrNoPacketID for QoS > 0 PUBLISH or SUBSCRIBE or
// UNSUBSCRIBE with id 0, ErrBadQoS for QoS 3, ErrTooLarge for a string
// over 65,535 bytes or a packet over the format's limit.
func AppendPacket(dst []byte, pk *packets.Packet, version byte) ([]byte, error) {
	v5 := version >= 5
	typ := pk.FixedHeader.Type
	switch typ { // fixed-size forms, without the header dance
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		if !v5 || pk.Properties.ReasonString == "" && len(pk.Properties.User) == 0 {
			return AppendAck(dst, typ, pk.PacketID, pk.ReasonCode, version), nil
		}
	case packets.Pingreq, packets.Pingresp:
		return append(dst, typ<<4, 0), nil
	}
	e := enc{b: dst}
	var b0 byte = typ << 4
	var extra []byte
	start := e.begin()
	switch typ {
	case packets.Connect:
		if err := e.connect(pk, version); err != nil {
			return dst, err
		}
	case packets.Connack:
		e.u8(b2u8(pk.SessionPresent))
		e.u8(pk.ReasonCode)
		if v5 {
			e.props(packets.Connack, &pk.Properties)
		}
	case packets.Publish:
		fh := pk.FixedHeader
		if fh.Qos > 2 {
			return dst, ErrBadQoS
		}
		b0 |= fh.Qos<<1 | b2u8(fh.Retain)
		if fh.Qos > 0 {
			b0 |= b2u8(fh.Dup) << 3
		}
		e.str(pk.TopicName)
		if fh.Qos > 0 {
			if pk.PacketID == 0 {
				return dst, ErrNoPacketID
			}
			e.u16(pk.PacketID)
		}
		if v5 {
			e.props(packets.Publish, &pk.Properties)
		}
		extra = pk.Payload
	case packets.Puback, packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		if typ == packets.Pubrel {
			b0 |= 0x02
		}
		e.u16(pk.PacketID)
		if v5 {
			e.reasonProps(typ, pk.ReasonCode, &pk.Properties)
		}
	case packets.Subscribe, packets.Unsubscribe:
		b0 |= 0x02
		if pk.PacketID == 0 {
			return dst, ErrNoPacketID
		}
		e.u16(pk.PacketID)
		if v5 {
			e.props(typ, &pk.Properties)
		}
		for _, f := range pk.Filters {
			e.str(f.Filter)
			if typ == packets.Unsubscribe {
				continue
			}
			if f.Qos > 2 {
				return dst, ErrBadQoS
			}
			if v5 {
				e.u8(f.Qos | b2u8(f.NoLocal)<<2 | b2u8(f.RetainAsPublished)<<3 | (f.RetainHandling&3)<<4)
			} else {
				e.u8(f.Qos)
			}
		}
	case packets.Suback, packets.Unsuback:
		e.u16(pk.PacketID)
		if v5 {
			e.props(typ, &pk.Properties)
		}
		if v5 || typ == packets.Suback {
			e.b = append(e.b, pk.ReasonCodes...)
		}
	case packets.Pingreq, packets.Pingresp:
	case packets.Disconnect, packets.Auth:
		if typ == packets.Auth && !v5 {
			return dst, ErrBadType
		}
		if v5 {
			before := len(e.b)
			e.u8(pk.ReasonCode)
			if e.props(typ, &pk.Properties) {
				e.b = e.b[:len(e.b)-1] // empty property block omitted
				if pk.ReasonCode == 0 {
					e.b = e.b[:before] // MQTT 5 §3.14.2.1: short form
				}
			}
		}
	default:
		return dst, ErrBadType
	}
	if err := e.finish(start, b0, len(extra)); err != nil {
		return dst, err
	}
	return append(e.b, extra...), nil
}

// reasonProps appends the MQTT 5 tail of an acknowledgement: the reason
// code and property block, or nothing for reason 0x00 without properties
// (MQTT 5 §3.4.2.1).
func (e *enc) reasonProps(typ, reason byte, p *packets.Properties) {
	before := len(e.b)
	e.u8(reason)
	if e.props(typ, p) {
		e.b = e.b[:len(e.b)-1]
		if reason == 0 {
			e.b = e.b[:before]
		}
	}
}

func (e *enc) connect(pk *packets.Packet, version byte) error {
	c := &pk.Connect
	if c.WillQos > 2 {
		return ErrBadQoS
	}
	if version == 3 {
		e.str("MQIsdp")
	} else {
		e.str("MQTT")
	}
	e.u8(version)
	var flags byte
	flags |= b2u8(c.Clean) << 1
	if c.WillFlag {
		flags |= 1<<2 | c.WillQos<<3 | b2u8(c.WillRetain)<<5
	}
	flags |= b2u8(c.PasswordFlag)<<6 | b2u8(c.UsernameFlag)<<7
	e.u8(flags)
	e.u16(c.Keepalive)
	if version >= 5 {
		e.props(packets.Connect, &pk.Properties)
	}
	e.str(c.ClientIdentifier)
	if c.WillFlag {
		if version >= 5 {
			e.props(kindWill, &c.WillProperties)
		}
		e.str(c.WillTopic)
		e.bin(c.WillPayload)
	}
	if c.UsernameFlag {
		e.bin(c.Username)
	}
	if c.PasswordFlag {
		e.bin(c.Password)
	}
	return nil
}

// AppendAck appends an acknowledgement without properties: PUBACK,
// PUBREC, PUBREL or PUBCOMP (typ) for packet id, with reason code reason
// on MQTT 5 (omitted when 0x00; ignored before MQTT 5). It does not
// allocate when dst has room.
func AppendAck(dst []byte, typ byte, id uint16, reason byte, version byte) []byte {
	b0 := typ << 4
	if typ == packets.Pubrel {
		b0 |= 0x02
	}
	if version >= 5 && reason != 0 {
		return append(dst, b0, 3, byte(id>>8), byte(id), reason)
	}
	return append(dst, b0, 2, byte(id>>8), byte(id))
}

// AppendPingresp appends a PINGRESP packet.
func AppendPingresp(dst []byte) []byte { return append(dst, packets.Pingresp<<4, 0) }

func b2u8(b bool) byte {
	if b {
		return 1
	}
	return 0
}
