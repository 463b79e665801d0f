package proto

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Errors of UnmarshalJSON. They are returned as they are (no offset is
// attached), so that rejecting a flood of bad frames allocates nothing.
var (
	// ErrJSONSyntax: the input is not well-formed JSON (RFC 8259): an
	// unexpected byte, an unterminated string, a bad escape, a raw control
	// character in a string, a malformed number or literal, a trailing comma,
	// or bytes after the object.
	ErrJSONSyntax = errors.New("proto: JSON syntax error")

	// ErrJSONNotObject: the top-level value is not a JSON object.
	ErrJSONNotObject = errors.New("proto: JSON envelope is not an object")

	// ErrJSONType: a known key has a value of the wrong JSON type (a number
	// for a string field, a string that is not a decimal integer for a
	// number field, an object where an array belongs, null inside cursors).
	ErrJSONType = errors.New("proto: JSON value of the wrong type")

	// ErrJSONRange: a number is not an integer (fraction or exponent), or
	// does not fit its field (negative for an unsigned field, above 2^32-1
	// for limit, outside int32 for an enum, outside 64 bits).
	ErrJSONRange = errors.New("proto: JSON number out of range")

	// ErrJSONEnum: an enum value is a string that names no value of its
	// enum in this version.
	ErrJSONEnum = errors.New("proto: unknown JSON enum name")

	// ErrJSONUTF8: a string (key or value) contains bytes that are not valid
	// UTF-8 (RFC 8259 §8.1).
	ErrJSONUTF8 = errors.New("proto: JSON string is not valid UTF-8")

	// ErrJSONDuplicate: a known key appears twice in one object ("seq" twice,
	// or "client_msg_id" and its alias "clientMsgId"). Rejected so that
	// every reader of a payload agrees on its meaning (RFC 8259 §4).
	ErrJSONDuplicate = errors.New("proto: duplicate JSON key")

	// ErrJSONDepth: objects or arrays nest deeper than the schema does
	// (MaxJSONDepth), inside unknown keys too.
	ErrJSONDepth = errors.New("proto: JSON nested too deeply")
)

// MaxJSONDepth is the deepest nesting of objects and arrays UnmarshalJSON
// accepts: the envelope (1), hello, error and the cursors array (2), one
// cursor (3).
const MaxJSONDepth = 3

// AppendJSON appends the JSON form of e to dst and returns the extended
// slice. Keys come in field-number order; fields holding their zero value
// are left out (a non-nil hello or error is written even when empty).
// Enums are written by name, or as numbers when this version does not know
// the value. Strings are escaped so that the output is valid UTF-8 and
// contains no '<', '>', '&', U+2028 or U+2029; bytes of s that are not
// valid UTF-8 are written as \ufffd. A nil e is written as {}.
//
// AppendJSON does not allocate when dst has room; it is safe for
// concurrent use with other readers of e.
func AppendJSON(dst []byte, e *Envelope) []byte {
	dst = append(dst, '{')
	if e == nil {
		return append(dst, '}')
	}
	if e.Type != 0 {
		dst = appendKey(dst, `"type":`)
		dst = appendEnum(dst, typeNames[:], int32(e.Type))
	}
	if e.Id != 0 {
		dst = appendKey(dst, `"id":`)
		dst = strconv.AppendUint(dst, e.Id, 10)
	}
	if e.Conversation != "" {
		dst = appendKey(dst, `"conversation":`)
		dst = appendString(dst, e.Conversation)
	}
	if e.Seq != 0 {
		dst = appendKey(dst, `"seq":`)
		dst = strconv.AppendUint(dst, e.Seq, 10)
	}
	if e.ClientMsgId != "" {
		dst = appendKey(dst, `"client_msg_id":`)
		dst = appendString(dst, e.ClientMsgId)
	}
	if e.Sender != "" {
		dst = appendKey(dst, `"sender":`)
		dst = appendString(dst, e.Sender)
	}
	if e.Kind != 0 {
		dst = appendKey(dst, `"kind":`)
		dst = appendEnum(dst, kindNames[:], int32(e.Kind))
	}
	if e.Body != "" {
		dst = appendKey(dst, `"body":`)
		dst = appendString(dst, e.Body)
	}
	if e.Ts != 0 {
		dst = appendKey(dst, `"ts":`)
		dst = strconv.AppendInt(dst, e.Ts, 10)
	}
	if h := e.Hello; h != nil {
		dst = appendKey(dst, `"hello":`)
		dst = appendHello(dst, h)
	}
	if len(e.Cursors) > 0 {
		dst = appendKey(dst, `"cursors":`)
		dst = append(dst, '[')
		for i, c := range e.Cursors {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendCursor(dst, c)
		}
		dst = append(dst, ']')
	}
	if er := e.Error; er != nil {
		dst = appendKey(dst, `"error":`)
		dst = appendError(dst, er)
	}
	if e.More {
		dst = appendKey(dst, `"more":true`)
	}
	if e.Limit != 0 {
		dst = appendKey(dst, `"limit":`)
		dst = strconv.AppendUint(dst, uint64(e.Limit), 10)
	}
	if e.Event != "" {
		dst = appendKey(dst, `"event":`)
		dst = appendString(dst, e.Event)
	}
	if len(e.Tags) > 0 {
		dst = appendKey(dst, `"tags":`)
		dst = append(dst, '[')
		for i, t := range e.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, t)
		}
		dst = append(dst, ']')
	}
	if e.Agent != "" {
		dst = appendKey(dst, `"agent":`)
		dst = appendString(dst, e.Agent)
	}
	if e.Group != "" {
		dst = appendKey(dst, `"group":`)
		dst = appendString(dst, e.Group)
	}
	if e.Rating != 0 {
		dst = appendKey(dst, `"rating":`)
		dst = strconv.AppendUint(dst, uint64(e.Rating), 10)
	}
	if e.Status != "" {
		dst = appendKey(dst, `"status":`)
		dst = appendString(dst, e.Status)
	}
	if e.State != "" {
		dst = appendKey(dst, `"state":`)
		dst = appendString(dst, e.State)
	}
	if e.Position != 0 {
		dst = appendKey(dst, `"position":`)
		dst = strconv.AppendUint(dst, uint64(e.Position), 10)
	}
	return append(dst, '}')
}

func appendHello(dst []byte, h *Hello) []byte {
	dst = append(dst, '{')
	if h.Site != "" {
		dst = appendKey(dst, `"site":`)
		dst = appendString(dst, h.Site)
	}
	if h.Role != 0 {
		dst = appendKey(dst, `"role":`)
		dst = appendEnum(dst, roleNames[:], int32(h.Role))
	}
	if h.User != "" {
		dst = appendKey(dst, `"user":`)
		dst = appendString(dst, h.User)
	}
	if h.Token != "" {
		dst = appendKey(dst, `"token":`)
		dst = appendString(dst, h.Token)
	}
	if h.Client != "" {
		dst = appendKey(dst, `"client":`)
		dst = appendString(dst, h.Client)
	}
	return append(dst, '}')
}

func appendCursor(dst []byte, c *Cursor) []byte {
	dst = append(dst, '{')
	if c != nil {
		if c.Conversation != "" {
			dst = appendKey(dst, `"conversation":`)
			dst = appendString(dst, c.Conversation)
		}
		if c.Seq != 0 {
			dst = appendKey(dst, `"seq":`)
			dst = strconv.AppendUint(dst, c.Seq, 10)
		}
	}
	return append(dst, '}')
}

func appendError(dst []byte, er *Error) []byte {
	dst = append(dst, '{')
	if er.Code != 0 {
		dst = appendKey(dst, `"code":`)
		dst = appendEnum(dst, codeNames[:], int32(er.Code))
	}
	if er.Message != "" {
		dst = appendKey(dst, `"message":`)
		dst = appendString(dst, er.Message)
	}
	if er.Retryable {
		dst = appendKey(dst, `"retryable":true`)
	}
	return append(dst, '}')
}

// appendKey appends k (a quoted key and its colon), after a comma unless it
// opens the object. Every value ends in a byte other than '{', so the last
// byte tells.
func appendKey(dst []byte, k string) []byte {
	if dst[len(dst)-1] != '{' {
		dst = append(dst, ',')
	}
	return append(dst, k...)
}

func appendEnum(dst []byte, names []string, v int32) []byte {
	if v >= 0 && int(v) < len(names) {
		dst = append(dst, '"')
		dst = append(dst, names[v]...)
		return append(dst, '"')
	}
	return strconv.AppendInt(dst, int64(v), 10)
}

const hexDigits = "0123456789abcdef"

// plainASCII[c] is true for the ASCII bytes written as they are inside a
// JSON string: not a control character (RFC 8259 §7), not '"' or '\\', and
// not '<', '>' or '&', so that the output can sit inside HTML <script>.
var plainASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendString appends s as a JSON string (see AppendJSON for the escapes).
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && safe8(loadString8(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if plainASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default: // other controls, '<', '>', '&'
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			// Valid JSON, but line terminators in JavaScript before ES2019.
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// loadString8 packs the first eight bytes of s little-endian, as
// binary.LittleEndian.Uint64 does for a slice (the compiler makes both one
// load).
func loadString8(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// safe8 reports whether the eight bytes packed in w are all plainASCII,
// with the has-zero-byte trick of plain8 (json_scan.go): a lane fails when
// it has its top bit set, is below 0x20, or equals one of '"', '\\', '<',
// '>', '&'.
func safe8(w uint64) bool {
	bad := w | (w - lanes01*0x20) | // top bit set, or below 0x20 (borrow)
		zeroLane(w^lanes01*'"') | zeroLane(w^lanes01*'\\') |
		zeroLane(w^lanes01*'<') | zeroLane(w^lanes01*'>') | zeroLane(w^lanes01*'&')
	return bad&lanes80 == 0
}
