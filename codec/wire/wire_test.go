package wire

import (
	"bytes"
	"testing"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/ws"
	"github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// serverFrame decodes an unmasked server WebSocket frame.
func serverFrame(t *testing.T, b []byte) (ws.OpCode, []byte) {
	t.Helper()
	if b[0]&0x80 == 0 {
		t.Fatal("FIN not set")
	}
	op := ws.OpCode(b[0] & 0x0f)
	n, off := int(b[1]&0x7f), 2
	switch n {
	case 126:
		n, off = int(b[2])<<8|int(b[3]), 4
	case 127:
		n = 0
		for _, c := range b[2:10] {
			n = n<<8 | int(c)
		}
		off = 10
	}
	if b[1]&0x80 != 0 {
		t.Fatal("server frame masked")
	}
	if len(b) != off+n {
		t.Fatalf("frame of %d bytes declares %d+%d", len(b), off, n)
	}
	return op, b[off:]
}

func TestAppendEveryFormat(t *testing.T) {
	for _, size := range []int{0, 10, 125, 126, 200, 70000} {
		env := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Id: 7, Conversation: "c1", Seq: 42,
			Sender: "v:x", Body: string(bytes.Repeat([]byte("é<"), size/2)), Ts: 1}
		pb, err := gproto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		for _, withPB := range []bool{false, true} {
			var given []byte
			if withPB {
				given = pb
			}
			prefix := []byte("keep")
			// Frame.
			b, err := Append(append([]byte(nil), prefix...), FormatFrame, env, given)
			if err != nil || !bytes.HasPrefix(b, prefix) {
				t.Fatal(err)
			}
			f, n, err := frame.Decode(b[len(prefix):], frame.HardMaxPayload)
			if err != nil || n != len(b)-len(prefix) || f.Type != uint8(proto.Type_TYPE_MESSAGE) || f.RequestID != 7 {
				t.Fatalf("frame: %v n=%d %+v", err, n, f.Header)
			}
			got, err := frame.DecodeEnvelope(f)
			if err != nil || !gproto.Equal(got, env) {
				t.Fatalf("frame round trip: %v", err)
			}
			// WebSocket binary.
			b, err = Append(nil, FormatWSProto, env, given)
			if err != nil {
				t.Fatal(err)
			}
			op, p := serverFrame(t, b)
			got = new(proto.Envelope)
			if op != ws.OpBinary || gproto.Unmarshal(p, got) != nil || !gproto.Equal(got, env) {
				t.Fatalf("ws proto round trip, size %d", size)
			}
			// WebSocket JSON.
			b, err = Append(append([]byte(nil), prefix...), FormatWSJSON, env, given)
			if err != nil || !bytes.HasPrefix(b, prefix) {
				t.Fatal(err)
			}
			op, p = serverFrame(t, b[len(prefix):])
			got = new(proto.Envelope)
			if op != ws.OpText || proto.UnmarshalJSON(p, got) != nil || !gproto.Equal(got, env) {
				t.Fatalf("ws json round trip, size %d: %s", size, p)
			}
			if bytes.Contains(p, []byte("<")) {
				t.Fatal("'<' not escaped in JSON")
			}
		}
	}
	if _, err := Append(nil, NumFormats, &proto.Envelope{}, nil); err == nil {
		t.Fatal("unknown format accepted")
	}
}

func BenchmarkAppend(b *testing.B) {
	env := &proto.Envelope{Type: proto.Type_TYPE_MESSAGE, Conversation: "0123456789abcdefghij", Seq: 42,
		Sender: "v:visitor-1", Body: string(bytes.Repeat([]byte("x"), 100)), Ts: 1795000000000, ClientMsgId: "m-1"}
	pb, _ := gproto.Marshal(env)
	for _, f := range []Format{FormatFrame, FormatWSProto, FormatWSJSON} {
		b.Run(f.String(), func(b *testing.B) {
			dst := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = Append(dst[:0], f, env, pb)
			}
		})
	}
}
