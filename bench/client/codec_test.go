package client

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/kefu-im/kefu/codec/frame"
	"github.com/kefu-im/kefu/codec/ws"
	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

var sampleRequests = []Request{
	{Type: pb.Type_TYPE_HELLO, ID: 1, Hello: &Hello{Site: "demo", Role: pb.Role_ROLE_AGENT, User: "a\"1", Token: "123.abc", Client: "kefu-bench"}},
	{Type: pb.Type_TYPE_HELLO, ID: 1, Hello: &Hello{Site: "demo", Role: pb.Role_ROLE_VISITOR, User: "v"}},
	{Type: pb.Type_TYPE_OPEN, ID: 2},
	{Type: pb.Type_TYPE_JOIN, ID: 3, Conversation: []byte("c1"), Seq: 7},
	{Type: pb.Type_TYPE_SEND, ID: 1 << 40, Conversation: []byte("c1"), ClientMsgID: []byte("12-345"), Body: bytes.Repeat([]byte("x\n"), 200)},
	{Type: pb.Type_TYPE_PING, ID: 9},
}

// TestRequestEncodings checks both encoders against the project's own
// protobuf and JSON readers.
func TestRequestEncodings(t *testing.T) {
	for _, r := range sampleRequests {
		var env pb.Envelope
		if err := gproto.Unmarshal(AppendProto(nil, &r), &env); err != nil {
			t.Fatalf("%v: %v", r.Type, err)
		}
		var fromJSON pb.Envelope
		if err := pb.UnmarshalJSON(AppendJSON(nil, &r), &fromJSON); err != nil {
			t.Fatalf("%v: JSON %s: %v", r.Type, AppendJSON(nil, &r), err)
		}
		for _, e := range []*pb.Envelope{&env, &fromJSON} {
			if e.Type != r.Type || e.Id != r.ID || e.Conversation != string(r.Conversation) || e.Seq != r.Seq ||
				e.ClientMsgId != string(r.ClientMsgID) || e.Body != string(r.Body) {
				t.Fatalf("%v: decoded %v", r.Type, e)
			}
			if r.Type == pb.Type_TYPE_SEND && e.Kind != pb.Kind_KIND_TEXT {
				t.Fatalf("SEND without kind TEXT")
			}
			if h := r.Hello; h != nil {
				if e.Hello.GetSite() != h.Site || e.Hello.GetRole() != h.Role || e.Hello.GetUser() != h.User ||
					e.Hello.GetToken() != h.Token || e.Hello.GetClient() != h.Client {
					t.Fatalf("hello decoded as %v", e.Hello)
				}
			}
		}
	}
}

func TestAppendEnvelopeFraming(t *testing.T) {
	r := sampleRequests[4]
	b := AppendEnvelope(nil, Frame, &r, 0)
	f, n, err := frame.Decode(b, frame.HardMaxPayload)
	if err != nil || n != len(b) || f.Type != uint8(pb.Type_TYPE_SEND) || f.RequestID != uint32(r.ID) {
		t.Fatalf("frame: %+v %d %v", f.Header, n, err)
	}
	for _, tr := range []Transport{WSJSON, WSProto} {
		for _, size := range []int{0, 10, 125, 126, 300, 70000} {
			r := Request{Type: pb.Type_TYPE_SEND, ID: 5, Conversation: []byte("c"), Body: bytes.Repeat([]byte("y"), size)}
			b := AppendEnvelope([]byte("prefix"), tr, &r, 0xA1B2C3D4)
			if string(b[:6]) != "prefix" {
				t.Fatal("dst prefix overwritten")
			}
			var d ws.Decoder
			opts := ws.DecodeOptions{MaxMessageSize: 1 << 20}
			m, n, err := d.Decode(b[6:], &opts)
			if err != nil || n != len(b)-6 {
				t.Fatalf("%v size %d: server decoder: n=%d/%d err=%v", tr, size, n, len(b)-6, err)
			}
			want := AppendJSON(nil, &r)
			if tr == WSProto {
				want = AppendProto(nil, &r)
			}
			if !bytes.Equal(m.Payload, want) {
				t.Fatalf("%v size %d: unmasked payload differs", tr, size)
			}
		}
	}
}

func TestParseServerEnvelopes(t *testing.T) {
	envs := []*pb.Envelope{
		{Type: pb.Type_TYPE_WELCOME, Id: 1, Sender: "v:v7"},
		{Type: pb.Type_TYPE_JOINED, Id: 2, Conversation: "k3v0q8", Seq: 12, More: true},
		{Type: pb.Type_TYPE_ACK, Id: 3, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Ts: 1700000000000},
		{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 99, ClientMsgId: "5-123", Sender: "a:x", Kind: pb.Kind_KIND_TEXT,
			Body: "quote\" backslash\\ <tag> \u2028 ünï", Ts: 1700000000000,
			Hello: &pb.Hello{Site: "s", User: "u"}, Cursors: []*pb.Cursor{{Conversation: "c", Seq: 1}, {}}},
		{Type: pb.Type_TYPE_ERROR, Id: 4, Error: &pb.Error{Code: pb.Code_CODE_BUSY, Message: "busy {x}", Retryable: true}},
		{Type: pb.Type(99), Id: 5},
		{},
	}
	for _, e := range envs {
		raw, err := gproto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for name, parse := range map[string]func([]byte, *Msg) error{"proto": ParseProto, "json": ParseJSON} {
			in := raw
			if name == "json" {
				in = pb.AppendJSON(nil, e)
			}
			var m Msg
			if err := parse(in, &m); err != nil {
				t.Fatalf("%s %v: %v (%s)", name, e.Type, err, in)
			}
			if m.Type != e.Type || m.ID != e.Id || m.Seq != e.Seq || string(m.Conversation) != e.Conversation ||
				string(m.ClientMsgID) != e.ClientMsgId || string(m.Sender) != e.Sender || m.Code != e.GetError().GetCode() || m.More != e.More {
				t.Fatalf("%s: parsed %+v from %v", name, m, e)
			}
		}
	}
}

func TestParseJSONRejects(t *testing.T) {
	for _, in := range []string{``, `[]`, `{`, `{"type":}`, `{"type":"ack",}`, `{"id":-1}`, `{"id":"1"}`, `{"seq":99999999999999999999}`,
		`{"a":[1,2}`, `{"a":"x` + "\x01" + `"}`, `{"a":1} x`, `{"more":tru}`, `{"error":{"code":1,}}`,
		`{"a":` + string(bytes.Repeat([]byte("["), 40)) + `}`} {
		var m Msg
		if err := ParseJSON([]byte(in), &m); err == nil {
			t.Errorf("ParseJSON(%q) accepted", in)
		}
	}
	var m Msg
	if err := ParseJSON([]byte(` { "type" : 7 , "x":{"y":[true,null,{"z":"\"}"}]},"error":{"code":"busy","message":"m"} } `), &m); err != nil ||
		m.Type != pb.Type_TYPE_ACK || m.Code != pb.Code_CODE_BUSY {
		t.Fatalf("tolerant parse: %+v %v", m, err)
	}
}

func TestUpgradeResponse(t *testing.T) {
	key := NewKey([16]byte{1, 2, 3})
	acc := AcceptFor(key[:])
	// RFC 6455 §1.3 example.
	if a := AcceptFor([]byte("dGhlIHNhbXBsZSBub25jZQ==")); string(a[:]) != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("accept %s", a)
	}
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + string(acc[:]) + "\r\n\r\n"
	cases := []struct {
		in     string
		n      int
		status int
		err    error
	}{
		{ok + "\x81\x00", len(ok), 101, nil},
		{ok[:len(ok)-1], 0, 0, nil},
		{"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", 45, 403, ErrUpgradeBad},
		{"HTTP/1.1 101 X\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: nope\r\n\r\n", 66, 101, ErrUpgradeAccept},
		{"HTTP/1.1 101 X\r\nUpgrade: websocket\r\n\r\n", 38, 101, ErrUpgradeAccept},
		{"HTTP/1.1 101 X\r\nSec-WebSocket-Accept: " + string(acc[:]) + "\r\n\r\n", 70, 101, ErrUpgradeBad},
		{"SSH-2.0\r\n\r\n", 11, 0, ErrUpgradeBad},
		{string(bytes.Repeat([]byte("a"), MaxUpgradeResponse+1)), 0, 0, ErrUpgradeTooLarge},
	}
	for i, tc := range cases {
		n, status, err := ParseUpgradeResponse([]byte(tc.in), acc[:])
		if n != tc.n || status != tc.status || err != tc.err {
			t.Errorf("case %d: got %d %d %v, want %d %d %v", i, n, status, err, tc.n, tc.status, tc.err)
		}
	}
}

func TestDecodeServerFrame(t *testing.T) {
	long := bytes.Repeat([]byte("z"), 70000)
	cases := []struct {
		name string
		in   []byte
		n    int
		err  error
	}{
		{"text", ws.AppendFrame(nil, ws.OpText, []byte("hi")), 4, nil},
		{"16-bit", ws.AppendFrame(nil, ws.OpBinary, long[:300]), 304, nil},
		{"64-bit", ws.AppendFrame(nil, ws.OpBinary, long), 70010, nil},
		{"ping", ws.AppendPing(nil, []byte("p")), 3, nil},
		{"close", ws.AppendClose(nil, 1001, "bye"), 7, nil},
		{"short", []byte{0x81}, 0, nil},
		{"partial", ws.AppendFrame(nil, ws.OpText, []byte("hello"))[:5], 0, nil},
		{"masked", AppendMasked(nil, ws.OpText, []byte("x"), 1), 0, ErrServerMasked},
		{"rsv", []byte{0xC1, 0}, 0, ErrWSFrame},
		{"reserved op", []byte{0x83, 0}, 0, ErrWSFrame},
		{"long ping", append([]byte{0x89, 126, 0, 200}, long[:200]...), 0, ErrWSFrame},
		{"fragmented ping", []byte{0x09, 0}, 0, ErrWSFrame},
		{"non-minimal", []byte{0x81, 126, 0, 5, 'a', 'b', 'c', 'd', 'e'}, 0, ErrWSFrame},
		{"too large", ws.AppendHeader(nil, ws.OpBinary, 1<<21), 0, ErrWSTooLarge},
	}
	for _, tc := range cases {
		f, n, err := DecodeServerFrame(tc.in, 1<<20)
		if n != tc.n || err != tc.err {
			t.Errorf("%s: n=%d err=%v, want %d %v", tc.name, n, err, tc.n, tc.err)
		}
		if err == nil && n > 0 && len(f.Payload) != n-(n-len(f.Payload)) {
			t.Errorf("%s: payload", tc.name)
		}
	}
}

func TestMask(t *testing.T) {
	for n := range 40 {
		p := bytes.Repeat([]byte{0x5A}, n)
		q := append([]byte(nil), p...)
		mask(q, 0x01020304)
		var k [4]byte
		binary.BigEndian.PutUint32(k[:], 0x01020304)
		for i := range p {
			if q[i] != p[i]^k[i%4] {
				t.Fatalf("len %d byte %d", n, i)
			}
		}
	}
}

func TestNoAllocs(t *testing.T) {
	r := sampleRequests[4]
	buf := make([]byte, 0, 4096)
	for _, tr := range []Transport{Frame, WSJSON, WSProto} {
		if n := testing.AllocsPerRun(200, func() { buf = AppendEnvelope(buf[:0], tr, &r, 7) }); n != 0 {
			t.Errorf("AppendEnvelope %v allocates %v", tr, n)
		}
	}
	e := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 99, ClientMsgId: "5-123", Sender: "a:x", Body: "hello", Ts: 17}
	js := pb.AppendJSON(nil, e)
	raw, _ := gproto.Marshal(e)
	var m Msg
	if n := testing.AllocsPerRun(200, func() { _ = ParseJSON(js, &m) }); n != 0 {
		t.Errorf("ParseJSON allocates %v", n)
	}
	if n := testing.AllocsPerRun(200, func() { _ = ParseProto(raw, &m) }); n != 0 {
		t.Errorf("ParseProto allocates %v", n)
	}
}

func BenchmarkParseJSON(b *testing.B) {
	e := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "k3v0q8m1d2f4h6j8l0n2", Seq: 99, ClientMsgId: "5-123456789",
		Sender: "a:x", Kind: pb.Kind_KIND_TEXT, Body: string(bytes.Repeat([]byte("x"), 100)), Ts: 1700000000000}
	js := pb.AppendJSON(nil, e)
	var m Msg
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseJSON(js, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEnvelopeWS(b *testing.B) {
	r := Request{Type: pb.Type_TYPE_SEND, ID: 77, Conversation: []byte("k3v0q8m1d2f4h6j8l0n2"), ClientMsgID: []byte("5-123456789"), Body: bytes.Repeat([]byte("x"), 100)}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendEnvelope(buf[:0], WSJSON, &r, 0x12345678)
	}
}
