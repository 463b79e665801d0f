package engine_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/internal/server"
	"github.com/kefu-im/kefu/internal/testserver"
	"github.com/kefu-im/kefu/proto"
)

// fastTimeouts shortens the deadlines; they stay long enough that a loaded
// CI machine answering pings late does not look idle.
func fastTimeouts(c *server.Config) {
	c.Gateway.HandshakeTimeout = 300 * time.Millisecond
	c.Gateway.PingInterval = 250 * time.Millisecond
	c.Gateway.IdleTimeout = 1500 * time.Millisecond
	c.Gateway.Tick = 20 * time.Millisecond
}

func expectEOF(t *testing.T, c net.Conn, within time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(within))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("read: %v, want EOF", err)
		}
	}
}

func TestHandshakeTimeout(t *testing.T) {
	s := testserver.Start(t, fastTimeouts)
	for _, first := range []string{"", "GET /ws HTTP/1.1\r\n", "K"} {
		t.Run(fmt.Sprintf("%q", first), func(t *testing.T) {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = c.Write([]byte(first))
			start := time.Now()
			expectEOF(t, c, 3*time.Second)
			if d := time.Since(start); d < 200*time.Millisecond {
				t.Fatalf("closed after %v, before the handshake timeout", d)
			}
		})
	}
	if n := metric(t, s, `kefu_connections_closed_total{reason="handshake_timeout"}`); n != 3 {
		t.Fatalf("handshake_timeout closes = %v, want 3", n)
	}
}

// TestPingAndIdleTimeout: a silent binary client is pinged, then closed;
// one that answers stays; WebSocket clients answering pings stay too.
func TestPingAndIdleTimeout(t *testing.T) {
	s := testserver.Start(t, fastTimeouts)
	silent := dialFrame(t, s.Addr())
	defer silent.close()
	visitor(t, silent, "silent")
	if fr := silent.recvFrame(t); proto.Type(fr.Type) != proto.Type_TYPE_PING {
		t.Fatalf("got frame type %d, want PING", fr.Type)
	}
	expectEOF(t, silent.c, 5*time.Second)

	alive := dialFrame(t, s.Addr())
	defer alive.close()
	visitor(t, alive, "alive")
	g := dialGorilla(t, s.WSURL(), nil)
	defer g.close()
	visitor(t, g, "alive-ws")
	_ = g.c.SetReadDeadline(time.Time{}) // recv set one; this reader runs for the whole test
	go func() {                          // gorilla answers pings while it reads
		for {
			if _, _, err := g.c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(2500 * time.Millisecond)
	for time.Now().Before(deadline) {
		fr := alive.recvFrame(t) // PINGs; answer each
		if proto.Type(fr.Type) != proto.Type_TYPE_PING {
			t.Fatalf("frame type %d", fr.Type)
		}
		_, _ = alive.c.Write(frame.AppendFrame(nil, uint8(proto.Type_TYPE_PONG), 0, nil))
	}
	if err := g.c.WriteMessage(1, proto.AppendJSON(nil, &proto.Envelope{Type: proto.Type_TYPE_PING, Id: 5})); err != nil {
		t.Fatalf("WebSocket client was closed although it answered pings: %v", err)
	}
	if n := metric(t, s, `kefu_connections_closed_total{reason="idle_timeout"}`); n != 1 {
		t.Fatalf("idle_timeout closes = %v, want 1", n)
	}
}

// TestSlowConsumer: a subscriber that stops reading is closed once its
// outbound queue passes the limit; the sender and others carry on.
func TestSlowConsumer(t *testing.T) {
	s := testserver.Start(t, func(c *server.Config) {
		c.Gateway.MaxFrameBytes = 16 << 10
		c.Gateway.MaxBodyBytes = 8 << 10
		c.Gateway.OutboundLimit = 64 << 10
	})
	v := dialFrame(t, s.Addr())
	defer v.close()
	visitor(t, v, "talker")
	conv := open(t, v, 2)

	slow := dialFrame(t, s.Addr())
	defer slow.close()
	if tc, ok := slow.c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	agent(t, slow, "sleepy")
	join(t, slow, 2, conv, 0)
	// From here on the slow agent reads nothing.
	body := strings.Repeat("z", 8<<10)
	for i := 0; ; i++ {
		sendMsg(t, v, uint64(100+i), conv, "", body)
		if i%32 == 31 && metric(t, s, "kefu_slow_consumer_closes_total") >= 1 {
			break
		}
		if i > 5000 {
			t.Fatal("no slow-consumer close after 40 MB")
		}
	}
	waitMetric(t, s, `kefu_connections_closed_total{reason="slow_consumer"}`, 1)
	sendMsg(t, v, 1, conv, "", "the sender is unaffected")
}
