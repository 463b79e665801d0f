package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// byteServer is a test server that treats a TCP connection the way the
// engine treats a gnet connection: it only sees accumulated bytes, runs
// Upgrade and Decoder over them, and writes what the encoders append. It
// echoes data messages, answers pings and closes, and reports every message
// it decoded.
type byteServer struct {
	ln   net.Listener
	msgs chan gotMsg
	errs chan error
}

func startByteServer(t *testing.T, up *UpgradeOptions, dec *DecodeOptions) *byteServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &byteServer{ln: ln, msgs: make(chan gotMsg, 64), errs: make(chan error, 4)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := s.serve(c, up, dec); err != nil {
					s.errs <- err
				}
			}()
		}
	}()
	return s
}

func (s *byteServer) serve(c net.Conn, up *UpgradeOptions, dec *DecodeOptions) error {
	var (
		in       []byte
		out      []byte
		upgraded bool
		d        Decoder
		chunk    = make([]byte, 1500) // small reads: frames arrive split
	)
	defer d.Reset(dec)
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := c.Read(chunk)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		in = append(in, chunk[:k]...)
		if !upgraded {
			n, resp, info, err := Upgrade(in, out[:0], up)
			if n == 0 && err == nil {
				continue
			}
			if _, werr := c.Write(resp); werr != nil {
				return werr
			}
			if err != nil {
				return err
			}
			s.msgs <- gotMsg{OpContinuation, "handshake " + info.Protocol + " " + info.Path}
			upgraded = true
			in = in[n:]
		}
		consumed := 0
		for {
			m, n, err := d.Decode(in[consumed:], dec)
			if err != nil {
				_, _ = c.Write(AppendClose(nil, CloseCodeFor(err), ""))
				return err
			}
			if n == 0 {
				break
			}
			consumed += n
			if !m.Complete() {
				continue
			}
			s.msgs <- gotMsg{m.Op, string(m.Payload)}
			out = out[:0]
			switch m.Op {
			case OpText, OpBinary:
				out = AppendFrame(out, m.Op, m.Payload)
			case OpPing:
				out = AppendPong(out, m.Payload)
			case OpClose:
				code, _ := ParseClose(m.Payload)
				out = AppendClose(out, code, "")
			}
			if _, err := c.Write(out); err != nil {
				return err
			}
			if m.Op == OpClose {
				return nil
			}
		}
		d.Release(dec)
		// Keep only the unconsumed tail, in a fresh slice: what Decode
		// returned aliased the old one.
		in = append([]byte(nil), in[consumed:]...)
	}
}

func (s *byteServer) next(t *testing.T) gotMsg {
	t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case err := <-s.errs:
		t.Fatalf("server: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server: no message")
	}
	return gotMsg{}
}

func TestGorillaClientRoundTrip(t *testing.T) {
	up := &UpgradeOptions{
		Protocols:   []string{"kefu.json", "kefu.proto", "mqtt"},
		CheckOrigin: func(o []byte) bool { return string(o) == "https://kefu.example" },
	}
	dec := &DecodeOptions{}
	dec.EnsureDefaults()
	srv := startByteServer(t, up, dec)
	url := "ws://" + srv.ln.Addr().String() + "/ws?site=abc"

	for _, wbuf := range []int{1024, 128 << 10} {
		dialer := websocket.Dialer{
			Subprotocols:     []string{"kefu.proto", "kefu.json"},
			WriteBufferSize:  wbuf,
			HandshakeTimeout: 5 * time.Second,
		}
		hdr := map[string][]string{"Origin": {"https://kefu.example"}}
		conn, _, err := dialer.Dial(url, hdr)
		if err != nil {
			t.Fatal(err)
		}
		if conn.Subprotocol() != "kefu.json" {
			t.Fatalf("subprotocol %q", conn.Subprotocol())
		}
		if m := srv.next(t); m.Payload != "handshake kefu.json /ws?site=abc" {
			t.Fatalf("server saw %q", m.Payload)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))

		big := bytes.Repeat([]byte("0123456789abcdef"), 70*1024/16) // 70 KiB
		cases := []struct {
			typ  int
			op   OpCode
			data []byte
		}{
			{websocket.TextMessage, OpText, []byte("hello, 世界")},
			{websocket.BinaryMessage, OpBinary, []byte{0, 1, 2, 3, 255}},
			{websocket.BinaryMessage, OpBinary, big},
			{websocket.TextMessage, OpText, big},
			{websocket.TextMessage, OpText, nil},
		}
		for _, tc := range cases {
			if err := conn.WriteMessage(tc.typ, tc.data); err != nil {
				t.Fatal(err)
			}
			checkEcho(t, srv, conn, tc.typ, tc.op, tc.data)
		}

		// Fragmented writes through NextWriter: each Write of more than
		// the write buffer flushes a non-final frame.
		w, err := conn.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		var whole []byte
		for i := range 5 {
			part := []byte(strings.Repeat("€", 300+i)) // code points straddle frames
			whole = append(whole, part...)
			if _, err := w.Write(part); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		checkEcho(t, srv, conn, websocket.TextMessage, OpText, whole)

		// Ping: the server answers with a pong carrying the same bytes.
		pong := make(chan string, 1)
		conn.SetPongHandler(func(s string) error { pong <- s; return nil })
		if err := conn.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if m := srv.next(t); m.Op != OpPing || m.Payload != "are you there" {
			t.Fatalf("server saw %v %q", m.Op, m.Payload)
		}
		// The pong handler runs inside a read; send one more message to
		// read past the pong.
		if err := conn.WriteMessage(websocket.TextMessage, []byte("after ping")); err != nil {
			t.Fatal(err)
		}
		checkEcho(t, srv, conn, websocket.TextMessage, OpText, []byte("after ping"))
		select {
		case p := <-pong:
			if p != "are you there" {
				t.Fatalf("pong %q", p)
			}
		default:
			t.Fatal("no pong")
		}

		// Close handshake.
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
		if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if m := srv.next(t); m.Op != OpClose || m.Payload != "\x03\xe8bye" {
			t.Fatalf("server saw %v %q", m.Op, m.Payload)
		}
		_, _, err = conn.ReadMessage()
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("close reply: %v", err)
		}
		conn.Close()
	}
}

func checkEcho(t *testing.T, srv *byteServer, conn *websocket.Conn, typ int, op OpCode, data []byte) {
	t.Helper()
	if m := srv.next(t); m.Op != op || m.Payload != string(data) {
		t.Fatalf("server decoded %v of %d bytes, want %v of %d", m.Op, len(m.Payload), op, len(data))
	}
	gt, got, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if gt != typ || !bytes.Equal(got, data) {
		t.Fatalf("echo: type %d, %d bytes; want type %d, %d bytes", gt, len(got), typ, len(data))
	}
}

func TestGorillaClientRefused(t *testing.T) {
	up := &UpgradeOptions{CheckOrigin: func([]byte) bool { return false }}
	srv := startByteServer(t, up, nil)
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	hdr := map[string][]string{"Origin": {"https://evil.example"}}
	_, resp, err := dialer.Dial("ws://"+srv.ln.Addr().String()+"/ws", hdr)
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("err %v resp %v", err, resp)
	}
	select {
	case err := <-srv.errs:
		if err != ErrOriginDenied {
			t.Fatalf("server error %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no server error")
	}
}

func TestGorillaClientTooBig(t *testing.T) {
	srv := startByteServer(t, nil, &DecodeOptions{MaxMessageSize: 1000})
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := dialer.Dial("ws://"+srv.ln.Addr().String()+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv.next(t) // handshake
	if err := conn.WriteMessage(websocket.BinaryMessage, make([]byte, 1001)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = conn.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
		t.Fatalf("client saw %v, want close 1009", err)
	}
	if err := <-srv.errs; err != ErrTooBig {
		t.Fatalf("server error %v", err)
	}
}
