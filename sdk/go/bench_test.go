package kefu

import (
	"context"
	"strings"
	"testing"

	"github.com/kefu-im/kefu/codec/frame"
	pb "github.com/kefu-im/kefu/proto"
)

// writeClient returns a client over a connection that discards writes.
func writeClient(m mode) *Client {
	var pushed []*pb.Envelope
	c, conn := scriptClient(m.tr, m.binary, nil, &pushed)
	conn.discard = true
	return c
}

var sendReq = req{typ: pb.Type_TYPE_SEND, conv: "c-0123456789", cmid: "0123456789abcdef-42", body: strings.Repeat("x", 64)}

// TestWriteAllocs proves that encoding and writing a request does not
// allocate once the write buffer has grown.
func TestWriteAllocs(t *testing.T) {
	for _, m := range modes {
		c := writeClient(m)
		r := sendReq
		if err := c.start(nil, &r, nil); err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(200, func() { c.start(nil, &r, nil) }); n != 0 {
			t.Errorf("%s: %.1f allocations per SEND write, want 0", m.name, n)
		}
		ping := req{typ: pb.Type_TYPE_PING}
		if n := testing.AllocsPerRun(200, func() { c.start(nil, &ping, nil) }); n != 0 {
			t.Errorf("%s: %.1f allocations per PING write, want 0", m.name, n)
		}
	}
}

func BenchmarkWriteSend(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			c := writeClient(m)
			r := sendReq
			b.ReportAllocs()
			for b.Loop() {
				if err := c.start(nil, &r, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadMessage measures decoding and dispatching one MESSAGE (the
// allocations are the Envelope handed to the caller and its strings).
func BenchmarkReadMessage(b *testing.B) {
	msg := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "c-0123456789", Seq: 12345,
		ClientMsgId: "0123456789abcdef-42", Sender: "v:visitor-1", Kind: pb.Kind_KIND_TEXT,
		Body: strings.Repeat("x", 64), Ts: 1700000000000}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			var pushed []*pb.Envelope
			c, _ := scriptClient(m.tr, m.binary, nil, &pushed)
			c.opts.OnMessage = func(*pb.Envelope) {}
			switch {
			case m.tr == TransportFrame:
				raw := mustFrame(b, msg)
				f, _, err := frame.Decode(raw, 0)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					c.handleFrame(f)
				}
			default:
				op, payload := wsOpText, pb.AppendJSON(nil, msg)
				if m.binary {
					op, payload = wsOpBinary, mustProto(b, msg)
				}
				b.SetBytes(int64(len(payload)))
				b.ReportAllocs()
				for b.Loop() {
					if err := c.handleWSMessage(op, payload); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkSend is a synchronous SEND/ACK round trip with the scripted
// peer over loopback (the peer's cost included).
func BenchmarkSend(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			p := newPeer(b, m.tr)
			c, conv := benchClient(b, p, m)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Send(ctx, conv, "", "hello"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSendAsync pipelines SENDs, at most 128 in flight.
func BenchmarkSendAsync(b *testing.B) {
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			p := newPeer(b, m.tr)
			c, conv := benchClient(b, p, m)
			window := make(chan struct{}, 128)
			done := func(_ *pb.Envelope, err error) {
				if err != nil {
					b.Error(err)
				}
				<-window
			}
			b.ReportAllocs()
			for b.Loop() {
				window <- struct{}{}
				if err := c.SendAsync(conv, "", "hello", done); err != nil {
					b.Fatal(err)
				}
			}
			for range cap(window) {
				window <- struct{}{}
			}
		})
	}
}

func benchClient(b *testing.B, p *peer, m mode) (*Client, string) {
	c, err := Dial(context.Background(), m.options(p, "v1", pb.Role_ROLE_VISITOR))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	op, err := c.Open(context.Background(), "", 0)
	if err != nil {
		b.Fatal(err)
	}
	return c, op.End.Conversation
}
