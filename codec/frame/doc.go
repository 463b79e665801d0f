// Package frame is the codec of Kefu's binary TCP protocol, the transport of
// the native APP SDKs. The protocol itself (handshake, flows, errors,
// versioning) is specified in docs/protocol-frame.md; this package owns only
// the bytes: the 12-byte frame header, the framing limits, and the protobuf
// Envelope carried in the payload.
//
// # Wire format
//
// Every frame is a 12-byte header, big-endian, followed by Length payload
// bytes (a protobuf kefu.v1.Envelope; may be empty):
//
//	 0               1               2               3
//	 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
//	+---------------+---------------+---------------+---------------+
//	|  magic 0x4B   |  version (1)  |     type      |  flags (0)    |
//	+---------------+---------------+---------------+---------------+
//	|                      request id (u32)                         |
//	+---------------------------------------------------------------+
//	|                    payload length (u32)                       |
//	+---------------------------------------------------------------+
//	|        payload: protobuf kefu.v1.Envelope (length bytes)      |
//	+---------------------------------------------------------------+
//
// Type is a kefu.v1.Type value (never 0). Flags are reserved in version 1 and
// must be 0. The request id is the low 32 bits of Envelope.id.
//
// # Decoding
//
// [Decode] is incremental and never allocates: given the bytes buffered so
// far it returns one frame and the number of bytes it used, or n == 0 and a
// nil error when more bytes are needed. The header is validated as soon as
// its 12 bytes are present, in the order magic, version, type, flags, length,
// so a frame over the limit is rejected before any of its payload is read.
// Every error is fatal to the connection except [ErrBadPayload] (see [Fatal]).
//
// # Buffer ownership
//
// Frame.Payload aliases the src slice given to [Decode]: it is valid only
// until the caller discards or reuses those bytes (on gnet, until Discard or
// the end of OnTraffic). Whatever must outlive the buffer is copied;
// [DecodeEnvelope] does that (it unmarshals into a new Envelope whose strings
// are copies), so its result may be handed to another goroutine.
//
// The encoders append to a dst the caller owns and never keep it. [PutHeader]
// writes a header in front of a payload the caller encoded in place, and
// [AppendEnvelope] reserves the header, marshals the Envelope right after it,
// then fills the header in: the payload is written once.
//
// # Goroutines
//
// The package has no state. Every function may be called from any goroutine,
// concurrently, as long as the callers do not share a buffer they write.
package frame
