package client

import (
	"bytes"
	"testing"

	"github.com/kefu-im/kefu/codec/ws"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"type":"message","conversation":"c1","seq":3,"client_msg_id":"1-2","body":"x"}`))
	f.Add([]byte(`{"type":"error","id":4,"error":{"code":"busy","message":"m","retryable":true}}`))
	f.Add([]byte(`{"type":7,"x":[{"y":null},true,-1.5e3]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var m Msg
		err := ParseJSON(in, &m)
		var e pb.Envelope
		if pb.UnmarshalJSON(in, &e) != nil {
			return
		}
		// Whatever the strict reader accepts, this one reads the same way.
		if err != nil {
			t.Fatalf("strict reader accepts %q, ParseJSON: %v", in, err)
		}
		if m.Type != e.Type || m.ID != e.Id || m.Seq != e.Seq || m.Code != e.GetError().GetCode() || m.More != e.More {
			t.Fatalf("%q: parsed %+v, strict %v", in, m, &e)
		}
		if !bytes.ContainsRune(m.Conversation, '\\') && string(m.Conversation) != e.Conversation {
			t.Fatalf("%q: conversation %q vs %q", in, m.Conversation, e.Conversation)
		}
	})
}

func FuzzParseProto(f *testing.F) {
	for _, e := range []*pb.Envelope{
		{Type: pb.Type_TYPE_ACK, Id: 3, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Ts: 1},
		{Type: pb.Type_TYPE_ERROR, Error: &pb.Error{Code: pb.Code_CODE_NOT_FOUND, Message: "x"}},
	} {
		b, _ := gproto.Marshal(e)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var m Msg
		err := ParseProto(in, &m)
		var e pb.Envelope
		if gproto.Unmarshal(in, &e) != nil {
			return
		}
		if err != nil {
			t.Fatalf("protobuf accepts %x, ParseProto: %v", in, err)
		}
		if m.Type != e.Type || m.ID != e.Id || m.Seq != e.Seq || string(m.Conversation) != e.Conversation ||
			string(m.ClientMsgID) != e.ClientMsgId || m.Code != e.GetError().GetCode() || m.More != e.More {
			t.Fatalf("%x: parsed %+v, protobuf %v", in, m, &e)
		}
	})
}

// FuzzDecodeServerFrame feeds a stream of server frames whole and cut at
// every point: a cut stream decodes to the same frames.
func FuzzDecodeServerFrame(f *testing.F) {
	f.Add(ws.AppendFrame(ws.AppendPing(nil, []byte("p")), ws.OpText, []byte("hello")), uint16(3))
	f.Add(ws.AppendFrame(nil, ws.OpBinary, bytes.Repeat([]byte("b"), 300)), uint16(100))
	f.Add([]byte{0x01, 0x02, 'a', 'b', 0x80, 0x01, 'c'}, uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		whole := decodeAll(in, len(in))
		split := decodeAll(in, int(cut)%(len(in)+1))
		if whole != split {
			t.Fatalf("whole %q, split at %d %q", whole, cut, split)
		}
	})
}

// decodeAll decodes frames from in, receiving the first cut bytes, then
// the rest, and returns a transcript.
func decodeAll(in []byte, cut int) string {
	var out bytes.Buffer
	buf := append([]byte(nil), in[:cut]...)
	rest := in[cut:]
	for {
		f, n, err := DecodeServerFrame(buf, 1<<16)
		switch {
		case err != nil:
			out.WriteString("err:" + err.Error())
			return out.String()
		case n == 0 && len(rest) > 0:
			buf = append(buf, rest...)
			rest = nil
		case n == 0:
			out.WriteString("need")
			return out.String()
		default:
			out.WriteString(f.Op.String())
			out.WriteByte(':')
			out.Write(f.Payload)
			out.WriteByte('|')
			buf = buf[n:]
		}
	}
}

func FuzzParseUpgradeResponse(f *testing.F) {
	key := NewKey([16]byte{9})
	acc := AcceptFor(key[:])
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: "+string(acc[:])+"\r\n\r\n"), uint16(20))
	f.Add([]byte("HTTP/1.1 400 Bad\r\n\r\n"), uint16(3))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		n, status, err := ParseUpgradeResponse(in, acc[:])
		if n < 0 || n > len(in) {
			t.Fatalf("n=%d of %d", n, len(in))
		}
		// A prefix that ends before the blank line needs more bytes (or is
		// already too large); one that contains it reads the same.
		c := int(cut) % (len(in) + 1)
		pn, pstatus, perr := ParseUpgradeResponse(in[:c], acc[:])
		switch {
		case pn == 0 && perr == nil:
			if n != 0 && c >= n {
				t.Fatalf("prefix %d holds the response (n=%d) but needs more", c, n)
			}
		case perr == ErrUpgradeTooLarge:
		case pn != n || pstatus != status || perr != err:
			t.Fatalf("prefix %d: %d %d %v, whole: %d %d %v", c, pn, pstatus, perr, n, status, err)
		}
	})
}
