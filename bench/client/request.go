package client

import (
	"strconv"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/ws"
	pb "github.com/kefu-im/kefu/proto"
	"google.golang.org/protobuf/encoding/protowire"
)

// Hello is what a connection says about itself in its HELLO.
type Hello struct {
	Site   string
	Role   pb.Role
	User   string
	Token  string // agent: required by Kefu
	Client string // informational
}

// Request is one client envelope. Its byte slices are only read while it
// is encoded; the encoders keep nothing.
type Request struct {
	Type         pb.Type
	ID           uint64
	Conversation []byte
	Seq          uint64
	ClientMsgID  []byte
	Body         []byte // SEND: sent with kind TEXT
	Hello        *Hello // HELLO only
}

// Envelope field numbers (proto/kefu.proto).
const (
	fType         = 1
	fID           = 2
	fConversation = 3
	fSeq          = 4
	fClientMsgID  = 5
	fSender       = 6
	fKind         = 7
	fBody         = 8
	fHello        = 10
	fError        = 12
	fMore         = 13

	fHelloSite   = 1
	fHelloRole   = 2
	fHelloUser   = 3
	fHelloToken  = 4
	fHelloClient = 5

	fErrorCode = 1
)

// AppendProto appends the protobuf encoding of r (kefu.v1.Envelope) to dst.
// It does not allocate when dst has room.
func AppendProto(dst []byte, r *Request) []byte {
	dst = appendVarintField(dst, fType, uint64(r.Type))
	dst = appendVarintField(dst, fID, r.ID)
	dst = appendBytesField(dst, fConversation, r.Conversation)
	dst = appendVarintField(dst, fSeq, r.Seq)
	dst = appendBytesField(dst, fClientMsgID, r.ClientMsgID)
	if r.Type == pb.Type_TYPE_SEND {
		dst = appendVarintField(dst, fKind, uint64(pb.Kind_KIND_TEXT))
	}
	dst = appendBytesField(dst, fBody, r.Body)
	if h := r.Hello; h != nil {
		n := sizeString(fHelloSite, h.Site) + sizeVarint(fHelloRole, uint64(h.Role)) +
			sizeString(fHelloUser, h.User) + sizeString(fHelloToken, h.Token) + sizeString(fHelloClient, h.Client)
		dst = protowire.AppendTag(dst, fHello, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(n))
		dst = appendStringField(dst, fHelloSite, h.Site)
		dst = appendVarintField(dst, fHelloRole, uint64(h.Role))
		dst = appendStringField(dst, fHelloUser, h.User)
		dst = appendStringField(dst, fHelloToken, h.Token)
		dst = appendStringField(dst, fHelloClient, h.Client)
	}
	return dst
}

func appendVarintField(dst []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.VarintType)
	return protowire.AppendVarint(dst, v)
}

func appendBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	if len(b) == 0 {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

func appendStringField(dst []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return dst
	}
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendString(dst, s)
}

func sizeVarint(num protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeVarint(v)
}

func sizeString(num protowire.Number, s string) int {
	if s == "" {
		return 0
	}
	return protowire.SizeTag(num) + protowire.SizeBytes(len(s))
}

// AppendJSON appends the JSON form of r (docs/protocol-ws.md) to dst. It
// does not allocate when dst has room.
func AppendJSON(dst []byte, r *Request) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, pb.TypeName(r.Type)...)
	dst = append(dst, '"')
	if r.ID != 0 {
		dst = append(dst, `,"id":`...)
		dst = strconv.AppendUint(dst, r.ID, 10)
	}
	if len(r.Conversation) > 0 {
		dst = append(dst, `,"conversation":`...)
		dst = appendJSONString(dst, r.Conversation)
	}
	if r.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, r.Seq, 10)
	}
	if len(r.ClientMsgID) > 0 {
		dst = append(dst, `,"client_msg_id":`...)
		dst = appendJSONString(dst, r.ClientMsgID)
	}
	if r.Type == pb.Type_TYPE_SEND {
		dst = append(dst, `,"kind":"text"`...)
	}
	if len(r.Body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = appendJSONString(dst, r.Body)
	}
	if h := r.Hello; h != nil {
		dst = append(dst, `,"hello":{"site":`...)
		dst = appendJSONString(dst, h.Site)
		dst = append(dst, `,"role":"`...)
		dst = append(dst, pb.RoleName(h.Role)...)
		dst = append(dst, `","user":`...)
		dst = appendJSONString(dst, h.User)
		if h.Token != "" {
			dst = append(dst, `,"token":`...)
			dst = appendJSONString(dst, h.Token)
		}
		if h.Client != "" {
			dst = append(dst, `,"client":`...)
			dst = appendJSONString(dst, h.Client)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (RFC 8259 §7): quotes,
// backslashes and control characters escaped, everything else as is.
func appendJSONString[S ~string | ~[]byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Transport is how a connection carries envelopes.
type Transport uint8

// Transports.
const (
	// Frame is the binary TCP protocol (docs/protocol-frame.md).
	Frame Transport = iota
	// WSJSON is WebSocket with text frames of JSON (subprotocol kefu.json).
	WSJSON
	// WSProto is WebSocket with binary frames of protobuf (kefu.proto).
	WSProto
	// MQTT is MQTT 3.1.1 or 5 over TCP (docs/protocol-mqtt.md): the
	// connection's MQTTConnect says which.
	MQTT
)

func (t Transport) String() string {
	switch t {
	case Frame:
		return "frame"
	case WSJSON:
		return "ws"
	case WSProto:
		return "ws-proto"
	case MQTT:
		return "mqtt"
	}
	return "transport(" + strconv.Itoa(int(t)) + ")"
}

// ParseTransport maps "frame", "ws" (JSON), "ws-proto" and "mqtt" to a
// Transport.
func ParseTransport(s string) (Transport, bool) {
	switch s {
	case "frame":
		return Frame, true
	case "ws", "ws-json":
		return WSJSON, true
	case "ws-proto":
		return WSProto, true
	case "mqtt":
		return MQTT, true
	}
	return 0, false
}

// IsWS reports whether t is a WebSocket transport.
func (t Transport) IsWS() bool { return t == WSJSON || t == WSProto }

// Subprotocol is the Sec-WebSocket-Protocol a WebSocket transport asks for.
func (t Transport) Subprotocol() string {
	switch t {
	case WSJSON:
		return "kefu.json"
	case WSProto:
		return "kefu.proto"
	}
	return ""
}

// AppendEnvelope appends r as one wire unit of transport t: a binary frame,
// or a masked WebSocket text (JSON) or binary (protobuf) frame masked with
// key. It does not allocate when dst has room. MQTT carries no envelopes:
// dst is returned as it is.
func AppendEnvelope(dst []byte, t Transport, r *Request, key uint32) []byte {
	start := len(dst)
	switch t {
	case Frame:
		dst = append(dst, make([]byte, frame.HeaderSize)...)
		dst = AppendProto(dst, r)
		frame.PutHeader(dst[start:], frame.Header{
			Type:      uint8(r.Type),
			RequestID: uint32(r.ID),
			Length:    uint32(len(dst) - start - frame.HeaderSize),
		})
		return dst
	case WSJSON:
		dst = append(dst, make([]byte, MaxClientHeader)...)
		dst = AppendJSON(dst, r)
		return maskInPlace(dst, start, ws.OpText, key)
	case MQTT:
		return dst
	default:
		dst = append(dst, make([]byte, MaxClientHeader)...)
		dst = AppendProto(dst, r)
		return maskInPlace(dst, start, ws.OpBinary, key)
	}
}
