package ws

import "unicode/utf8"

// MaxHeaderSize is the largest header of a server frame: 2 bytes, plus an
// 8-byte extended length, and no masking key (RFC 6455 §5.1: a server MUST
// NOT mask its frames).
const MaxHeaderSize = 10

// HeaderSize returns the size of the server frame header for a payload of
// length bytes: 2, 4 or 10 (RFC 6455 §5.2, minimal length encoding).
func HeaderSize(length int) int {
	switch {
	case length <= maxControl:
		return 2
	case length <= 0xFFFF:
		return 4
	}
	return 10
}

// AppendHeader appends the header of an unfragmented (FIN set), unmasked
// frame of opcode op carrying length payload bytes. The caller appends the
// payload. It panics on a negative length.
func AppendHeader(dst []byte, op OpCode, length int) []byte {
	b0 := bitFin | byte(op)
	switch {
	case length < 0:
		panic("BUG: ws: negative frame length")
	case length <= maxControl:
		return append(dst, b0, byte(length))
	case length <= 0xFFFF:
		return append(dst, b0, len16, byte(length>>8), byte(length))
	}
	l := uint64(length)
	return append(dst, b0, len64,
		byte(l>>56), byte(l>>48), byte(l>>40), byte(l>>32),
		byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
}

// AppendFrame appends an unfragmented, unmasked frame of opcode op carrying
// payload. It does not allocate when dst has room.
func AppendFrame(dst []byte, op OpCode, payload []byte) []byte {
	dst = AppendHeader(dst, op, len(payload))
	return append(dst, payload...)
}

// PutHeader writes the header of an unfragmented, unmasked frame of opcode
// op and length payload bytes so that it ends exactly at len(buf), and
// returns the index in buf where the header starts. buf is space reserved
// in front of a payload; it must hold HeaderSize(length) bytes, or PutHeader
// panics.
func PutHeader(buf []byte, op OpCode, length int) int {
	start := len(buf) - HeaderSize(length)
	if start < 0 {
		panic("BUG: ws: PutHeader: reserved space shorter than the header")
	}
	AppendHeader(buf[start:start], op, length)
	return start
}

// FrameInPlace turns buf into a frame without copying the payload:
// buf[:MaxHeaderSize] is reserved space and buf[MaxHeaderSize:] the payload.
// It writes the header right before the payload and returns the frame, a
// sub-slice of buf that starts at the header. It panics when buf is shorter
// than MaxHeaderSize.
func FrameInPlace(buf []byte, op OpCode) []byte {
	if len(buf) < MaxHeaderSize {
		panic("BUG: ws: FrameInPlace: buffer shorter than MaxHeaderSize")
	}
	start := PutHeader(buf[:MaxHeaderSize], op, len(buf)-MaxHeaderSize)
	return buf[start:]
}

// AppendClose appends a close frame carrying code and reason (RFC 6455
// §5.5.1). The codes that must never be sent (0, 1005, 1006, 1015; §7.4.1)
// produce a close frame with an empty payload, which is how "no status" is
// said on the wire. A reason longer than 123 bytes is cut at a code point
// boundary so that the payload fits a control frame (§5.5).
func AppendClose(dst []byte, code uint16, reason string) []byte {
	switch code {
	case 0, CloseNoStatus, CloseAbnormal, CloseTLSHandshake:
		return append(dst, bitFin|byte(OpClose), 0)
	}
	if len(reason) > maxControl-2 {
		cut := maxControl - 2
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut]
	}
	dst = AppendHeader(dst, OpClose, 2+len(reason))
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...)
}

// AppendPing appends a ping frame (RFC 6455 §5.5.2). A payload longer than
// 125 bytes is cut to 125.
func AppendPing(dst []byte, payload []byte) []byte {
	return AppendFrame(dst, OpPing, payload[:min(len(payload), maxControl)])
}

// AppendPong appends a pong frame (RFC 6455 §5.5.3), usually echoing the
// payload of a ping the Decoder returned. A payload longer than 125 bytes
// is cut to 125.
func AppendPong(dst []byte, payload []byte) []byte {
	return AppendFrame(dst, OpPong, payload[:min(len(payload), maxControl)])
}
