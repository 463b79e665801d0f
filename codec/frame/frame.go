package frame

import (
	"encoding/binary"

	pb "github.com/kefu-im/kefu/proto"
)

// Wire constants (docs/protocol-frame.md §2, §9).
const (
	// HeaderSize is the size of a frame header in bytes.
	HeaderSize = 12
	// Magic is byte 0 of every frame: 'K'. It is also how a shared port
	// tells this protocol from HTTP ('G', 'P', …) and MQTT (0x10).
	Magic = 0x4B
	// Version is the protocol version this package speaks (byte 1).
	Version = 1
	// DefaultMaxPayload is the payload limit used when Decode is given a
	// maxPayload <= 0: 64 KiB.
	DefaultMaxPayload = 64 << 10
	// HardMaxPayload is the largest payload any receiver accepts, whatever it
	// is configured with: 16 MiB.
	HardMaxPayload = 16 << 20
)

// Header is a decoded frame header. Magic and version are implied: a Header
// that Decode returns without error had Magic and Version.
type Header struct {
	// Type is a kefu.v1.Type value; never 0 on a valid frame.
	Type uint8
	// Flags are reserved in version 1 and must be 0.
	Flags uint8
	// RequestID is the low 32 bits of Envelope.id; 0 = no reply expected.
	RequestID uint32
	// Length is the payload length in bytes, not counting the header.
	Length uint32
}

// Frame is one decoded frame.
type Frame struct {
	Header
	// Payload aliases the src given to Decode: valid until the caller
	// discards or reuses those bytes. Copy what must outlive them.
	Payload []byte
}

// Size returns the encoded size of f: HeaderSize + len(Payload).
func (f Frame) Size() int { return HeaderSize + len(f.Payload) }

// KnownType reports whether t is a type defined by the kefu.v1.Type enum
// this binary was built with (1..16 in version 1). Decode accepts any type but
// 0; the server answers unknown types with CODE_UNSUPPORTED and a client skips
// them (docs/protocol-frame.md §8).
func KnownType(t uint8) bool {
	if t == 0 {
		return false
	}
	_, ok := pb.Type_name[int32(t)]
	return ok
}

// limit turns a caller's maxPayload into the effective limit.
func limit(maxPayload int) uint64 {
	switch {
	case maxPayload <= 0:
		return DefaultMaxPayload
	case maxPayload > HardMaxPayload:
		return HardMaxPayload
	}
	return uint64(maxPayload)
}

// DecodeHeader parses and validates the header at the start of src, which
// must hold at least HeaderSize bytes (it panics otherwise). It checks, in
// order, magic, version, type and flags, and returns the fields it read even
// with an error, so that the caller can echo the request id in its ERROR
// reply. It does not check the length against a limit; Decode does.
func DecodeHeader(src []byte) (Header, error) {
	_ = src[HeaderSize-1] // one bounds check for the header
	h := Header{
		Type:      src[2],
		Flags:     src[3],
		RequestID: binary.BigEndian.Uint32(src[4:8]),
		Length:    binary.BigEndian.Uint32(src[8:12]),
	}
	switch {
	case src[0] != Magic: // §2: byte 0 is always 0x4B
		return h, ErrBadMagic
	case src[1] != Version: // §9: unknown version → UNSUPPORTED, close
		return h, ErrBadVersion
	case h.Type == 0: // §2: type 0 is never valid
		return h, ErrBadType
	case h.Flags != 0: // §9: flags reserved in version 1, must be 0
		return h, ErrBadFlags
	}
	return h, nil
}

// Decode decodes the frame at the start of src. It returns the frame and the
// number of bytes it occupies, n > 0; or n == 0 and a nil error when src does
// not hold a whole frame yet; or n == 0 and an error when the header is
// invalid or declares more than maxPayload bytes (maxPayload <= 0 means
// DefaultMaxPayload; values above HardMaxPayload mean HardMaxPayload). The
// header is checked as soon as its HeaderSize bytes are present, before the
// payload arrives. With an error, f.Header holds the fields as read; when
// the header is valid but the payload incomplete, f.Header is set too (its
// Length says how many payload bytes the frame needs).
//
// f.Payload aliases src. Decode does not allocate.
func Decode(src []byte, maxPayload int) (f Frame, n int, err error) {
	if len(src) < HeaderSize {
		return Frame{}, 0, nil // need the whole header
	}
	f.Header, err = DecodeHeader(src)
	if err != nil {
		return f, 0, err
	}
	if uint64(f.Length) > limit(maxPayload) { // §9: limit decided from the header
		return f, 0, ErrTooLarge
	}
	end := HeaderSize + int(f.Length)
	if len(src) < end {
		return Frame{Header: f.Header}, 0, nil // need the rest of the payload
	}
	f.Payload = src[HeaderSize:end:end]
	return f, end, nil
}

// PutHeader writes h into b[:HeaderSize], with Magic and Version, for a header
// written in front of a payload that was encoded in place. It panics if b is
// shorter than HeaderSize.
func PutHeader(b []byte, h Header) {
	_ = b[HeaderSize-1]
	b[0] = Magic
	b[1] = Version
	b[2] = h.Type
	b[3] = h.Flags
	binary.BigEndian.PutUint32(b[4:8], h.RequestID)
	binary.BigEndian.PutUint32(b[8:12], h.Length)
}

// AppendHeader appends the encoding of h (with Magic and Version) to dst.
func AppendHeader(dst []byte, h Header) []byte {
	dst = append(dst, Magic, Version, h.Type, h.Flags)
	dst = binary.BigEndian.AppendUint32(dst, h.RequestID)
	return binary.BigEndian.AppendUint32(dst, h.Length)
}

// AppendFrame appends a frame of type typ with request id reqID, no flags and
// payload to dst. It does not allocate when dst has room. The caller keeps
// payloads within the peer's limit; a payload over HardMaxPayload is a bug and
// panics.
func AppendFrame(dst []byte, typ uint8, reqID uint32, payload []byte) []byte {
	if len(payload) > HardMaxPayload {
		panic("BUG: frame: AppendFrame payload over HardMaxPayload")
	}
	dst = AppendHeader(dst, Header{Type: typ, RequestID: reqID, Length: uint32(len(payload))})
	return append(dst, payload...)
}
