package engine_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

const upgradeReq = "GET /ws HTTP/1.1\r\nHost: kefu\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// rawWS is a hand-written WebSocket client: it writes exactly the bytes a
// test wants, in the segments it wants.
type rawWS struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRawWS(t *testing.T, addr string, segments ...[]byte) *rawWS {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	r := &rawWS{c: c, br: bufio.NewReader(c)}
	if len(segments) == 0 {
		segments = [][]byte{[]byte(upgradeReq)}
	}
	for _, s := range segments {
		r.write(t, s)
	}
	_ = c.SetReadDeadline(time.Now().Add(readTimeout))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		t.Fatalf("upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade status %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	return r
}

func (r *rawWS) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := r.c.Write(b); err != nil {
		t.Fatalf("write: %v", err)
	}
	time.Sleep(2 * time.Millisecond) // let it arrive as its own segment
}

// readFrame returns the next server frame (server frames are unmasked).
func (r *rawWS) readFrame(t *testing.T) (ws.Header, []byte) {
	t.Helper()
	_ = r.c.SetReadDeadline(time.Now().Add(readTimeout))
	h, err := ws.ReadHeader(r.br)
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r.br, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h, p
}

// expectClose reads until a close frame and returns its code; the server
// must then close the TCP connection.
func (r *rawWS) expectClose(t *testing.T) uint16 {
	t.Helper()
	for {
		h, p := r.readFrame(t)
		if h.OpCode != ws.OpClose {
			continue
		}
		if len(p) < 2 {
			t.Fatalf("close frame without code")
		}
		code := binary.BigEndian.Uint16(p)
		_ = r.c.SetReadDeadline(time.Now().Add(readTimeout))
		if _, err := r.br.ReadByte(); err != io.EOF {
			t.Fatalf("after close frame: %v, want EOF", err)
		}
		return code
	}
}

// clientFrame builds one masked client frame.
func clientFrame(op ws.OpCode, fin bool, payload []byte) []byte {
	var buf bytes.Buffer
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(len(payload)), Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	_ = ws.WriteHeader(&buf, h)
	p := append([]byte(nil), payload...)
	ws.Cipher(p, h.Mask, 0)
	buf.Write(p)
	return buf.Bytes()
}

func jsonHello(user string) []byte {
	return proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
		Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_VISITOR, User: user}})
}

func (r *rawWS) expectEnvelope(t *testing.T, typ proto.Type) *proto.Envelope {
	t.Helper()
	for {
		h, p := r.readFrame(t)
		if h.OpCode == ws.OpPing {
			continue
		}
		if h.OpCode != ws.OpText {
			t.Fatalf("frame op %v, want text", h.OpCode)
		}
		env := new(proto.Envelope)
		if err := proto.UnmarshalJSON(p, env); err != nil {
			t.Fatal(err)
		}
		if env.Type != typ {
			t.Fatalf("got %v, want %v", env, typ)
		}
		return env
	}
}

// TestRawWebSocketFraming: split handshakes, one byte per segment, many
// frames per segment, fragmented messages with a ping in between.
func TestRawWebSocketFraming(t *testing.T) {
	s := testserver.Start(t)
	t.Run("handshake one byte per segment", func(t *testing.T) {
		var segs [][]byte
		for i := range len(upgradeReq) {
			segs = append(segs, []byte{upgradeReq[i]})
		}
		r := dialRawWS(t, s.Addr(), segs...)
		defer r.c.Close()
		for _, b := range clientFrame(ws.OpText, true, jsonHello("bytewise")) {
			r.write(t, []byte{b})
		}
		r.expectEnvelope(t, proto.Type_TYPE_WELCOME)
	})
	t.Run("handshake and hello in one segment", func(t *testing.T) {
		r := dialRawWS(t, s.Addr(), append([]byte(upgradeReq), clientFrame(ws.OpText, true, jsonHello("eager"))...))
		defer r.c.Close()
		r.expectEnvelope(t, proto.Type_TYPE_WELCOME)
	})
	t.Run("many frames in one segment", func(t *testing.T) {
		r := dialRawWS(t, s.Addr())
		defer r.c.Close()
		var all []byte
		all = append(all, clientFrame(ws.OpText, true, jsonHello("batcher"))...)
		all = append(all, clientFrame(ws.OpText, true, []byte(`{"type":"open","id":2}`))...)
		all = append(all, clientFrame(ws.OpPing, true, []byte("p1"))...)
		r.write(t, all)
		r.expectEnvelope(t, proto.Type_TYPE_WELCOME)
		// The pong is written on the loop at once; JOINED comes from the
		// shard after the commit: the pong arrives first.
		h, p := r.readFrame(t)
		if h.OpCode != ws.OpPong || string(p) != "p1" {
			t.Fatalf("got %v %q, want pong p1", h.OpCode, p)
		}
		r.expectEnvelope(t, proto.Type_TYPE_JOINED)
	})
	t.Run("fragments with a ping between", func(t *testing.T) {
		r := dialRawWS(t, s.Addr())
		defer r.c.Close()
		h := jsonHello("fragmented")
		r.write(t, clientFrame(ws.OpText, false, h[:5]))
		r.write(t, clientFrame(ws.OpPing, true, []byte("mid")))
		r.write(t, clientFrame(ws.OpContinuation, false, h[5:9]))
		r.write(t, clientFrame(ws.OpContinuation, true, h[9:]))
		hd, p := r.readFrame(t)
		if hd.OpCode != ws.OpPong || string(p) != "mid" {
			t.Fatalf("got %v %q, want pong", hd.OpCode, p)
		}
		r.expectEnvelope(t, proto.Type_TYPE_WELCOME)
	})
	t.Run("client close is echoed", func(t *testing.T) {
		r := dialRawWS(t, s.Addr())
		defer r.c.Close()
		r.write(t, clientFrame(ws.OpClose, true, []byte{0x03, 0xE8}))
		if code := r.expectClose(t); code != 1000 {
			t.Fatalf("close code %d", code)
		}
	})
}

// TestBadWebSocketInput: each violation closes that connection with the
// RFC 6455 code, is counted, and a healthy connection carries on.
func TestBadWebSocketInput(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) { c.Gateway.MaxFrameBytes = 1 << 16 })
	healthy := dialGorilla(t, s.WSURL(), nil)
	defer healthy.close()
	visitor(t, healthy, "healthy")
	conv := open(t, healthy, 2)

	unmasked := func() []byte {
		var buf bytes.Buffer
		_ = ws.WriteHeader(&buf, ws.Header{Fin: true, OpCode: ws.OpText, Length: 2})
		buf.WriteString("{}")
		return buf.Bytes()
	}()
	tooBig := func() []byte {
		var buf bytes.Buffer
		_ = ws.WriteHeader(&buf, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true})
		return buf.Bytes() // the payload never needs to arrive
	}()
	rsv := clientFrame(ws.OpText, true, []byte("{}"))
	rsv[0] |= 0x40
	tests := []struct {
		name   string
		frames [][]byte
		code   uint16
		reason string
	}{
		{"unmasked", [][]byte{unmasked}, 1002, "unmasked"},
		{"reserved bits", [][]byte{rsv}, 1002, "rsv"},
		{"unknown opcode", [][]byte{clientFrame(ws.OpCode(0x3), true, nil)}, 1002, "bad_opcode"},
		{"declared too big", [][]byte{tooBig}, 1009, "too_big"},
		{"bad utf-8", [][]byte{clientFrame(ws.OpText, true, []byte{'"', 0xff, 0xfe, '"'})}, 1007, "bad_utf8"},
		{"continuation first", [][]byte{clientFrame(ws.OpContinuation, true, []byte("x"))}, 1002, ""},
		{"fragmented ping", [][]byte{clientFrame(ws.OpPing, false, nil)}, 1002, "control_fragmented"},
		{"data before hello", [][]byte{clientFrame(ws.OpText, true, []byte(`{"type":"open","id":1}`))}, 1008, ""},
		{"wrong token", [][]byte{clientFrame(ws.OpText, true, proto.AppendJSON(nil, &proto.Envelope{
			Type: proto.Type_TYPE_HELLO, Id: 1,
			Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_AGENT, User: "mallory", Token: "1.abc"}}))}, 1008, ""},
		{"agent without token", [][]byte{clientFrame(ws.OpText, true, proto.AppendJSON(nil, &proto.Envelope{
			Type: proto.Type_TYPE_HELLO, Id: 1,
			Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_AGENT, User: "mallory"}}))}, 1008, ""},
		{"unknown site", [][]byte{clientFrame(ws.OpText, true, proto.AppendJSON(nil, &proto.Envelope{
			Type: proto.Type_TYPE_HELLO, Id: 1,
			Hello: &proto.Hello{Site: "other", Role: proto.Role_ROLE_VISITOR, User: "v"}}))}, 1008, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := metric(t, s, `kefu_decode_errors_total{protocol="ws",reason="`+tc.reason+`"}`)
			r := dialRawWS(t, s.Addr())
			defer r.c.Close()
			for _, f := range tc.frames {
				r.write(t, f)
			}
			if code := r.expectClose(t); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if tc.reason != "" {
				if after := metric(t, s, `kefu_decode_errors_total{protocol="ws",reason="`+tc.reason+`"}`); after != before+1 {
					t.Fatalf("decode error counter %v → %v", before, after)
				}
			}
			sendMsg(t, healthy, 3, conv, "", "still here after "+tc.name)
		})
	}
}

// TestBadHandshakes: a bad upgrade gets an HTTP error; a foreign origin 403.
func TestBadHandshakes(t *testing.T) {
	s := testserver.Start(t)
	tests := []struct {
		name, req string
		status    int
	}{
		{"foreign origin", strings.Replace(upgradeReq, "\r\n\r\n", "\r\nOrigin: http://evil.example\r\n\r\n", 1), 403},
		{"no key", strings.Replace(upgradeReq, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1), 400},
		{"bad version", strings.Replace(upgradeReq, "Version: 13", "Version: 8", 1), 426},
		{"other path", strings.Replace(upgradeReq, "/ws", "/admin", 1), 404},
		{"wrong method", strings.Replace(upgradeReq, "GET", "GOT", 1), 405},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = c.Write([]byte(tc.req))
			_ = c.SetReadDeadline(time.Now().Add(readTimeout))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
		})
	}
	// An allowed origin passes.
	hdr := http.Header{"Origin": {"http://allowed.example"}}
	g := dialGorilla(t, s.WSURL(), hdr)
	defer g.close()
	visitor(t, g, "allowed")
}

// TestBadFrameInput: binary protocol violations get an ERROR frame with
// the right code, then the connection closes; bad payloads only an ERROR.
func TestBadFrameInput(t *testing.T) {
	s := testserver.Start(t)
	hello := func() []byte {
		b, _ := frame.AppendEnvelope(nil, &proto.Envelope{Type: proto.Type_TYPE_HELLO, Id: 1,
			Hello: &proto.Hello{Site: testserver.Site, Role: proto.Role_ROLE_VISITOR, User: "framer"}})
		return b
	}
	tests := []struct {
		name   string
		input  []byte
		code   proto.Code
		closes bool
	}{
		{"bad version", []byte{0x4B, 9, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0}, proto.Code_CODE_UNSUPPORTED, true},
		{"flags set", []byte{0x4B, 1, 1, 0x80, 0, 0, 0, 1, 0, 0, 0, 0}, proto.Code_CODE_UNSUPPORTED, true},
		{"too large", []byte{0x4B, 1, 6, 0, 0, 0, 0, 1, 0x10, 0, 0, 0}, proto.Code_CODE_TOO_LARGE, true},
		{"type zero", []byte{0x4B, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, proto.Code_CODE_BAD_REQUEST, true},
		{"garbage payload", append(hello(), 0x4B, 1, 6, 0, 0, 0, 0, 7, 0, 0, 0, 2, 0xff, 0xff), proto.Code_CODE_BAD_REQUEST, false},
		{"unknown type", append(hello(), 0x4B, 1, 99, 0, 0, 0, 0, 7, 0, 0, 0, 0), proto.Code_CODE_UNSUPPORTED, false},
		{"send before hello", func() []byte {
			b, _ := frame.AppendEnvelope(nil, &proto.Envelope{Type: proto.Type_TYPE_SEND, Id: 1, Conversation: "x", Body: "hi"})
			return b
		}(), proto.Code_CODE_UNAUTHENTICATED, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := dialFrame(t, s.Addr())
			defer f.close()
			if _, err := f.c.Write(tc.input); err != nil {
				t.Fatal(err)
			}
			env := f.recv(t)
			if env.Type == proto.Type_TYPE_WELCOME {
				env = f.recv(t)
			}
			if env.Type != proto.Type_TYPE_ERROR || env.Error.GetCode() != tc.code {
				t.Fatalf("got %v, want ERROR %v", env, tc.code)
			}
			_ = f.c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			_, err := f.c.Read(make([]byte, 1))
			if closed := err == io.EOF; closed != tc.closes {
				t.Fatalf("after the error: read err %v, want closed=%v", err, tc.closes)
			}
		})
	}
	t.Run("unknown first byte", func(t *testing.T) {
		before := metric(t, s, `kefu_connections_closed_total{reason="unknown_protocol"}`)
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte("\x00\x01garbage"))
		_ = c.SetReadDeadline(time.Now().Add(readTimeout))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("read: %v, want EOF", err)
		}
		waitMetric(t, s, `kefu_connections_closed_total{reason="unknown_protocol"}`, before+1)
	})
}

var metricLine = regexp.MustCompile(`^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$`)

// metric scrapes /metrics and returns the value of the series named
// exactly as given (0 when absent).
func metric(t *testing.T, s *testserver.Server, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		m := metricLine.FindStringSubmatch(sc.Text())
		if m != nil && m[1] == series {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return 0
}

func waitMetric(t *testing.T, s *testserver.Server, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for {
		got := metric(t, s, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v, want %v", series, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
