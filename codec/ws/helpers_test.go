package ws

import (
	"bytes"
	"testing"
)

// testKey is the masking key of the RFC 6455 §5.7 examples.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// clientFrame builds a masked client frame. rsv is or-ed into the first
// byte (bits 0x70).
func clientFrame(fin bool, rsv byte, op OpCode, key [4]byte, payload []byte) []byte {
	b0 := rsv | byte(op)
	if fin {
		b0 |= bitFin
	}
	var out []byte
	switch n := len(payload); {
	case n <= 125:
		out = append(out, b0, bitMask|byte(n))
	case n <= 0xFFFF:
		out = append(out, b0, bitMask|len16, byte(n>>8), byte(n))
	default:
		out = append(out, b0, bitMask|len64, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

// masked is clientFrame with FIN set, no RSV and testKey.
func masked(op OpCode, payload string) []byte {
	return clientFrame(true, 0, op, testKey, []byte(payload))
}

// cat concatenates byte slices.
func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// gotMsg is a Message with its payload copied.
type gotMsg struct {
	Op      OpCode
	Payload string
}

// decodeStream feeds src to a fresh Decoder in chunks of the given sizes
// (the rest in one chunk when sizes run out; a size of 0 counts as 1), the
// way an event loop does: unconsumed bytes stay and new bytes are appended.
// It returns the messages, the first error, and how many bytes were left
// unconsumed.
func decodeStream(src []byte, sizes []int, opts *DecodeOptions) (msgs []gotMsg, err error, left int) {
	var d Decoder
	defer d.Reset(opts)
	var pending []byte
	for off := 0; ; {
		step := len(src) - off
		if len(sizes) > 0 {
			step = min(max(sizes[0], 1), step)
			sizes = sizes[1:]
		}
		// A fresh copy, like a gnet buffer: Decode unmasks in place.
		pending = append(append([]byte(nil), pending...), src[off:off+step]...)
		off += step
		for {
			m, n, derr := d.Decode(pending, opts)
			if derr != nil {
				return msgs, derr, len(pending)
			}
			if n == 0 {
				break
			}
			if m.Complete() {
				msgs = append(msgs, gotMsg{m.Op, string(m.Payload)})
			}
			pending = pending[n:]
		}
		d.Release(opts)
		if off >= len(src) {
			break
		}
	}
	return msgs, nil, len(pending)
}

// decodeAll decodes src in one go.
func decodeAll(t testing.TB, src []byte, opts *DecodeOptions) ([]gotMsg, error, int) {
	t.Helper()
	return decodeStream(src, nil, opts)
}

// equalMsgs compares two message lists.
func equalMsgs(a, b []gotMsg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
