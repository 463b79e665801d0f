package kefu

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// scriptConn is a net.Conn whose reads return the given chunks, one per
// Read, then io.EOF; writes are discarded. It drives the reader without a
// network, for fuzzing and benchmarks.
type scriptConn struct {
	mu      sync.Mutex
	chunks  [][]byte
	closed  bool
	written []byte // what the client wrote (first 64 KiB)
	discard bool   // do not keep what is written
}

func (s *scriptConn) Read(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.chunks) > 0 && len(s.chunks[0]) == 0 {
		s.chunks = s.chunks[1:]
	}
	if s.closed {
		return 0, net.ErrClosed
	}
	if len(s.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(b, s.chunks[0])
	s.chunks[0] = s.chunks[0][n:]
	return n, nil
}

func (s *scriptConn) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	if !s.discard && len(s.written) < 1<<16 {
		s.written = append(s.written, b...)
	}
	return len(b), nil
}

func (s *scriptConn) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

func (s *scriptConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (s *scriptConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (s *scriptConn) SetDeadline(t time.Time) error      { return nil }
func (s *scriptConn) SetReadDeadline(t time.Time) error  { return nil }
func (s *scriptConn) SetWriteDeadline(t time.Time) error { return nil }

// scriptClient returns a client over a scriptConn feeding chunks, whose
// pushes are appended to *pushed. Its reader is not started.
func scriptClient(tr Transport, binary bool, chunks [][]byte, pushed *[]*pb.Envelope) (*Client, *scriptConn) {
	conn := &scriptConn{chunks: chunks}
	opts := Options{
		Transport:  tr,
		Addr:       "x",
		MaxPayload: 1 << 20,
		OnMessage:  func(e *pb.Envelope) { *pushed = append(*pushed, e) },
	}
	opts.EnsureDefaults()
	return newClient(conn, conn, binary, opts), conn
}

// clientFrames decodes the WebSocket frames the client wrote (unmasked).
func (s *scriptConn) clientFrames() ([]ws.Frame, error) {
	s.mu.Lock()
	r := bytes.NewReader(s.written)
	s.mu.Unlock()
	var out []ws.Frame
	for r.Len() > 0 {
		f, err := ws.ReadFrame(r)
		if err != nil {
			return out, err
		}
		if !f.Header.Masked {
			return out, errors.New("client frame not masked")
		}
		ws.Cipher(f.Payload, f.Header.Mask, 0)
		out = append(out, f)
	}
	return out, nil
}

// sameEnvelopes reports whether a and b hold equal envelopes in order.
func sameEnvelopes(a, b []*pb.Envelope) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !gproto.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// wsServerFrame returns an unmasked server frame with payload.
func wsServerFrame(op byte, fin bool, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	var out []byte
	switch n := len(payload); {
	case n <= 125:
		out = []byte{b0, byte(n)}
	case n <= 0xffff:
		out = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		out = []byte{b0, 127, 0, 0, 0, 0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return append(out, payload...)
}
