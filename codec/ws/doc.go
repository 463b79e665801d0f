// Package ws is the server side of WebSocket (RFC 6455) for the gnet event
// loops of package engine. It works on the byte slices a connection has
// buffered (gnet Conn.Peek), never on a net.Conn, and never blocks.
//
// # What it owns
//
//   - The opening handshake: Upgrade parses a buffered HTTP request with the
//     zero-copy upgrader of github.com/gobwas/ws and appends the 101 (or
//     error) response to a caller's slice. IsHTTPUpgradePrefix sniffs a
//     shared port.
//   - Reading: Decoder turns client frames into messages, reassembling
//     fragments and enforcing every rule of RFC 6455 that a receiver must
//     enforce; each violation is a predeclared *CloseError that carries the
//     close status to send and a short label for metrics.
//   - Writing: append-style encoders of unmasked server frames, plus
//     FrameInPlace for a payload that already sits behind MaxHeaderSize
//     reserved bytes.
//
// It does not answer pings or closes itself: the engine does, with
// AppendPong and AppendClose, because the engine owns the outbound buffer.
//
// # Frame format (RFC 6455 §5.2)
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-------+-+-------------+-------------------------------+
//	|F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//	|I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//	|N|V|V|V|       |S|             |   (if payload len==126/127)   |
//	| |1|2|3|       |K|             |                               |
//	+-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//	|     Extended payload length continued, if payload len == 127  |
//	+ - - - - - - - - - - - - - - - +-------------------------------+
//	|                               | Masking-key, if MASK set to 1 |
//	+-------------------------------+-------------------------------+
//	| Masking-key (continued)       |          Payload Data         |
//	+-------------------------------- - - - - - - - - - - - - - - - +
//	:                     Payload Data continued ...                :
//	+---------------------------------------------------------------+
//
// Client frames are always masked (2+4, 4+4 or 10+4 header bytes); server
// frames never are (2, 4 or 10 bytes, MaxHeaderSize = 10).
//
// A fragmented message and a control frame between its fragments:
//
//	[text FIN=0 "Hel"] [ping FIN=1] [cont FIN=0 "l"] [cont FIN=1 "o"]
//	       \_________ Decode → Message{OpPing}
//	                                 Decode → Message{OpText, "Hello"}
//
// # Use in OnTraffic
//
//	buf, _ := c.Peek(-1)
//	used := 0
//	for {
//		m, n, err := cs.dec.Decode(buf[used:], decOpts)
//		if err != nil { // write AppendClose(CloseCodeFor(err), ""), count err.(*CloseError).Reason, close
//			break
//		}
//		if n == 0 {
//			break // need more bytes
//		}
//		used += n
//		if m.Complete() {
//			handle(m) // ping → AppendPong, close → AppendClose echo, data → decode and hand off (copy)
//		}
//	}
//	c.Discard(used)
//	cs.dec.Release(decOpts)
//
// # Goroutines
//
// Everything here is called on the event loop that owns the connection. A
// Decoder belongs to one connection and is not safe for concurrent use.
// UpgradeOptions and DecodeOptions are shared read-only by all loops;
// BufferPool is safe for concurrent use.
//
// # Who owns which bytes
//
//   - Upgrade reads buf and does not modify it; the caller discards n bytes
//     afterwards. Handshake.Path is a copy; Handshake.Protocol is the very
//     string from UpgradeOptions.Protocols.
//   - Decode unmasks the frames it consumes in place in src (the gnet
//     inbound buffer). For a message that came in one frame, and for every
//     control frame, Message.Payload aliases src: it is valid until the
//     caller discards those bytes (gnet: Discard, or the end of OnTraffic).
//     Copy what another goroutine needs.
//   - The fragments of a fragmented message are copied into a reassembly
//     buffer taken from DecodeOptions.Pool when the first fragment arrives,
//     grown through the pool, and returned to the pool by the next Decode,
//     Release or Reset after the message was returned. The Payload of a
//     reassembled message is therefore valid until the next call of any of
//     those. An engine calls Release once its batch of messages is handled,
//     so that an idle connection holds no buffer, and Reset on close.
//   - Encoders append to the caller's slice and keep nothing.
//
// # Limits
//
// DecodeOptions.MaxMessageSize bounds a message, checked against the
// declared frame length as soon as the header is parsed, before the payload
// is waited for; fragmented messages are bounded by the sum of their
// fragments. UpgradeOptions.MaxHeaderBytes bounds the handshake request.
// A frame is only consumed once it is whole in the inbound buffer, so the
// engine's inbound buffer grows up to one frame (at most MaxMessageSize plus
// 14 header bytes).
package ws
