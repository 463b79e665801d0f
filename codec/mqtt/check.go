package mqtt

import (
	"bytes"
	"unicode/utf8"

	"github.com/mochi-mqtt/server/v2/packets"
)

// cursor walks a packet body to validate its structure before a mochi
// decoder runs over it: mochi reads properties past their declared length
// and indexes subscription options without a bounds check, so the walk
// proves every field lies inside the packet first. The first error sticks;
// reads after it return zero values. It never allocates.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
	c.off = len(c.b)
}

func (c *cursor) left() int { return len(c.b) - c.off }

func (c *cursor) u8() byte {
	if c.left() < 1 {
		c.fail(ErrMalformed)
		return 0
	}
	v := c.b[c.off]
	c.off++
	return v
}

func (c *cursor) u16() uint16 {
	if c.left() < 2 {
		c.fail(ErrMalformed)
		return 0
	}
	v := uint16(c.b[c.off])<<8 | uint16(c.b[c.off+1])
	c.off += 2
	return v
}

func (c *cursor) u32() uint32 {
	if c.left() < 4 {
		c.fail(ErrMalformed)
		return 0
	}
	b := c.b[c.off:]
	c.off += 4
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// bin reads Binary Data: a two-byte length and that many bytes [MQTT-1.5.6].
func (c *cursor) bin() []byte {
	n := int(c.u16())
	if c.err != nil {
		return nil
	}
	if c.left() < n {
		c.fail(ErrMalformed)
		return nil
	}
	v := c.b[c.off : c.off+n]
	c.off += n
	return v
}

// str reads a UTF-8 Encoded String [MQTT-1.5.4] and checks it.
func (c *cursor) str() []byte {
	v := c.bin()
	if c.err == nil && !validUTF8(v) {
		c.fail(ErrBadUTF8)
	}
	return v
}

// varint reads a Variable Byte Integer of at most four bytes [MQTT-1.5.5].
func (c *cursor) varint() int {
	v := 0
	for i := 0; i < 4; i++ {
		b := c.u8()
		if c.err != nil {
			return 0
		}
		v |= int(b&0x7F) << (7 * i)
		if b&0x80 == 0 {
			return v
		}
	}
	c.fail(ErrMalformed)
	return 0
}

// validUTF8 reports whether b is well-formed UTF-8 without U+0000
// [MQTT-1.5.4-1] [MQTT-1.5.4-2].
func validUTF8(b []byte) bool {
	for _, x := range b {
		if x == 0 || x >= utf8.RuneSelf {
			return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
		}
	}
	return true
}

// hasWildcard reports whether a topic name contains + or #.
func hasWildcard(b []byte) bool {
	for _, x := range b {
		if x == '+' || x == '#' {
			return true
		}
	}
	return false
}

// kindWill is the property-set kind of CONNECT will properties.
const kindWill = 16

// propKinds is the set of packet kinds (bit = packets.Connect … Auth,
// kindWill) in which property id may appear (MQTT 5 §2.2.2.2).
func propKinds(id byte) uint32 {
	const (
		connect  = 1 << packets.Connect
		connack  = 1 << packets.Connack
		publish  = 1 << packets.Publish
		puback   = 1 << packets.Puback
		pubrec   = 1 << packets.Pubrec
		pubrel   = 1 << packets.Pubrel
		pubcomp  = 1 << packets.Pubcomp
		sub      = 1 << packets.Subscribe
		suback   = 1 << packets.Suback
		unsub    = 1 << packets.Unsubscribe
		unsuback = 1 << packets.Unsuback
		disc     = 1 << packets.Disconnect
		auth     = 1 << packets.Auth
		will     = 1 << kindWill
	)
	switch id {
	case packets.PropPayloadFormat, packets.PropMessageExpiryInterval, packets.PropContentType,
		packets.PropResponseTopic, packets.PropCorrelationData:
		return publish | will
	case packets.PropSubscriptionIdentifier:
		return publish | sub
	case packets.PropSessionExpiryInterval:
		return connect | connack | disc
	case packets.PropAssignedClientID, packets.PropServerKeepAlive, packets.PropResponseInfo,
		packets.PropMaximumQos, packets.PropRetainAvailable, packets.PropWildcardSubAvailable,
		packets.PropSubIDAvailable, packets.PropSharedSubAvailable:
		return connack
	case packets.PropAuthenticationMethod, packets.PropAuthenticationData:
		return connect | connack | auth
	case packets.PropRequestProblemInfo, packets.PropRequestResponseInfo:
		return connect
	case packets.PropWillDelayInterval:
		return will
	case packets.PropServerReference:
		return connack | disc
	case packets.PropReasonString:
		return connack | puback | pubrec | pubrel | pubcomp | suback | unsuback | disc | auth
	case packets.PropReceiveMaximum, packets.PropTopicAliasMaximum, packets.PropMaximumPacketSize:
		return connect | connack
	case packets.PropTopicAlias:
		return publish
	case packets.PropUser:
		return connect | connack | publish | puback | pubrec | pubrel | pubcomp | sub | suback |
			unsub | unsuback | disc | auth | will
	}
	return 0
}

// props validates an MQTT 5 property block (a Variable Byte Integer length
// and that many bytes of properties) of the given kind: every identifier
// known and allowed, every value inside the block and in range, no
// duplicates where one is allowed (MQTT 5 §2.2.2). It leaves the cursor
// after the block.
func (c *cursor) props(kind byte) {
	n := c.varint()
	if c.err != nil {
		return
	}
	if n > c.left() {
		c.fail(ErrMalformed)
		return
	}
	end := c.off + n
	blk := cursor{b: c.b[:end], off: c.off}
	var seen uint64
	for blk.off < end && blk.err == nil {
		id := blk.u8()
		if propKinds(id)&(1<<kind) == 0 {
			blk.fail(ErrBadProperty) // unknown, or not valid for this packet
			break
		}
		multi := id == packets.PropUser || id == packets.PropSubscriptionIdentifier && kind == packets.Publish
		if seen&(1<<id) != 0 && !multi {
			blk.fail(ErrDupProperty)
			break
		}
		seen |= 1 << id
		switch id {
		case packets.PropPayloadFormat, packets.PropRequestProblemInfo, packets.PropRequestResponseInfo,
			packets.PropMaximumQos, packets.PropRetainAvailable, packets.PropWildcardSubAvailable,
			packets.PropSubIDAvailable, packets.PropSharedSubAvailable:
			if v := blk.u8(); v > 1 && blk.err == nil {
				blk.fail(ErrPropertyValue)
			}
		case packets.PropServerKeepAlive, packets.PropTopicAliasMaximum:
			blk.u16()
		case packets.PropReceiveMaximum:
			if blk.u16() == 0 && blk.err == nil {
				blk.fail(ErrPropertyValue) // MQTT 5 §3.1.2.11.3
			}
		case packets.PropTopicAlias:
			if blk.u16() == 0 && blk.err == nil {
				blk.fail(ErrTopicAlias) // [MQTT-3.3.2-8]
			}
		case packets.PropMessageExpiryInterval, packets.PropSessionExpiryInterval,
			packets.PropWillDelayInterval:
			blk.u32()
		case packets.PropMaximumPacketSize:
			if blk.u32() == 0 && blk.err == nil {
				blk.fail(ErrPropertyValue) // MQTT 5 §3.1.2.11.4
			}
		case packets.PropSubscriptionIdentifier:
			if blk.varint() == 0 && blk.err == nil {
				blk.fail(ErrPropertyValue) // MQTT 5 §3.8.2.1.2: 1..268,435,455
			}
		case packets.PropResponseTopic:
			if t := blk.str(); blk.err == nil && (len(t) == 0 || hasWildcard(t)) {
				blk.fail(ErrPropertyValue) // [MQTT-3.3.2-14]
			}
		case packets.PropContentType, packets.PropAssignedClientID, packets.PropAuthenticationMethod,
			packets.PropResponseInfo, packets.PropServerReference, packets.PropReasonString:
			blk.str()
		case packets.PropCorrelationData, packets.PropAuthenticationData:
			blk.bin()
		case packets.PropUser:
			blk.str()
			blk.str()
		}
	}
	if blk.err != nil {
		c.fail(blk.err)
		return
	}
	c.off = end
}

// validReason reports whether code is a valid MQTT 5 reason code for a
// packet of type typ (MQTT 5 §2.4).
func validReason(typ, code byte) bool {
	switch typ {
	case packets.Puback, packets.Pubrec:
		switch code {
		case 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99:
			return true
		}
	case packets.Pubrel, packets.Pubcomp:
		return code == 0x00 || code == 0x92
	case packets.Suback:
		switch code {
		case 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2:
			return true
		}
	case packets.Unsuback:
		switch code {
		case 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91:
			return true
		}
	case packets.Disconnect:
		switch code {
		case 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90,
			0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2:
			return true
		}
	case packets.Auth:
		return code == 0x00 || code == 0x18 || code == 0x19
	case packets.Connack:
		switch code {
		case 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C,
			0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F:
			return true
		}
	}
	return false
}
