package kefu

import (
	"io"
	"slices"

	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
)

// appendFrame appends env as one binary frame (docs/protocol-frame.md §2).
func appendFrame(dst []byte, env *pb.Envelope) ([]byte, error) {
	return frame.AppendEnvelope(dst, env)
}

// readFrames is the reader loop of TransportFrame. It returns why reading
// stopped.
//
// A frame that fits the read buffer is decoded from the buffered bytes
// (Peek, decode, Discard: the envelope copies what it keeps); a bigger one
// is read into rbuf first. The header is checked by frame.Decode before any
// payload byte is waited for, so a length over MaxPayload is refused from
// the header alone (§9).
func (c *Client) readFrames() error {
	for {
		hdr, err := c.br.Peek(frame.HeaderSize)
		if err != nil {
			return lost(err)
		}
		f, _, err := frame.Decode(hdr, c.opts.MaxPayload)
		if err != nil {
			// §8: framing errors leave the stream out of sync.
			return protocolErr("%v (type %d, request id %d, length %d)", err, f.Type, f.RequestID, f.Length)
		}
		total := frame.HeaderSize + int(f.Length)
		if total <= c.br.Size() {
			b, err := c.br.Peek(total)
			if err != nil {
				return lost(err)
			}
			f.Payload = b[frame.HeaderSize:total:total]
			err = c.handleFrame(f)
			c.br.Discard(total)
			if err != nil {
				return err
			}
			continue
		}
		c.br.Discard(frame.HeaderSize)
		if f.Payload, err = c.readN(c.rbuf[:0], int(f.Length)); err != nil {
			return lost(err)
		}
		c.rbuf = f.Payload[:0]
		err = c.handleFrame(f)
		c.dropBigBuffer()
		if err != nil {
			return err
		}
	}
}

// readN appends the next n bytes of the stream to dst. It grows dst as the
// bytes arrive, a chunk at a time, so that a declared length (already
// checked against MaxPayload) costs memory only as its bytes come.
func (c *Client) readN(dst []byte, n int) ([]byte, error) {
	const chunk = 64 << 10
	for n > 0 {
		k := min(n, chunk)
		l := len(dst)
		dst = slices.Grow(dst, k)[:l+k]
		if _, err := io.ReadFull(c.br, dst[l:]); err != nil {
			return dst[:l], err
		}
		n -= k
	}
	return dst, nil
}

// dropBigBuffer forgets rbuf after a message grew it past maxKeptBuffer.
func (c *Client) dropBigBuffer() {
	if cap(c.rbuf) > maxKeptBuffer {
		c.rbuf = nil
	}
}

// handleFrame decodes one complete frame and dispatches its envelope.
func (c *Client) handleFrame(f frame.Frame) error {
	if !frame.KnownType(f.Type) {
		return nil // §8: a client skips types it does not know, by length
	}
	env, err := frame.DecodeEnvelope(f)
	if err != nil {
		return protocolErr("%v", err)
	}
	c.dispatch(env)
	return nil
}
