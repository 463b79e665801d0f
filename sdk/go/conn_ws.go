package kefu

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"

	"github.com/gobwas/ws"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

const (
	wsMaxHeaderSize = ws.MaxHeaderSize              // 14: 2 + 8 (length) + 4 (mask)
	wsMaxControl    = ws.MaxControlFramePayloadSize // 125 (RFC 6455 §5.5)

	wsOpContinuation = ws.OpContinuation
	wsOpText         = ws.OpText
	wsOpBinary       = ws.OpBinary
	wsOpClose        = ws.OpClose
	wsOpPing         = ws.OpPing
	wsOpPong         = ws.OpPong
)

// dialWS connects and upgrades to WebSocket, asking for the subprotocol the
// options select. It returns the connection, what to read from (bytes the
// handshake buffered come first) and whether requests go in binary frames.
func dialWS(ctx context.Context, nd *net.Dialer, o *Options) (net.Conn, io.Reader, bool, error) {
	sub := SubprotocolJSON
	if o.Binary {
		sub = SubprotocolProto
	}
	d := ws.Dialer{
		Protocols: []string{sub},
		NetDial:   nd.DialContext,
	}
	if o.Origin != "" {
		d.Header = ws.HandshakeHeaderString("Origin: " + o.Origin + "\r\n")
	}
	conn, br, hs, err := d.Dial(ctx, o.Addr)
	if err != nil {
		return nil, nil, false, fmt.Errorf("kefu: websocket upgrade: %w", err)
	}
	// The server defaults to kefu.json when none is agreed; binary frames
	// need kefu.proto agreed explicitly.
	if o.Binary && hs.Protocol != SubprotocolProto {
		conn.Close()
		return nil, nil, false, fmt.Errorf("%w: asked %s, got %q", ErrSubprotocol, sub, hs.Protocol)
	}
	var src io.Reader = conn
	if br != nil {
		src = io.MultiReader(br, conn)
	}
	return conn, src, o.Binary, nil
}

// newMask returns a fresh masking key (RFC 6455 §5.3: unpredictable; the
// runtime's generator is ChaCha8-based).
func newMask() [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], rand.Uint32())
	return m
}

// putWSHeader writes the header of a final, masked client frame of opcode
// op and payload length n so that it ends at b[wsMaxHeaderSize], and
// returns where it starts (RFC 6455 §5.2).
func putWSHeader(b []byte, op ws.OpCode, n int, mask [4]byte) int {
	size := 2 + 4
	switch {
	case n > 0xffff:
		size += 8
	case n > 125:
		size += 2
	}
	start := wsMaxHeaderSize - size
	h := b[start:wsMaxHeaderSize]
	h[0] = 0x80 | byte(op) // FIN, no RSV bits
	p := 2
	switch {
	case n > 0xffff:
		h[1] = 0x80 | 127
		binary.BigEndian.PutUint64(h[2:10], uint64(n))
		p = 10
	case n > 125:
		h[1] = 0x80 | 126
		binary.BigEndian.PutUint16(h[2:4], uint16(n))
		p = 4
	default:
		h[1] = 0x80 | byte(n)
	}
	copy(h[p:], mask[:])
	return start
}

// appendWSMessage appends env as one masked WebSocket message to dst: the
// payload is encoded after a reserved maximum-size header, masked in place,
// and the header is written right in front of it. The frame is
// dst[start:].
func (c *Client) appendWSMessage(dst []byte, env *pb.Envelope) (b []byte, start int, err error) {
	base := len(dst)
	dst = slices.Grow(dst, wsMaxHeaderSize+64)[:base+wsMaxHeaderSize]
	op := wsOpText
	if c.binary {
		op = wsOpBinary
		dst, err = gproto.MarshalOptions{}.MarshalAppend(dst, env)
		if err != nil {
			return dst[:base], 0, fmt.Errorf("kefu: encode %s: %w", env.GetType(), err)
		}
	} else {
		dst = pb.AppendJSON(dst, env)
	}
	payload := dst[base+wsMaxHeaderSize:]
	mask := newMask()
	start = base + putWSHeader(dst[base:base+wsMaxHeaderSize], op, len(payload), mask)
	ws.Cipher(payload, mask, 0)
	return dst, start, nil
}

// writeWSControl writes one control frame (payload at most 125 bytes).
func (c *Client) writeWSControl(op ws.OpCode, payload []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeWSControlLocked(op, payload)
}

// writeWSControlLocked is writeWSControl with c.wmu held.
func (c *Client) writeWSControlLocked(op ws.OpCode, payload []byte) error {
	b := slices.Grow(c.wbuf[:0], wsMaxHeaderSize+len(payload))[:wsMaxHeaderSize]
	b = append(b, payload...)
	mask := newMask()
	start := putWSHeader(b, op, len(payload), mask)
	ws.Cipher(b[wsMaxHeaderSize:], mask, 0)
	c.wbuf = b
	return c.flushLocked(b[start:])
}

// writeWSClose writes a close frame with code and reason (RFC 6455 §5.5.1);
// code 1005 means "no status" and is sent as an empty body.
func (c *Client) writeWSClose(code uint16, reason string) error {
	if code == uint16(ws.StatusNoStatusRcvd) {
		return c.writeWSControl(wsOpClose, nil)
	}
	var p [wsMaxControl]byte
	binary.BigEndian.PutUint16(p[:2], code)
	n := 2 + copy(p[2:], reason)
	return c.writeWSControl(wsOpClose, p[:n])
}

// wsFail closes the connection for a protocol violation: a close frame with
// code (best effort), then the ErrProtocol the reader returns.
func (c *Client) wsFail(code ws.StatusCode, format string, args ...any) error {
	err := protocolErr(format, args...)
	c.setCause(err) // before the write, whose failure must not win
	c.writeWSClose(uint16(code), "protocol error")
	return err
}

// readWS is the reader loop of TransportWS. It returns why reading stopped.
// Data frames are assembled into whole messages in rbuf (RFC 6455 §5.4);
// control frames may come between fragments and are answered here.
func (c *Client) readWS() error {
	var msgOp ws.OpCode // opcode of the message being assembled; 0 = none
	msg := c.rbuf[:0]
	for {
		h, err := ws.ReadHeaderBuffer(c.br, c.hdr[:])
		if err != nil {
			if errors.Is(err, ws.ErrHeaderLengthMSB) || errors.Is(err, ws.ErrHeaderLengthUnexpected) {
				return c.wsFail(ws.StatusProtocolError, "websocket header: %v", err)
			}
			return lost(err)
		}
		switch {
		case h.Rsv != 0: // §5.2: RSV bits must be 0 when no extension is agreed
			return c.wsFail(ws.StatusProtocolError, "websocket frame with RSV bits %03b", h.Rsv)
		case h.Masked: // §5.1: a server must not mask the frames it sends
			return c.wsFail(ws.StatusProtocolError, "masked websocket frame from the server")
		case h.OpCode.IsReserved(): // §5.2: reserved opcodes fail the connection
			return c.wsFail(ws.StatusProtocolError, "reserved websocket opcode %d", h.OpCode)
		}
		if h.OpCode.IsControl() {
			// §5.5: control frames are never fragmented and carry at most
			// 125 bytes.
			if !h.Fin || h.Length > wsMaxControl {
				return c.wsFail(ws.StatusProtocolError, "fragmented or oversized websocket control frame")
			}
			p := c.ctl[:h.Length]
			if _, err := io.ReadFull(c.br, p); err != nil {
				return lost(err)
			}
			if err := c.handleWSControl(h.OpCode, p); err != nil {
				return err
			}
			continue
		}
		switch {
		case h.OpCode == wsOpContinuation && msgOp == 0: // §5.4
			return c.wsFail(ws.StatusProtocolError, "websocket continuation frame outside a message")
		case h.OpCode != wsOpContinuation && msgOp != 0: // §5.4
			return c.wsFail(ws.StatusProtocolError, "websocket data frame inside a fragmented message")
		case h.OpCode != wsOpContinuation:
			msgOp = h.OpCode
		}
		if h.Length > int64(c.opts.MaxPayload-len(msg)) { // limit before allocation
			return c.wsFail(ws.StatusMessageTooBig, "websocket message over %d bytes", c.opts.MaxPayload)
		}
		if msg, err = c.readN(msg, int(h.Length)); err != nil {
			return lost(err)
		}
		if !h.Fin {
			continue
		}
		c.rbuf = msg[:0]
		err = c.handleWSMessage(msgOp, msg)
		c.dropBigBuffer()
		if err != nil {
			return err
		}
		msgOp, msg = 0, c.rbuf
	}
}

// handleWSMessage decodes one whole message (text: JSON, binary: protobuf)
// and dispatches its envelope. msg is reader scratch; the envelope copies
// what it keeps.
func (c *Client) handleWSMessage(op ws.OpCode, msg []byte) error {
	env := new(pb.Envelope)
	var err error
	if op == wsOpText {
		err = pb.UnmarshalJSON(msg, env)
	} else {
		err = gproto.Unmarshal(msg, env)
	}
	if err != nil {
		return c.wsFail(ws.StatusInvalidFramePayloadData, "bad envelope in websocket %s message: %v", opName(op), err)
	}
	c.dispatch(env)
	return nil
}

// handleWSControl answers a control frame; p is reader scratch. A non-nil
// error ends the reader.
func (c *Client) handleWSControl(op ws.OpCode, p []byte) error {
	switch op {
	case wsOpPing:
		// §5.5.2: answer with a pong carrying the same application data.
		c.writeWSControl(wsOpPong, p)
	case wsOpPong:
		// A pong that echoes the 8-byte id of a Ping completes it; others
		// (unsolicited pongs, §5.5.3) are ignored.
		if len(p) != 8 {
			return nil
		}
		id := binary.BigEndian.Uint64(p)
		c.mu.Lock()
		cl := c.pending[id]
		if cl == nil || cl.want != pb.Type_TYPE_PONG {
			c.mu.Unlock()
			return nil
		}
		c.takeLocked(id)
		c.mu.Unlock()
		cl.complete(&pb.Envelope{Type: pb.Type_TYPE_PONG, Id: id}, nil)
	case wsOpClose:
		// §5.5.1: the body is empty or a 2-byte code and a UTF-8 reason.
		ce := &CloseError{Code: uint16(ws.StatusNoStatusRcvd)}
		switch {
		case len(p) == 1:
			return c.wsFail(ws.StatusProtocolError, "websocket close frame with a 1-byte body")
		case len(p) >= 2:
			ce.Code = binary.BigEndian.Uint16(p)
			ce.Reason = string(p[2:])
		}
		err := lost(ce)
		c.mu.Lock()
		closing := c.closing
		c.mu.Unlock()
		if !closing {
			// The server started the closing handshake: echo its code.
			c.setCause(err)
			c.writeWSClose(ce.Code, "")
		}
		return err
	}
	return nil
}

func opName(op ws.OpCode) string {
	if op == wsOpText {
		return "text"
	}
	return "binary"
}
