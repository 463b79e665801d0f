package mqtt

import (
	"errors"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Error is the type of every sentinel error of this package. It carries the
// MQTT 5 reason code a server answers with (CONNACK before the session
// exists, DISCONNECT after) and a short label for metrics.
type Error struct {
	msg    string
	reason string
	code   byte
}

func (e *Error) Error() string { return e.msg }

// Code is the MQTT 5 reason code of e (0x81, 0x82, …).
func (e *Error) Code() byte { return e.code }

// Reason is e's metric label ("malformed", "bad_qos", …).
func (e *Error) Reason() string { return e.reason }

// Malformed packets (reason code 0x81). The stream cannot be trusted after
// any of them: the connection is closed.
var (
	// ErrMalformed: a field runs past the end of the packet, the packet has
	// bytes left over after its last field, or the body is otherwise not
	// what its type requires [MQTT-1.5], [MQTT-2.1].
	ErrMalformed error = &Error{"mqtt: malformed packet", "malformed", 0x81}
	// ErrBadLength: the remaining length is not a Variable Byte Integer of at
	// most four bytes [MQTT-1.5.5], or it is wrong for the packet type.
	ErrBadLength error = &Error{"mqtt: bad remaining length", "bad_length", 0x81}
	// ErrBadType: packet type 0, or AUTH (15) on a 3.1.1 connection.
	ErrBadType error = &Error{"mqtt: reserved packet type", "bad_type", 0x81}
	// ErrBadFlags: fixed-header flag bits that the packet type reserves are
	// not as specified [MQTT-2.2.2-1] [MQTT-2.2.2-2], DUP is set on a QoS 0
	// PUBLISH [MQTT-3.3.1-2], or a reserved bit of the CONNECT flags, CONNACK
	// flags or subscription options is set [MQTT-3.1.2-3] [MQTT-3.8.3-5].
	ErrBadFlags error = &Error{"mqtt: reserved flags set", "bad_flags", 0x81}
	// ErrBadQoS: a QoS of 3 in a PUBLISH header [MQTT-3.3.1-4], a CONNECT
	// will QoS [MQTT-3.1.2-12] or a subscription option [MQTT-3-8.3-4].
	ErrBadQoS error = &Error{"mqtt: QoS 3", "bad_qos", 0x81}
	// ErrBadUTF8: a UTF-8 string field is not well-formed UTF-8 or contains
	// U+0000 [MQTT-1.5.4-1] [MQTT-1.5.4-2].
	ErrBadUTF8 error = &Error{"mqtt: invalid UTF-8 string", "bad_utf8", 0x81}
	// ErrBadProperty: an MQTT 5 property identifier that is unknown or not
	// valid for the packet type, or a property value of the wrong shape
	// (MQTT 5 §2.2.2.2).
	ErrBadProperty error = &Error{"mqtt: bad property", "bad_property", 0x81}
)

// Protocol errors (reason code 0x82): well-formed bytes that break a rule of
// the protocol. The connection is closed.
var (
	// ErrProtocol: a protocol rule not covered by a more specific error
	// (for example a 3.1.1 CONNECT with a password but no user name
	// [MQTT-3.1.2-22], an empty topic without a topic alias, an invalid
	// reason code, retain handling 3).
	ErrProtocol error = &Error{"mqtt: protocol error", "protocol_error", 0x82}
	// ErrNoPacketID: packet identifier 0 where a non-zero one is required
	// [MQTT-2.2.1-3].
	ErrNoPacketID error = &Error{"mqtt: packet identifier 0", "no_packet_id", 0x82}
	// ErrNoFilters: a SUBSCRIBE or UNSUBSCRIBE without any topic filter
	// [MQTT-3.8.3-3] [MQTT-3.10.3-2].
	ErrNoFilters error = &Error{"mqtt: no topic filters", "no_filters", 0x82}
	// ErrDupProperty: an MQTT 5 property that may appear once appears twice.
	ErrDupProperty error = &Error{"mqtt: duplicate property", "dup_property", 0x82}
	// ErrPropertyValue: an MQTT 5 property value out of its range (receive
	// maximum 0, maximum packet size 0, subscription identifier 0, a boolean
	// byte other than 0 or 1, a response topic with wildcards).
	ErrPropertyValue error = &Error{"mqtt: property value out of range", "property_value", 0x82}
)

// Other reason codes.
var (
	// ErrUnsupportedVersion: a CONNECT whose protocol level is not 4
	// (3.1.1) or 5 ("MQTT"), or 3 ("MQIsdp"). Answered with CONNACK 0x84
	// (0x01 in the 3.1.1 format) [MQTT-3.1.2-2]. Decode returns the packet
	// with ProtocolVersion set to the level it read.
	ErrUnsupportedVersion error = &Error{"mqtt: unsupported protocol version", "bad_version", 0x84}
	// ErrBadProtocolName: a CONNECT whose protocol name is neither "MQTT"
	// nor "MQIsdp"; the connection is closed without a CONNACK
	// [MQTT-3.1.2-1].
	ErrBadProtocolName error = &Error{"mqtt: bad protocol name", "bad_protocol_name", 0x84}
	// ErrBadClientID: the CONNECT client identifier is not a valid UTF-8
	// string (CONNACK 0x85, 0x02 in 3.1.1) [MQTT-3.1.3-4].
	ErrBadClientID error = &Error{"mqtt: client identifier not valid", "bad_client_id", 0x85}
	// ErrTopicInvalid: a topic name (PUBLISH or will topic) with a wildcard
	// [MQTT-3.3.2-2] or of zero length where one is required
	// [MQTT-4.7.3-1]; reason code 0x90 Topic Name invalid.
	ErrTopicInvalid error = &Error{"mqtt: topic name invalid", "topic_invalid", 0x90}
	// ErrTopicAlias: a topic alias of 0 [MQTT-3.3.2-8]; reason code 0x94.
	// (An alias above the receiver's maximum is checked by the broker,
	// which knows the maximum.)
	ErrTopicAlias error = &Error{"mqtt: topic alias invalid", "topic_alias", 0x94}
	// ErrTooLarge: the packet is larger than the receiver's maximum packet
	// size, decided from the fixed header before the body is buffered;
	// reason code 0x95. AppendPacket returns it for a packet whose
	// remaining length or a string of which does not fit the format.
	ErrTooLarge error = &Error{"mqtt: packet too large", "too_large", 0x95}
)

// asError finds the *Error in err's chain without allocating.
func asError(err error) (*Error, bool) {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e, true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return nil, false
		}
		err = u.Unwrap()
	}
	return nil, false
}

// Code returns the MQTT 5 reason code for err: 0x00 for nil, the code of
// an error of this package, 0x80 (unspecified error) otherwise.
func Code(err error) byte {
	if err == nil {
		return 0
	}
	if e, ok := asError(err); ok {
		return e.code
	}
	return 0x80
}

// Reason returns a short, stable metric label for err: "" for nil, the
// label of an error of this package, "other" otherwise.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := asError(err); ok {
		return e.reason
	}
	return "other"
}

// V3Code maps an MQTT 5 CONNACK reason code to the 3.1.1 CONNACK return
// code [MQTT-3.2.2-4]. ok is false when 3.1.1 has no return code for the
// situation: the server then closes the connection without a CONNACK
// (malformed packets and protocol errors [MQTT-4.8.0-1]).
func V3Code(code byte) (v3 byte, ok bool) {
	switch code {
	case 0x00:
		return 0x00, true // connection accepted
	case 0x84:
		return 0x01, true // unacceptable protocol version
	case 0x85:
		return 0x02, true // identifier rejected
	case 0x80, 0x83, 0x88, 0x89, 0x8A, 0x8B, 0x97, 0x9C, 0x9D, 0x9F:
		return 0x03, true // server unavailable
	case 0x86, 0x8C:
		return 0x04, true // bad user name or password
	case 0x87:
		return 0x05, true // not authorized
	}
	return 0, false
}

// fromMochi turns an error of a mochi decoder into one of this package.
// mochi's codes are values of packets.Code, possibly wrapped.
func fromMochi(err error) error {
	var c packets.Code
	if !errors.As(err, &c) {
		return ErrMalformed
	}
	switch {
	case c == packets.ErrMalformedInvalidUTF8:
		return ErrBadUTF8
	case c.Code == 0x85:
		return ErrBadClientID
	case c.Code == 0x82:
		return ErrProtocol
	}
	return ErrMalformed
}
