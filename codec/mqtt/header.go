package mqtt

import "github.com/mochi-mqtt/server/v2/packets"

// Limits of the wire format.
const (
	// MaxRemaining is the largest remaining length a four-byte Variable
	// Byte Integer can carry (268,435,455) [MQTT-1.5.5].
	MaxRemaining = 268435455
	// HardMaxPacket is the size of the largest packet the format allows:
	// one type byte, four length bytes and MaxRemaining.
	HardMaxPacket = 1 + 4 + MaxRemaining
	// DefaultMaxPacket is the packet size limit Decode applies when given
	// maxPacket <= 0: 256 KiB.
	DefaultMaxPacket = 256 << 10
	// MaxHeaderLen is the longest fixed header: a type byte and a four-byte
	// remaining length.
	MaxHeaderLen = 5
)

// Header is a decoded fixed header [MQTT-2.1.1].
type Header struct {
	// Type is the packet type, 1..15 (packets.Connect … packets.Auth).
	Type byte
	// Flags are the low four bits of byte 0; for PUBLISH they hold DUP,
	// QoS and RETAIN.
	Flags byte
	// Remaining is the remaining length: the size of the variable header
	// and payload.
	Remaining int
	// Len is the size of the fixed header itself (2..5 bytes).
	Len int
}

// Size is the size of the whole packet: Len + Remaining.
func (h Header) Size() int { return h.Len + h.Remaining }

// QoS is the PUBLISH QoS from the flags.
func (h Header) QoS() byte { return h.Flags >> 1 & 3 }

// limit turns a caller's maxPacket into the effective limit.
func limit(maxPacket int) int {
	switch {
	case maxPacket <= 0:
		return DefaultMaxPacket
	case maxPacket > HardMaxPacket:
		return HardMaxPacket
	}
	return maxPacket
}

// checkFlags validates byte 0 of a packet [MQTT-2.2.2-1] [MQTT-2.2.2-2].
// version is the connection's protocol level (0 before CONNECT).
func checkFlags(b0, version byte) error {
	typ, flags := b0>>4, b0&0x0F
	switch typ {
	case packets.Reserved:
		return ErrBadType // [MQTT-2.1.3] type 0 is reserved
	case packets.Publish:
		if flags&0x06 == 0x06 {
			return ErrBadQoS // [MQTT-3.3.1-4]
		}
		if flags&0x08 != 0 && flags&0x06 == 0 {
			return ErrBadFlags // [MQTT-3.3.1-2] DUP on QoS 0
		}
		return nil
	case packets.Pubrel, packets.Subscribe, packets.Unsubscribe:
		if flags != 0x02 {
			return ErrBadFlags // [MQTT-3.6.1-1] [MQTT-3.8.1-1] [MQTT-3.10.1-1]
		}
		return nil
	case packets.Auth:
		if version != 0 && version < 5 {
			return ErrBadType // reserved in 3.1.1
		}
	}
	if flags != 0 {
		return ErrBadFlags // [MQTT-2.2.2-2]
	}
	return nil
}

// DecodeHeader parses the fixed header at the start of src. It returns
// h.Len == 0 and a nil error when src does not hold the whole header yet.
// The type and flags are checked as soon as byte 0 is present, the length
// as soon as it is complete: a packet declaring more than maxPacket bytes
// in total (maxPacket <= 0 means DefaultMaxPacket) fails with ErrTooLarge
// before any of its body is buffered. version is the connection's protocol
// level (0 before CONNECT); it decides whether type 15 (AUTH) is valid.
// DecodeHeader does not allocate.
func DecodeHeader(src []byte, version byte, maxPacket int) (h Header, err error) {
	if len(src) == 0 {
		return h, nil
	}
	if err := checkFlags(src[0], version); err != nil {
		return h, err
	}
	// [MQTT-1.5.5] Variable Byte Integer, at most four bytes.
	var rem int
	for i := 1; i < MaxHeaderLen; i++ {
		if i >= len(src) {
			return Header{}, nil // need more
		}
		b := src[i]
		rem |= int(b&0x7F) << (7 * (i - 1))
		if b&0x80 != 0 {
			continue
		}
		h = Header{Type: src[0] >> 4, Flags: src[0] & 0x0F, Remaining: rem, Len: i + 1}
		if h.Size() > limit(maxPacket) {
			return h, ErrTooLarge
		}
		return h, nil
	}
	return Header{}, ErrBadLength // a fifth length byte [MQTT-1.5.5]
}

// VarintLen is the number of bytes of the Variable Byte Integer
// encoding of v (1..4); v must be in 0..MaxRemaining.
func VarintLen(v int) int {
	switch {
	case v < 1<<7:
		return 1
	case v < 1<<14:
		return 2
	case v < 1<<21:
		return 3
	}
	return 4
}

// AppendVarint appends the Variable Byte Integer encoding of v
// [MQTT-1.5.5], which must be in 0..MaxRemaining.
func AppendVarint(dst []byte, v int) []byte {
	for v >= 0x80 {
		dst = append(dst, byte(v)|0x80)
		v >>= 7
	}
	return append(dst, byte(v))
}

// putVarint writes v into b (which must have room) and returns the count.
func putVarint(b []byte, v int) int {
	i := 0
	for v >= 0x80 {
		b[i] = byte(v) | 0x80
		v >>= 7
		i++
	}
	b[i] = byte(v)
	return i + 1
}
