package ws

import (
	"errors"
	"unicode/utf8"

	gobwas "github.com/gobwas/ws"
)

// OpCode is the 4-bit frame opcode (RFC 6455 §5.2).
type OpCode byte

// Opcodes defined by RFC 6455 §5.2; all others are reserved.
const (
	OpContinuation OpCode = 0x0
	OpText         OpCode = 0x1
	OpBinary       OpCode = 0x2
	OpClose        OpCode = 0x8
	OpPing         OpCode = 0x9
	OpPong         OpCode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong, or a
// reserved 0xB-0xF): its most significant bit is set (RFC 6455 §5.5).
func (op OpCode) IsControl() bool { return op&0x8 != 0 }

// String returns the opcode's lower-case name, or "reserved".
func (op OpCode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved"
}

// Header bits and limits (RFC 6455 §5.2).
const (
	bitFin        = 0x80
	bitsRSV       = 0x70
	maskOpcode    = 0x0F
	bitMask       = 0x80
	maskLen7      = 0x7F
	len16         = 126 // the 7-bit length says: 16-bit length follows
	len64         = 127 // the 7-bit length says: 64-bit length follows
	maxControl    = 125 // RFC 6455 §5.5: control payloads are at most 125 bytes
	maskKeySize   = 4
	minReassembly = 1024 // smallest reassembly buffer asked of the pool
)

// DefaultMaxMessageSize is the MaxMessageSize used when the option is zero.
const DefaultMaxMessageSize = 1 << 20

// DecodeOptions are the limits and resources that Decode uses. One value is
// usually shared, read-only, by every connection of an engine.
type DecodeOptions struct {
	// MaxMessageSize is the largest text or binary message, in payload
	// bytes after reassembly, that Decode accepts; larger ones fail with
	// ErrTooBig as soon as a frame header declares them. Control frames are
	// bounded by RFC 6455 itself (125 bytes). Zero means
	// DefaultMaxMessageSize (1 MiB).
	MaxMessageSize int

	// Pool supplies reassembly buffers for fragmented messages. Nil means
	// that Decode allocates them and leaves them to the garbage collector;
	// EnsureDefaults installs a new BufferPool.
	Pool Pool
}

// EnsureDefaults fills zero fields with their defaults.
func (o *DecodeOptions) EnsureDefaults() {
	if o.MaxMessageSize == 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	if o.Pool == nil {
		o.Pool = new(BufferPool)
	}
}

// Validate reports options that cannot work.
func (o *DecodeOptions) Validate() error {
	if o.MaxMessageSize < 0 {
		return errors.New("ws: DecodeOptions.MaxMessageSize must not be negative")
	}
	return nil
}

// maxMessage returns the effective message size limit of opts.
func (o *DecodeOptions) maxMessage() int {
	if o == nil || o.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return o.MaxMessageSize
}

// pool returns the reassembly pool of opts, or nil.
func (o *DecodeOptions) pool() Pool {
	if o == nil {
		return nil
	}
	return o.Pool
}

// Message is one complete WebSocket message, or one control frame.
//
// Op is OpText, OpBinary, OpClose, OpPing or OpPong. Op is OpContinuation
// (zero) when Decode consumed fragments but completed no message yet; see
// Decode.
//
// Payload is unmasked. It aliases the src given to Decode for a message that
// came in one frame and for every control frame; it aliases the Decoder's
// reassembly buffer for a fragmented message (see Decoder).
type Message struct {
	Op      OpCode
	Payload []byte
}

// Complete reports whether m holds a message or control frame.
func (m Message) Complete() bool { return m.Op != OpContinuation }

// decState names where the Decoder stands between frames.
type decState uint8

const (
	// stateIdle: no fragmented message is open; no buffer is held.
	stateIdle decState = iota
	// stateFragments: a fragmented message of opcode Decoder.op is open;
	// its fragments so far are in Decoder.buf.
	stateFragments
	// stateReturned: the last Decode returned a reassembled message that
	// aliases Decoder.buf; the buffer goes back to the pool on the next
	// Decode, Release or Reset.
	stateReturned
)

// Decoder turns the bytes a client sends after the handshake into messages.
// It is per-connection state, meant to be embedded by value; the zero value
// is ready. It holds a buffer only while a fragmented message is open or
// was just returned, so an idle connection holds none once Release is
// called after each batch.
//
// A Decoder is not safe for concurrent use: one event loop owns it. After
// Decode returns an error the connection must be failed; only Reset may be
// called then.
type Decoder struct {
	buf   *[]byte  // reassembly buffer, from DecodeOptions.Pool
	valid int      // for text: bytes of *buf known to be complete valid UTF-8
	op    OpCode   // opcode of the open fragmented message
	state decState // named state, see decState
}

// Decode decodes the next message from src, the unconsumed bytes the
// connection has received, and reports how many bytes of src it consumed
// (n). The caller discards n bytes and calls again while bytes remain.
//
//   - A message or control frame: m.Complete() is true and n > 0.
//   - Need more bytes: n == 0 and err == nil; src holds at most part of the
//     next frame. Nothing was consumed.
//   - Fragments consumed, no message complete: n > 0, m.Complete() is
//     false. The fragments were copied into the reassembly buffer.
//   - A protocol violation: err is one of the *CloseError values of this
//     package; send a close frame with its Code and close the connection.
//
// Decode unmasks consumed frames in place in src. A payload that aliases
// src is valid until the caller discards those bytes; a reassembled payload
// is valid until the next call of Decode, Release or Reset.
//
// Control frames that arrive between the fragments of a message are
// returned as their own Message and leave the fragmented message open
// (RFC 6455 §5.4). A frame is consumed only when it is whole in src; limits
// are checked from the header alone, before any payload is waited for.
func (d *Decoder) Decode(src []byte, opts *DecodeOptions) (m Message, n int, err error) {
	if d.state == stateReturned {
		d.Release(opts)
	}
	limit := opts.maxMessage()
	for {
		p := src[n:]
		if len(p) < 1 {
			return Message{}, n, nil
		}

		// Stage 1: the first byte.
		b0 := p[0]
		fin := b0&bitFin != 0
		op := OpCode(b0 & maskOpcode)
		if b0&bitsRSV != 0 {
			// RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defining
			// them was negotiated; this server negotiates none.
			return Message{}, n, ErrProtocolReservedBits
		}
		switch op {
		case OpContinuation:
			if d.state != stateFragments {
				// RFC 6455 §5.4: a continuation frame continues an open
				// fragmented message; there is none.
				return Message{}, n, ErrProtocolContinuation
			}
		case OpText, OpBinary:
			if d.state == stateFragments {
				// RFC 6455 §5.4: the fragments of one message must not be
				// interleaved with another data message.
				return Message{}, n, ErrProtocolInterleaved
			}
		case OpClose, OpPing, OpPong:
			if !fin {
				// RFC 6455 §5.5: control frames MUST NOT be fragmented.
				return Message{}, n, ErrProtocolControlFragmented
			}
		default:
			// RFC 6455 §5.2: reserved opcodes fail the connection.
			return Message{}, n, ErrProtocolOpcode
		}

		// Stage 2: the second byte.
		if len(p) < 2 {
			return Message{}, n, nil
		}
		b1 := p[1]
		if b1&bitMask == 0 {
			// RFC 6455 §5.1: the server MUST close the connection upon
			// receiving a frame that is not masked.
			return Message{}, n, ErrProtocolUnmasked
		}
		length := uint64(b1 & maskLen7)
		if op.IsControl() && length > maxControl {
			// RFC 6455 §5.5: control frame payloads are 125 bytes or less.
			return Message{}, n, ErrProtocolControlTooLong
		}

		// Stage 3: the extended payload length (RFC 6455 §5.2).
		hsize := 2
		switch length {
		case len16:
			if len(p) < 4 {
				return Message{}, n, nil
			}
			length = uint64(p[2])<<8 | uint64(p[3])
			hsize = 4
		case len64:
			if len(p) < 10 {
				return Message{}, n, nil
			}
			length = uint64(p[2])<<56 | uint64(p[3])<<48 | uint64(p[4])<<40 |
				uint64(p[5])<<32 | uint64(p[6])<<24 | uint64(p[7])<<16 |
				uint64(p[8])<<8 | uint64(p[9])
			if length>>63 != 0 {
				// RFC 6455 §5.2: the most significant bit of a 64-bit
				// length MUST be 0.
				return Message{}, n, ErrProtocolLength
			}
			hsize = 10
		}
		// RFC 6455 §10.4: limit the message size; checked here, before
		// the payload is waited for or buffered (status 1009, §7.4.1).
		// Control frames have their own limit of 125 bytes (above).
		already := 0
		if op == OpContinuation {
			already = len(*d.buf)
		}
		if !op.IsControl() && length > uint64(limit-already) {
			return Message{}, n, ErrTooBig
		}
		size := int(length)

		// Stage 4: masking key and payload.
		total := hsize + maskKeySize + size
		if len(p) < total {
			return Message{}, n, nil
		}
		key := [4]byte(p[hsize : hsize+maskKeySize])
		// Capped, so that appending to a returned payload cannot
		// overwrite the next frame in src.
		payload := p[hsize+maskKeySize : total : total]

		switch op {
		case OpClose, OpPing, OpPong:
			// RFC 6455 §5.3: unmask with the frame's key. Control frames
			// never touch the fragment state (§5.4).
			gobwas.Cipher(payload, key, 0)
			if op == OpClose {
				if err := checkClose(payload); err != nil {
					return Message{}, n, err
				}
			}
			return Message{Op: op, Payload: payload}, n + total, nil

		case OpText, OpBinary:
			gobwas.Cipher(payload, key, 0)
			if fin {
				if op == OpText && !utf8.Valid(payload) {
					// RFC 6455 §8.1: text messages are UTF-8.
					return Message{}, n, ErrInvalidUTF8
				}
				return Message{Op: op, Payload: payload}, n + total, nil
			}
			// First fragment of a fragmented message (RFC 6455 §5.4).
			d.buf = getBuf(opts.pool(), max(size, min(minReassembly, limit)))
			d.op = op
			d.valid = 0
			d.state = stateFragments
			if err := d.appendFragment(payload, opts); err != nil {
				return Message{}, n, err
			}
			n += total

		case OpContinuation:
			gobwas.Cipher(payload, key, 0)
			if err := d.appendFragment(payload, opts); err != nil {
				return Message{}, n, err
			}
			n += total
			if fin {
				if d.op == OpText && d.valid != len(*d.buf) {
					// RFC 6455 §8.1: the message ended inside a code point.
					return Message{}, n, ErrInvalidUTF8
				}
				d.state = stateReturned
				b := *d.buf
				return Message{Op: d.op, Payload: b[:len(b):len(b)]}, n, nil
			}
		}
	}
}

// appendFragment copies an unmasked fragment into the reassembly buffer,
// growing it through the pool, and checks text incrementally.
func (d *Decoder) appendFragment(payload []byte, opts *DecodeOptions) error {
	b := *d.buf
	if need := len(b) + len(payload); need > cap(b) {
		// Grow geometrically, but never past the message limit, which
		// need has already been checked against.
		grown := getBuf(opts.pool(), max(need, min(2*cap(b), opts.maxMessage())))
		*grown = append(*grown, b...)
		putBuf(opts.pool(), d.buf)
		d.buf = grown
		b = *grown
	}
	*d.buf = append(b, payload...)
	if d.op == OpText {
		// RFC 6455 §8.1: fail as soon as the text is proven invalid; a
		// code point may straddle fragments.
		k, ok := utf8Prefix((*d.buf)[d.valid:])
		if !ok {
			return ErrInvalidUTF8
		}
		d.valid += k
	}
	return nil
}

// checkClose validates an unmasked close frame payload (RFC 6455 §5.5.1):
// empty, or a 2-byte status code followed by a UTF-8 reason.
func checkClose(p []byte) error {
	switch {
	case len(p) == 0:
		return nil
	case len(p) == 1:
		// RFC 6455 §5.5.1: a body, if present, starts with a 2-byte code.
		return ErrProtocolClosePayload
	}
	if !ValidCloseCode(uint16(p[0])<<8 | uint16(p[1])) {
		// RFC 6455 §7.4.1, §7.4.2: reserved and unassigned codes.
		return ErrProtocolCloseCode
	}
	if !utf8.Valid(p[2:]) {
		// RFC 6455 §5.5.1: the reason is UTF-8 (§8.1 applies).
		return ErrInvalidCloseReason
	}
	return nil
}

// Release gives back the reassembly buffer of the message the last Decode
// returned, ending that payload's validity. A fragmented message still open
// keeps its buffer. Call it when a batch of messages has been handled (the
// end of OnTraffic), so that an idle connection holds no buffer; calling it
// when nothing is held is cheap. opts must carry the same Pool as Decode.
func (d *Decoder) Release(opts *DecodeOptions) {
	if d.state != stateReturned {
		return
	}
	putBuf(opts.pool(), d.buf)
	d.buf = nil
	d.op = OpContinuation
	d.valid = 0
	d.state = stateIdle
}

// Reset drops all state, including an open fragmented message, and gives
// back any buffer. Call it when the connection closes.
func (d *Decoder) Reset(opts *DecodeOptions) {
	putBuf(opts.pool(), d.buf)
	*d = Decoder{}
}

// Fragmented reports whether a fragmented message is open (and its buffer
// held).
func (d *Decoder) Fragmented() bool { return d.state == stateFragments }
