// Package wire turns an application Envelope into the bytes one kind of
// connection expects: a binary TCP frame, a WebSocket text frame carrying
// JSON, or a WebSocket binary frame carrying protobuf.
//
// Encoders take the Envelope's protobuf encoding when the caller already has
// it (a stored message is kept in that form), so that a message fanned out
// to many connections is marshalled once per format, not once per receiver.
//
// The package holds no state and is safe for concurrent use. Returned slices
// are freshly appended to dst; callers that share one encoding among many
// connections must never modify it afterwards.
package wire

import (
	"fmt"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// Format is the wire encoding a connection wants.
type Format uint8

// Formats. NumFormats bounds arrays indexed by Format.
const (
	FormatFrame   Format = iota // binary TCP frame, protobuf payload
	FormatWSJSON                // WebSocket text frame, JSON payload
	FormatWSProto               // WebSocket binary frame, protobuf payload
	FormatJSON                  // bare JSON envelope, no framing (HTTP long-poll)
	FormatProto                 // bare protobuf envelope, no framing (in-process callers)
	NumFormats
)

func (f Format) String() string {
	switch f {
	case FormatFrame:
		return "frame"
	case FormatWSJSON:
		return "ws_json"
	case FormatWSProto:
		return "ws_proto"
	case FormatJSON:
		return "json"
	case FormatProto:
		return "proto"
	}
	return fmt.Sprintf("format(%d)", uint8(f))
}

var marshal = gproto.MarshalOptions{}

// Marshal returns the protobuf encoding of env appended to dst.
func Marshal(dst []byte, env *proto.Envelope) ([]byte, error) {
	return marshal.MarshalAppend(dst, env)
}

// Append appends env encoded for format f to dst. pb, when not nil, must be
// the protobuf encoding of env and is used instead of marshalling again.
func Append(dst []byte, f Format, env *proto.Envelope, pb []byte) ([]byte, error) {
	var err error
	switch f {
	case FormatFrame:
		start := len(dst)
		dst = append(dst, make([]byte, frame.HeaderSize)...)
		if pb != nil {
			dst = append(dst, pb...)
		} else if dst, err = marshal.MarshalAppend(dst, env); err != nil {
			return dst[:start], err
		}
		n := len(dst) - start - frame.HeaderSize
		if n > frame.HardMaxPayload {
			return dst[:start], frame.ErrTooLarge
		}
		frame.PutHeader(dst[start:], frame.Header{
			Type:      uint8(env.GetType()),
			RequestID: uint32(env.GetId()),
			Length:    uint32(n),
		})
		return dst, nil
	case FormatWSJSON:
		return appendWS(dst, ws.OpText, func(b []byte) ([]byte, error) {
			return proto.AppendJSON(b, env), nil
		})
	case FormatWSProto:
		if pb != nil {
			dst = ws.AppendHeader(dst, ws.OpBinary, len(pb))
			return append(dst, pb...), nil
		}
		return appendWS(dst, ws.OpBinary, func(b []byte) ([]byte, error) {
			return marshal.MarshalAppend(b, env)
		})
	case FormatJSON:
		return proto.AppendJSON(dst, env), nil
	case FormatProto:
		if pb != nil {
			return append(dst, pb...), nil
		}
		return marshal.MarshalAppend(dst, env)
	}
	return dst, fmt.Errorf("wire: unknown format %d", f)
}

// appendWS encodes a payload after a reserved maximum-size header, then
// writes the real header right-aligned in the reserve and closes the gap, so
// the payload is encoded once.
func appendWS(dst []byte, op ws.OpCode, body func([]byte) ([]byte, error)) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, ws.MaxHeaderSize)...)
	out, err := body(dst)
	if err != nil {
		return dst[:start], err
	}
	n := len(out) - start - ws.MaxHeaderSize
	hs := ws.HeaderSize(n)
	ws.AppendHeader(out[start:start:start+ws.MaxHeaderSize], op, n) // writes in place
	// Move the payload left over the unused part of the reserve.
	copy(out[start+hs:], out[start+ws.MaxHeaderSize:])
	return out[:start+hs+n], nil
}
