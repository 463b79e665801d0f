package ws

import (
	"errors"
	"strconv"
)

// Close status codes (RFC 6455 §7.4.1) that this package produces or
// inspects. Codes 1005, 1006 and 1015 are reserved for reporting and must
// never travel in a close frame (§7.4.1).
const (
	CloseNormal          uint16 = 1000 // normal closure
	CloseGoingAway       uint16 = 1001 // server shutdown, page navigated away
	CloseProtocolError   uint16 = 1002 // the peer broke RFC 6455
	CloseUnsupportedData uint16 = 1003 // a data type the endpoint cannot accept
	CloseNoStatus        uint16 = 1005 // reserved: close frame without a code
	CloseAbnormal        uint16 = 1006 // reserved: connection lost without a close frame
	CloseInvalidPayload  uint16 = 1007 // data inconsistent with the message type (bad UTF-8)
	ClosePolicyViolation uint16 = 1008 // generic policy violation
	CloseMessageTooBig   uint16 = 1009 // message larger than the endpoint accepts
	CloseMandatoryExt    uint16 = 1010 // client expected an extension the server did not accept
	CloseInternalError   uint16 = 1011 // unexpected condition on the server
	CloseServiceRestart  uint16 = 1012 // IANA registry: server restarting
	CloseTryAgainLater   uint16 = 1013 // IANA registry: temporary overload
	CloseBadGateway      uint16 = 1014 // IANA registry: bad gateway
	CloseTLSHandshake    uint16 = 1015 // reserved: TLS handshake failure
)

// CloseError is a protocol violation found by the Decoder. Code is the close
// status the server sends before closing the connection; Reason is a short,
// stable, lower-case label meant for metrics and logs (it is not sent to the
// peer unless the caller chooses to).
//
// The Decoder only returns the predeclared values below, so callers may
// compare with ==, errors.Is, or switch on Reason.
type CloseError struct {
	Code   uint16
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	return "ws: " + e.Reason + " (close " + strconv.Itoa(int(e.Code)) + ")"
}

// Decoder errors. Each names the RFC 6455 clause it enforces.
var (
	// ErrProtocolUnmasked: a client frame arrived without the MASK bit.
	// RFC 6455 §5.1: "The server MUST close the connection upon receiving a
	// frame that is not masked."
	ErrProtocolUnmasked = &CloseError{Code: CloseProtocolError, Reason: "unmasked"}

	// ErrProtocolReservedBits: RSV1, RSV2 or RSV3 was set although no
	// extension was negotiated (RFC 6455 §5.2).
	ErrProtocolReservedBits = &CloseError{Code: CloseProtocolError, Reason: "rsv"}

	// ErrProtocolOpcode: a reserved opcode (0x3-0x7, 0xB-0xF) arrived
	// (RFC 6455 §5.2: "If an unknown opcode is received, the receiving
	// endpoint MUST _Fail the WebSocket Connection_").
	ErrProtocolOpcode = &CloseError{Code: CloseProtocolError, Reason: "bad_opcode"}

	// ErrProtocolControlFragmented: a ping, pong or close frame had FIN=0
	// (RFC 6455 §5.5: "All control frames ... MUST NOT be fragmented").
	ErrProtocolControlFragmented = &CloseError{Code: CloseProtocolError, Reason: "control_fragmented"}

	// ErrProtocolControlTooLong: a control frame declared more than 125
	// payload bytes (RFC 6455 §5.5).
	ErrProtocolControlTooLong = &CloseError{Code: CloseProtocolError, Reason: "control_too_long"}

	// ErrProtocolContinuation: a continuation frame arrived while no
	// fragmented message was open (RFC 6455 §5.4).
	ErrProtocolContinuation = &CloseError{Code: CloseProtocolError, Reason: "unexpected_continuation"}

	// ErrProtocolInterleaved: a new text or binary frame arrived while a
	// fragmented message was still open (RFC 6455 §5.4: fragments of one
	// message must not be interleaved with another data message).
	ErrProtocolInterleaved = &CloseError{Code: CloseProtocolError, Reason: "interleaved_data"}

	// ErrProtocolLength: a 64-bit payload length had its most significant
	// bit set (RFC 6455 §5.2).
	ErrProtocolLength = &CloseError{Code: CloseProtocolError, Reason: "bad_length"}

	// ErrProtocolClosePayload: a close frame carried exactly one payload
	// byte, which cannot hold a status code (RFC 6455 §5.5.1).
	ErrProtocolClosePayload = &CloseError{Code: CloseProtocolError, Reason: "bad_close"}

	// ErrProtocolCloseCode: a close frame carried a status code that may not
	// be sent on the wire: below 1000, 1004-1006, 1015, 1016-2999 or 5000
	// and above (RFC 6455 §7.4.1, §7.4.2).
	ErrProtocolCloseCode = &CloseError{Code: CloseProtocolError, Reason: "bad_close_code"}

	// ErrTooBig: a data frame's declared length, or a fragmented message's
	// size so far plus the next fragment's declared length, exceeds
	// DecodeOptions.MaxMessageSize. Detected from the header alone, before
	// any payload is buffered (RFC 6455 §10.4; status 1009 per §7.4.1).
	ErrTooBig = &CloseError{Code: CloseMessageTooBig, Reason: "too_big"}

	// ErrInvalidUTF8: a text message is not valid UTF-8 (RFC 6455 §8.1;
	// status 1007 per §7.4.1). Fragmented text is checked fragment by
	// fragment, so the error comes as early as the bytes prove it.
	ErrInvalidUTF8 = &CloseError{Code: CloseInvalidPayload, Reason: "bad_utf8"}

	// ErrInvalidCloseReason: the reason text of a close frame is not valid
	// UTF-8 (RFC 6455 §5.5.1, §8.1).
	ErrInvalidCloseReason = &CloseError{Code: CloseInvalidPayload, Reason: "bad_close_reason"}
)

// CloseCodeFor returns the close status to send for err: 1000 for nil, the
// Code of a *CloseError, and 1011 (internal error) for anything else.
func CloseCodeFor(err error) uint16 {
	if err == nil {
		return CloseNormal
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return CloseInternalError
}

// ValidCloseCode reports whether code may appear in a close frame received
// from a peer (RFC 6455 §7.4.1, §7.4.2): the defined codes 1000-1003 and
// 1007-1011, the IANA-registered 1012-1014, and the ranges 3000-3999
// (libraries, frameworks) and 4000-4999 (private use). 1004 is reserved,
// 1005, 1006 and 1015 must never be sent, and 0-999 and 1016-2999 are
// unassigned or reserved for future revisions.
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// ParseClose splits a close frame payload that the Decoder has already
// validated into its status code and reason. An empty payload yields
// CloseNoStatus (1005) and an empty reason (RFC 6455 §7.1.5). The reason
// aliases payload.
func ParseClose(payload []byte) (code uint16, reason []byte) {
	if len(payload) < 2 {
		return CloseNoStatus, nil
	}
	return uint16(payload[0])<<8 | uint16(payload[1]), payload[2:]
}
