package client

import (
	"errors"

	pb "github.com/kefu-im/kefu/proto"
	"google.golang.org/protobuf/encoding/protowire"
)

// Errors of the envelope readers.
var (
	// ErrBadProto: a binary payload is not a protobuf Envelope.
	ErrBadProto = errors.New("client: bad protobuf envelope")
	// ErrBadJSON: a text payload is not a JSON object, or a field the bench
	// reads has a value of the wrong form.
	ErrBadJSON = errors.New("client: bad JSON envelope")
)

// Msg is the part of a server envelope the bench reads. Its byte slices
// alias the decoded payload: valid until the connection's inbound bytes are
// discarded (the end of the traffic callback). String values of the JSON
// form are raw (escapes are not undone); the server's ids never need them.
type Msg struct {
	Type         pb.Type
	ID           uint64
	Seq          uint64
	Conversation []byte
	ClientMsgID  []byte
	Sender       []byte
	Code         pb.Code // ERROR, GOAWAY: error.code
	More         bool
}

// ParseProto reads a protobuf Envelope into m, skipping fields it does not
// use. It does not allocate.
func ParseProto(b []byte, m *Msg) error {
	*m = Msg{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ErrBadProto
		}
		b = b[n:]
		switch {
		case typ == protowire.VarintType && (num == fType || num == fID || num == fSeq || num == fMore):
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return ErrBadProto
			}
			b = b[n:]
			switch num {
			case fType:
				m.Type = pb.Type(int32(v))
			case fID:
				m.ID = v
			case fSeq:
				m.Seq = v
			case fMore:
				m.More = v != 0
			}
		case typ == protowire.BytesType && (num == fConversation || num == fClientMsgID || num == fSender || num == fError):
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return ErrBadProto
			}
			b = b[n:]
			switch num {
			case fConversation:
				m.Conversation = v
			case fClientMsgID:
				m.ClientMsgID = v
			case fSender:
				m.Sender = v
			case fError:
				code, err := parseProtoErrorCode(v)
				if err != nil {
					return err
				}
				m.Code = code
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return ErrBadProto
			}
			b = b[n:]
		}
	}
	return nil
}

func parseProtoErrorCode(b []byte) (pb.Code, error) {
	var code pb.Code
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, ErrBadProto
		}
		b = b[n:]
		if num == fErrorCode && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, ErrBadProto
			}
			code = pb.Code(int32(v))
			b = b[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return 0, ErrBadProto
		}
		b = b[n:]
	}
	return code, nil
}

// maxJSONDepth bounds the nesting of skipped values.
const maxJSONDepth = 16

// ParseJSON reads the JSON form of an Envelope into m. It reads the keys
// it needs and skips the others (strings, numbers, literals, objects and
// arrays up to maxJSONDepth); enum values may be names or numbers. It does
// not allocate.
func ParseJSON(b []byte, m *Msg) error {
	*m = Msg{}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return ErrBadJSON
	}
	i, err := parseObject(b, i+1, func(key []byte, b []byte, i int) (int, error) {
		var err error
		switch string(key) {
		case "type":
			var v int64
			v, i, err = parseEnum(b, i, typeByName)
			m.Type = pb.Type(v)
		case "id":
			m.ID, i, err = parseUint(b, i)
		case "seq":
			m.Seq, i, err = parseUint(b, i)
		case "conversation":
			m.Conversation, i, err = scanString(b, i)
		case "client_msg_id", "clientMsgId":
			m.ClientMsgID, i, err = scanString(b, i)
		case "sender":
			m.Sender, i, err = scanString(b, i)
		case "more":
			m.More, i, err = parseBool(b, i)
		case "error":
			if i >= len(b) || b[i] != '{' {
				return skipValue(b, i, 1)
			}
			i, err = parseObject(b, i+1, func(key []byte, b []byte, i int) (int, error) {
				if string(key) != "code" {
					return skipValue(b, i, 2)
				}
				v, i, err := parseEnum(b, i, codeByName)
				m.Code = pb.Code(v)
				return i, err
			})
		default:
			i, err = skipValue(b, i, 1)
		}
		return i, err
	})
	if err != nil {
		return err
	}
	if skipWS(b, i) != len(b) {
		return ErrBadJSON
	}
	return nil
}

// parseObject reads "key": value pairs after an object's '{' up to and
// including its '}', calling field with i at each value; field returns the
// index after the value.
func parseObject(b []byte, i int, field func(key, b []byte, i int) (int, error)) (int, error) {
	i = skipWS(b, i)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		key, j, err := scanString(b, skipWS(b, i))
		if err != nil {
			return 0, err
		}
		j = skipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return 0, ErrBadJSON
		}
		if i, err = field(key, b, skipWS(b, j+1)); err != nil {
			return 0, err
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return 0, ErrBadJSON
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return i + 1, nil
		default:
			return 0, ErrBadJSON
		}
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanString reads the string at b[i] and returns its raw contents (between
// the quotes, escapes kept) and the index after the closing quote.
func scanString(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, ErrBadJSON
	}
	start := i + 1
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[start:j], j + 1, nil
		case c == '\\':
			j++ // the escaped byte (for a \u escape, the 'u': the four hex digits after it are plain bytes)
		case c < 0x20: // RFC 8259 §7: control characters must be escaped
			return nil, 0, ErrBadJSON
		}
	}
	return nil, 0, ErrBadJSON
}

func parseUint(b []byte, i int) (uint64, int, error) {
	start := i
	var v uint64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		d := uint64(b[i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, 0, ErrBadJSON
		}
		v = v*10 + d
		i++
	}
	if i == start {
		return 0, 0, ErrBadJSON
	}
	return v, i, nil
}

func parseBool(b []byte, i int) (bool, int, error) {
	switch {
	case len(b)-i >= 4 && string(b[i:i+4]) == "true":
		return true, i + 4, nil
	case len(b)-i >= 5 && string(b[i:i+5]) == "false":
		return false, i + 5, nil
	}
	return false, 0, ErrBadJSON
}

// parseEnum reads an enum given by name (looked up with byName) or number.
func parseEnum(b []byte, i int, byName func([]byte) int64) (int64, int, error) {
	if i < len(b) && b[i] == '"' {
		s, j, err := scanString(b, i)
		if err != nil {
			return 0, 0, err
		}
		return byName(s), j, nil
	}
	v, j, err := parseUint(b, i)
	if err != nil || v > 1<<31-1 {
		return 0, 0, ErrBadJSON
	}
	return int64(v), j, nil
}

// typeByName maps the JSON names of the types the bench receives (and the
// rest, for completeness) to their values; unknown names are 0.
func typeByName(s []byte) int64 {
	for v := int32(1); ; v++ {
		name := pb.TypeName(pb.Type(v))
		if name == "" {
			return 0
		}
		if string(s) == name {
			return int64(v)
		}
	}
}

func codeByName(s []byte) int64 {
	for v := int32(1); ; v++ {
		name := pb.CodeName(pb.Code(v))
		if name == "" {
			return 0
		}
		if string(s) == name {
			return int64(v)
		}
	}
}

// skipValue skips the JSON value at b[i]: a string, a number or literal, or
// an object or array (depth counts the enclosing levels).
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, ErrBadJSON
	}
	switch c := b[i]; {
	case c == '"':
		_, j, err := scanString(b, i)
		return j, err
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return 0, ErrBadJSON
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = skipWS(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if _, i, err = scanString(b, i); err != nil {
					return 0, err
				}
				if i = skipWS(b, i); i >= len(b) || b[i] != ':' {
					return 0, ErrBadJSON
				}
				i = skipWS(b, i+1)
			}
			if i, err = skipValue(b, i, depth+1); err != nil {
				return 0, err
			}
			i = skipWS(b, i)
			if i >= len(b) {
				return 0, ErrBadJSON
			}
			if b[i] == closer {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, ErrBadJSON
			}
			i = skipWS(b, i+1)
		}
	default: // number, true, false, null
		start := i
		for i < len(b) && (b[i] == '-' || b[i] == '+' || b[i] == '.' || (b[i] >= '0' && b[i] <= '9') || (b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z')) {
			i++
		}
		if i == start {
			return 0, ErrBadJSON
		}
		return i, nil
	}
}
