// Package mqtt is the MQTT 3.1.1 and 5.0 packet codec of Kefu's broker: the
// incremental framing, the validation the protocol demands of a receiver,
// and append-style encoders. Packet values are mochi-mqtt's
// packets.Packet; the per-type body decoders are mochi's, run over exactly
// one packet's bytes after this package has framed and checked them.
//
// # Wire format
//
// Every packet starts with a fixed header [MQTT-2.1.1]: one byte of type
// and flags, then the remaining length as a Variable Byte Integer of one to
// four bytes (seven bits per byte, least significant group first, high bit
// = "more bytes follow") [MQTT-1.5.5]:
//
//	  7   6   5   4   3   2   1   0
//	+---+---+---+---+---+---+---+---+
//	|  packet type  |     flags     |   byte 0
//	+---+---+---+---+---+---+---+---+
//	| C |   remaining length, 1..4 bytes (C = continuation)
//	+---+---+---+---+---+---+---+---+
//	|   variable header, properties (MQTT 5), payload
//	|   … remaining length bytes …
//
//	PUBLISH flags:   DUP(3) QoS(2..1) RETAIN(0); QoS 3 is malformed
//	PUBREL, SUBSCRIBE, UNSUBSCRIBE flags: 0010; every other type: 0000
//
//	remaining length examples:      0 = 00              127 = 7F
//	  128 = 80 01     16,383 = FF 7F     16,384 = 80 80 01
//	  2,097,152 = 80 80 80 01     268,435,455 = FF FF FF 7F (the maximum)
//
// # Decoding
//
// Decode(src, version, maxPacket) is incremental: given the bytes buffered
// so far it returns one packet and its size, or n == 0 and a nil error for
// "need more". Byte 0 is checked as soon as it arrives (type, reserved
// flags, QoS 3), the remaining length as soon as it is complete, and a
// packet larger than maxPacket is refused with ErrTooLarge before its body
// is buffered. The body is then walked once to check what mochi's decoders
// do not (every field inside the packet, nothing left over, reserved bits,
// UTF-8 of user names, wildcards in topic names, packet identifier 0,
// property identifiers, duplicates and ranges, reason codes, empty filter
// lists) and handed to mochi's decoder for the type, with ProtocolVersion
// set. Framing (DecodeHeader), acknowledgements and PUBLISH packets without
// MQTT 5 properties decode without allocating (a property-less MQTT 5
// PUBLISH goes through mochi's 3.1.1 path, which needs no property
// decoder); mochi's property decoder allocates for the rest
// (bench_test.go measures it: 4 allocations for a PUBLISH with five
// properties, 5 for a SUBSCRIBE).
//
// Errors are sentinel *Error values carrying the MQTT 5 reason code a
// server answers with (Code) and a metric label (Reason); V3Code maps a
// CONNACK reason to the 3.1.1 return code. Every decode error is fatal to
// the connection. Rules that need connection state (CONNECT first, topic
// alias above the maximum, receive maximum, session state) belong to the
// broker (engine/mqtt).
//
// # Buffer ownership
//
// A decoded packet aliases src: its topic, payload, client identifier,
// strings in properties and filters point into the caller's buffer, and are
// valid only until the caller discards or reuses those bytes (on gnet,
// until Discard or the end of OnTraffic). Detach copies all of them; a
// caller that keeps only a few fields copies just those.
//
// The encoders append to a dst the caller owns: AppendPacket for every
// packet type, AppendAck and AppendPingresp for the hottest replies. They
// do not allocate when dst has room. The fixed header is written after the
// variable header (its length is not known before), by reserving five bytes
// and moving only the variable header down; a PUBLISH payload is copied
// once.
//
// # Goroutines
//
// The package has no state. Every function may be called from any
// goroutine, concurrently, as long as callers do not share a buffer they
// write.
package mqtt
