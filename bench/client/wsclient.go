package client

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"

	"github.com/kefu-im/kefu/codec/ws"
)

// Errors of the client side of WebSocket.
var (
	// ErrUpgradeTooLarge: the server's handshake response is longer than
	// MaxUpgradeResponse without its blank line.
	ErrUpgradeTooLarge = errors.New("client: upgrade response too large")
	// ErrUpgradeBad: the handshake response is not an HTTP/1.1 status line
	// and headers (RFC 6455 §4.1, client requirement 1).
	ErrUpgradeBad = errors.New("client: malformed upgrade response")
	// ErrUpgradeAccept: the response's Sec-WebSocket-Accept does not prove
	// that the server read our key (RFC 6455 §4.1, client requirement 4).
	ErrUpgradeAccept = errors.New("client: bad Sec-WebSocket-Accept")
	// ErrServerMasked: a server frame has its mask bit set (RFC 6455 §5.1:
	// the client MUST close).
	ErrServerMasked = errors.New("client: masked server frame")
	// ErrWSFrame: a server frame uses reserved bits or opcodes, a control
	// frame is fragmented or longer than 125 bytes, or its length is not
	// minimally encoded (RFC 6455 §5.2, §5.5).
	ErrWSFrame = errors.New("client: bad server frame")
	// ErrWSTooLarge: a server frame declares more than the client's limit.
	ErrWSTooLarge = errors.New("client: server frame too large")
)

// MaxUpgradeResponse bounds the server's handshake response.
const MaxUpgradeResponse = 8 << 10

// wsGUID is the key suffix of RFC 6455 §1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// KeySize is the length of a base64 Sec-WebSocket-Key (16 bytes encoded).
const KeySize = 24

// NewKey encodes 16 random bytes as a Sec-WebSocket-Key (RFC 6455 §4.1).
func NewKey(random [16]byte) (key [KeySize]byte) {
	base64.StdEncoding.Encode(key[:], random[:])
	return key
}

// AcceptFor returns the Sec-WebSocket-Accept a server must answer to key.
func AcceptFor(key []byte) [28]byte {
	h := sha1.New()
	h.Write(key)
	h.Write([]byte(wsGUID))
	var sum [sha1.Size]byte
	var out [28]byte
	base64.StdEncoding.Encode(out[:], h.Sum(sum[:0]))
	return out
}

// AppendUpgradeRequest appends the opening handshake (RFC 6455 §4.1): a GET
// of path on host with the given key, asking for subprotocol when it is not
// empty.
func AppendUpgradeRequest(dst []byte, host, path string, key []byte, subprotocol string) []byte {
	dst = append(dst, "GET "...)
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "...)
	dst = append(dst, key...)
	if subprotocol != "" {
		dst = append(dst, "\r\nSec-WebSocket-Protocol: "...)
		dst = append(dst, subprotocol...)
	}
	return append(dst, "\r\n\r\n"...)
}

// ParseUpgradeResponse reads the server's handshake response at the start
// of src. It returns n > 0 (the bytes of the response, headers and blank
// line) once the whole response is there; n == 0 and a nil error when more
// bytes are needed. status is the HTTP status code; err is nil only for a
// 101 whose Sec-WebSocket-Accept matches accept. For another status, n and
// status are set and err is ErrUpgradeBad.
func ParseUpgradeResponse(src []byte, accept []byte) (n, status int, err error) {
	end := bytes.Index(src, []byte("\r\n\r\n"))
	if end < 0 {
		if len(src) > MaxUpgradeResponse {
			return 0, 0, ErrUpgradeTooLarge
		}
		return 0, 0, nil
	}
	if end > MaxUpgradeResponse {
		return 0, 0, ErrUpgradeTooLarge
	}
	n = end + 4
	head := src[:end]
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	// RFC 7230 §3.1.2: status-line = HTTP-version SP status-code SP reason-phrase
	if !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) || len(line) < 12 {
		return n, 0, ErrUpgradeBad
	}
	code, perr := strconv.Atoi(string(line[9:12]))
	if perr != nil || (len(line) > 12 && line[12] != ' ') {
		return n, 0, ErrUpgradeBad
	}
	if code != 101 { // RFC 6455 §4.1: anything but 101 fails the handshake
		return n, code, ErrUpgradeBad
	}
	var upgrade, gotAccept bool
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return n, code, ErrUpgradeBad
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Upgrade")):
			upgrade = bytes.EqualFold(value, []byte("websocket"))
		case bytes.EqualFold(name, []byte("Sec-WebSocket-Accept")):
			if !bytes.Equal(value, accept) {
				return n, code, ErrUpgradeAccept
			}
			gotAccept = true
		}
	}
	if !upgrade { // RFC 6455 §4.1, client requirement 2
		return n, code, ErrUpgradeBad
	}
	if !gotAccept {
		return n, code, ErrUpgradeAccept
	}
	return n, code, nil
}

// MaxClientHeader is the largest client frame header: 2 bytes, an 8-byte
// extended length and the 4-byte masking key.
const MaxClientHeader = 14

// clientHeaderSize is the header size of a masked frame of length bytes.
func clientHeaderSize(length int) int {
	switch {
	case length <= 125:
		return 2 + 4
	case length <= 0xFFFF:
		return 4 + 4
	}
	return 10 + 4
}

// putClientHeader writes the header of a final, masked frame into b, which
// holds exactly clientHeaderSize(length) bytes.
func putClientHeader(b []byte, op ws.OpCode, length int, key uint32) {
	b[0] = 0x80 | byte(op)
	switch {
	case length <= 125:
		b[1] = 0x80 | byte(length)
	case length <= 0xFFFF:
		b[1] = 0x80 | 126
		binary.BigEndian.PutUint16(b[2:], uint16(length))
	default:
		b[1] = 0x80 | 127
		binary.BigEndian.PutUint64(b[2:], uint64(length))
	}
	binary.BigEndian.PutUint32(b[len(b)-4:], key)
}

// AppendMasked appends a final client frame of opcode op carrying payload,
// masked with key (RFC 6455 §5.3).
func AppendMasked(dst []byte, op ws.OpCode, payload []byte, key uint32) []byte {
	hs := clientHeaderSize(len(payload))
	start := len(dst)
	dst = append(dst, make([]byte, hs)...)
	putClientHeader(dst[start:start+hs], op, len(payload), key)
	dst = append(dst, payload...)
	mask(dst[start+hs:], key)
	return dst
}

// maskInPlace turns dst[start:] — MaxClientHeader reserved bytes followed by
// a payload encoded in place — into one masked client frame starting at
// start, and returns the shortened dst.
func maskInPlace(dst []byte, start int, op ws.OpCode, key uint32) []byte {
	n := len(dst) - start - MaxClientHeader
	hs := clientHeaderSize(n)
	putClientHeader(dst[start:start+hs], op, n, key)
	copy(dst[start+hs:], dst[start+MaxClientHeader:])
	dst = dst[:start+hs+n]
	mask(dst[start+hs:], key)
	return dst
}

// mask XORs p with the 4-byte key, big-endian, starting at key byte 0.
func mask(p []byte, key uint32) {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], key)
	k4 := uint64(binary.LittleEndian.Uint32(k[:]))
	k8 := k4 | k4<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= k[i&3]
	}
}

// WSFrame is one server frame. Payload aliases the decoded bytes.
type WSFrame struct {
	Fin     bool
	Op      ws.OpCode
	Payload []byte
}

// DecodeServerFrame decodes the server frame at the start of src: n > 0
// when a whole frame is there, n == 0 and a nil error when more bytes are
// needed. Frames longer than maxPayload are ErrWSTooLarge, checked from the
// header alone.
func DecodeServerFrame(src []byte, maxPayload int) (f WSFrame, n int, err error) {
	if len(src) < 2 {
		return f, 0, nil
	}
	b0, b1 := src[0], src[1]
	f.Fin = b0&0x80 != 0
	f.Op = ws.OpCode(b0 & 0x0F)
	switch {
	case b0&0x70 != 0: // §5.2: RSV bits without a negotiated extension
		return f, 0, ErrWSFrame
	case b1&0x80 != 0: // §5.1: a server never masks
		return f, 0, ErrServerMasked
	}
	switch f.Op {
	case ws.OpContinuation, ws.OpText, ws.OpBinary:
	case ws.OpClose, ws.OpPing, ws.OpPong:
		if !f.Fin || b1&0x7F > 125 { // §5.5: control frames are short and whole
			return f, 0, ErrWSFrame
		}
	default: // §5.2: reserved opcodes
		return f, 0, ErrWSFrame
	}
	length := uint64(b1 & 0x7F)
	hs := 2
	switch length {
	case 126:
		if len(src) < 4 {
			return f, 0, nil
		}
		length = uint64(binary.BigEndian.Uint16(src[2:]))
		hs = 4
		if length < 126 { // §5.2: the minimal number of bytes MUST be used
			return f, 0, ErrWSFrame
		}
	case 127:
		if len(src) < 10 {
			return f, 0, nil
		}
		length = binary.BigEndian.Uint64(src[2:])
		hs = 10
		if length <= 0xFFFF || length>>63 != 0 {
			return f, 0, ErrWSFrame
		}
	}
	if length > uint64(maxPayload) {
		return f, 0, ErrWSTooLarge
	}
	end := hs + int(length)
	if len(src) < end {
		return f, 0, nil
	}
	f.Payload = src[hs:end:end]
	return f, end, nil
}
