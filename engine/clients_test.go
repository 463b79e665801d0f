package engine_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/gorilla/websocket"
	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// client is the little each test needs of a connection: send an envelope,
// receive the next one. Three real implementations follow.
type client interface {
	send(t *testing.T, env *proto.Envelope)
	recv(t *testing.T) *proto.Envelope
	close()
}

const readTimeout = 5 * time.Second

// gorillaClient speaks JSON text frames through gorilla/websocket.
type gorillaClient struct{ c *websocket.Conn }

func dialGorilla(t *testing.T, url string, hdr http.Header) *gorillaClient {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		t.Fatalf("gorilla dial: %v", err)
	}
	return &gorillaClient{c}
}

func (g *gorillaClient) send(t *testing.T, env *proto.Envelope) {
	t.Helper()
	if err := g.c.WriteMessage(websocket.TextMessage, proto.AppendJSON(nil, env)); err != nil {
		t.Fatalf("gorilla write: %v", err)
	}
}

func (g *gorillaClient) recv(t *testing.T) *proto.Envelope {
	t.Helper()
	_ = g.c.SetReadDeadline(time.Now().Add(readTimeout))
	typ, b, err := g.c.ReadMessage()
	if err != nil {
		t.Fatalf("gorilla read: %v", err)
	}
	if typ != websocket.TextMessage {
		t.Fatalf("gorilla read: message type %d, want text", typ)
	}
	env := new(proto.Envelope)
	if err := proto.UnmarshalJSON(b, env); err != nil {
		t.Fatalf("bad JSON from server %q: %v", b, err)
	}
	return env
}

func (g *gorillaClient) close() { _ = g.c.Close() }

// gobwasClient speaks protobuf binary frames (subprotocol kefu.proto)
// through gobwas/ws.
type gobwasClient struct {
	c  net.Conn
	br *bufio.Reader
}

func dialGobwas(t *testing.T, url string) *gobwasClient {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"kefu.proto"}, Timeout: readTimeout}
	c, br, hs, err := d.Dial(t.Context(), url)
	if err != nil {
		t.Fatalf("gobwas dial: %v", err)
	}
	if hs.Protocol != "kefu.proto" {
		t.Fatalf("subprotocol %q, want kefu.proto", hs.Protocol)
	}
	if br == nil {
		br = bufio.NewReader(c)
	}
	return &gobwasClient{c: c, br: br}
}

func (g *gobwasClient) send(t *testing.T, env *proto.Envelope) {
	t.Helper()
	b, err := gproto.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := wsutil.WriteClientMessage(g.c, ws.OpBinary, b); err != nil {
		t.Fatalf("gobwas write: %v", err)
	}
}

func (g *gobwasClient) recv(t *testing.T) *proto.Envelope {
	t.Helper()
	_ = g.c.SetReadDeadline(time.Now().Add(readTimeout))
	rw := struct {
		io.Reader
		io.Writer
	}{g.br, g.c}
	for {
		msgs, err := wsutil.ReadServerMessage(rw, nil)
		if err != nil {
			t.Fatalf("gobwas read: %v", err)
		}
		for _, m := range msgs {
			switch m.OpCode {
			case ws.OpPing:
				_ = wsutil.WriteClientMessage(g.c, ws.OpPong, m.Payload)
			case ws.OpBinary:
				env := new(proto.Envelope)
				if err := gproto.Unmarshal(m.Payload, env); err != nil {
					t.Fatalf("bad protobuf from server: %v", err)
				}
				return env
			case ws.OpClose:
				t.Fatalf("gobwas read: server closed: %x", m.Payload)
			}
		}
	}
}

func (g *gobwasClient) close() { _ = g.c.Close() }

// frameClient speaks the binary TCP protocol with raw bytes.
type frameClient struct {
	c   net.Conn
	buf []byte
}

func dialFrame(t *testing.T, addr string) *frameClient {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, readTimeout)
	if err != nil {
		t.Fatalf("frame dial: %v", err)
	}
	return &frameClient{c: c}
}

func (f *frameClient) send(t *testing.T, env *proto.Envelope) {
	t.Helper()
	b, err := frame.AppendEnvelope(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Write(b); err != nil {
		t.Fatalf("frame write: %v", err)
	}
}

// recvFrame returns the next frame, whatever its type.
func (f *frameClient) recvFrame(t *testing.T) frame.Frame {
	t.Helper()
	_ = f.c.SetReadDeadline(time.Now().Add(readTimeout))
	for {
		fr, n, err := frame.Decode(f.buf, 16<<20)
		if err != nil {
			t.Fatalf("bad frame from server: %v", err)
		}
		if n > 0 {
			fr.Payload = append([]byte(nil), fr.Payload...)
			f.buf = f.buf[n:]
			return fr
		}
		tmp := make([]byte, 64<<10)
		k, err := f.c.Read(tmp)
		if err != nil {
			t.Fatalf("frame read: %v", err)
		}
		f.buf = append(f.buf, tmp[:k]...)
	}
}

func (f *frameClient) recv(t *testing.T) *proto.Envelope {
	t.Helper()
	for {
		fr := f.recvFrame(t)
		switch proto.Type(fr.Type) {
		case proto.Type_TYPE_PING:
			_, _ = f.c.Write(frame.AppendFrame(nil, uint8(proto.Type_TYPE_PONG), 0, nil))
			continue
		case proto.Type_TYPE_GOAWAY:
			return &proto.Envelope{Type: proto.Type_TYPE_GOAWAY}
		}
		env, err := frame.DecodeEnvelope(fr)
		if err != nil {
			t.Fatalf("bad envelope from server: %v", err)
		}
		return env
	}
}

func (f *frameClient) close() { _ = f.c.Close() }
