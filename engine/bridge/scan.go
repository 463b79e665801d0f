package bridge

import (
	"bytes"

	"github.com/kefu-im/kefu/proto"
)

// head is what the bridge reads of an envelope a worker wrote for it: the
// fields it acts on, which proto.AppendJSON writes first (keys come in
// field-number order: type 1, id 2, conversation 3, seq 4, client_msg_id 5,
// sender 6, then kind, body and the rest).
//
//	{"type":"message","conversation":"c1","seq":7,"sender":"a:alice","kind":"text","body":"hi","ts":…}
//	 └──────────────── scanned ──────────────────────────────────────┘└── left as it is ─────────┘
type head struct {
	typ    proto.Type // 0 for a type the bridge ignores
	id     uint64
	seq    uint64
	conv   []byte // the raw contents of the JSON string: aliases the input
	sender []byte
}

// scanHead reads the leading fields of a JSON envelope written by
// proto.AppendJSON, in any order, until the first other key or the end of
// the object, without allocating. ok is false for anything else (a
// malformed object, a number where a string belongs, an escaped key, a
// type written as a number): the caller then decodes the envelope in
// full. Strings are not unescaped: conversation ids and senders contain
// nothing AppendJSON escapes, and a raw comparison with an escaped value
// only fails to match.
func scanHead(b []byte) (h head, ok bool) {
	if len(b) < 2 || b[0] != '{' {
		return h, false
	}
	if b[1] == '}' {
		return h, len(b) == 2
	}
	i := 1
	for {
		// "key":
		if i >= len(b) || b[i] != '"' {
			return h, false
		}
		k := bytes.IndexByte(b[i+1:], '"')
		if k < 0 {
			return h, false
		}
		key := b[i+1 : i+1+k]
		i += k + 2
		if bytes.IndexByte(key, '\\') >= 0 || i >= len(b) || b[i] != ':' {
			return h, false
		}
		i++
		var n int
		switch string(key) {
		case "type":
			var s []byte
			if s, n, ok = scanString(b[i:]); ok {
				h.typ = typeOf(s)
			}
		case "id":
			h.id, n, ok = scanUint(b[i:])
		case "seq":
			h.seq, n, ok = scanUint(b[i:])
		case "conversation":
			h.conv, n, ok = scanString(b[i:])
		case "sender":
			h.sender, n, ok = scanString(b[i:])
		case "client_msg_id":
			_, n, ok = scanString(b[i:])
		default:
			return h, true // what follows is not the bridge's
		}
		if !ok {
			return h, false
		}
		i += n
		if i >= len(b) {
			return h, false
		}
		switch b[i] {
		case ',':
			i++
		case '}':
			return h, i == len(b)-1
		default:
			return h, false
		}
	}
}

// scanString reads a JSON string at the start of b and returns its raw
// contents (escapes left in) and the bytes it took.
func scanString(b []byte) (s []byte, n int, ok bool) {
	if len(b) == 0 || b[0] != '"' {
		return nil, 0, false
	}
	for j := 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			j++ // the escaped byte; a \u escape's digits need no care
		case c == '"':
			return b[1:j], j + 1, true
		case c < 0x20:
			return nil, 0, false // RFC 8259 §7: control characters are escaped
		}
	}
	return nil, 0, false
}

// scanUint reads a JSON non-negative integer that fits 64 bits.
func scanUint(b []byte) (v uint64, n int, ok bool) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		d := uint64(b[n] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, 0, false
		}
		v = v*10 + d
		n++
	}
	if n == 0 || n > 1 && b[0] == '0' {
		return 0, 0, false // RFC 8259 §6: no leading zeros
	}
	return v, n, true
}

// typeOf maps the JSON names of the types the bridge acts on.
func typeOf(s []byte) proto.Type {
	switch string(s) {
	case "message":
		return proto.Type_TYPE_MESSAGE
	case "ack":
		return proto.Type_TYPE_ACK
	case "event":
		return proto.Type_TYPE_EVENT
	case "joined":
		return proto.Type_TYPE_JOINED
	case "replay_end":
		return proto.Type_TYPE_REPLAY_END
	case "error":
		return proto.Type_TYPE_ERROR
	}
	return proto.Type_TYPE_UNSPECIFIED
}
