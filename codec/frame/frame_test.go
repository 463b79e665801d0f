package frame

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// unhex decodes a hex string with spaces and newlines, as written in
// docs/protocol-frame.md.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

const ts = 1700000000000

// golden holds one frame of every type, byte for byte as in
// docs/protocol-frame.md. env is what DecodeEnvelope returns; marshalled says
// the payload is AppendEnvelope's encoding of env (false for header-only
// frames, whose Envelope comes from the header alone).
var golden = []struct {
	name       string
	typ        pb.Type
	id         uint32
	env        *pb.Envelope
	marshalled bool
	hex        string
}{
	{"hello", pb.Type_TYPE_HELLO, 1,
		&pb.Envelope{Type: pb.Type_TYPE_HELLO, Id: 1, Hello: &pb.Hello{Site: "s1", Role: pb.Role_ROLE_VISITOR, User: "v7"}}, true,
		`4b 01 01 00  00 00 00 01  00 00 00 10
		 08 01 10 01 52 0a 0a 02 73 31 10 01 1a 02 76 37`},
	{"hello_cursors", pb.Type_TYPE_HELLO, 1,
		&pb.Envelope{Type: pb.Type_TYPE_HELLO, Id: 1, Hello: &pb.Hello{Site: "s1", Role: pb.Role_ROLE_VISITOR, User: "v7"},
			Cursors: []*pb.Cursor{{Conversation: "c1", Seq: 1}}}, true,
		`4b 01 01 00  00 00 00 01  00 00 00 18
		 08 01 10 01 52 0a 0a 02 73 31 10 01 1a 02 76 37 5a 06 0a 02 63 31 10 01`},
	{"welcome", pb.Type_TYPE_WELCOME, 1,
		&pb.Envelope{Type: pb.Type_TYPE_WELCOME, Id: 1, Sender: "v:v7"}, true,
		`4b 01 02 00  00 00 00 01  00 00 00 0a
		 08 02 10 01 32 04 76 3a 76 37`},
	{"open", pb.Type_TYPE_OPEN, 2,
		&pb.Envelope{Type: pb.Type_TYPE_OPEN, Id: 2}, true,
		`4b 01 03 00  00 00 00 02  00 00 00 04
		 08 03 10 02`},
	{"join", pb.Type_TYPE_JOIN, 2,
		&pb.Envelope{Type: pb.Type_TYPE_JOIN, Id: 2, Conversation: "c1"}, true,
		`4b 01 04 00  00 00 00 02  00 00 00 08
		 08 04 10 02 1a 02 63 31`},
	{"joined", pb.Type_TYPE_JOINED, 2,
		&pb.Envelope{Type: pb.Type_TYPE_JOINED, Id: 2, Conversation: "c1"}, true,
		`4b 01 05 00  00 00 00 02  00 00 00 08
		 08 05 10 02 1a 02 63 31`},
	{"send", pb.Type_TYPE_SEND, 3,
		&pb.Envelope{Type: pb.Type_TYPE_SEND, Id: 3, Conversation: "c1", ClientMsgId: "m1", Kind: pb.Kind_KIND_TEXT, Body: "hi"}, true,
		`4b 01 06 00  00 00 00 03  00 00 00 12
		 08 06 10 03 1a 02 63 31 2a 02 6d 31 38 01 42 02 68 69`},
	{"ack", pb.Type_TYPE_ACK, 3,
		&pb.Envelope{Type: pb.Type_TYPE_ACK, Id: 3, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Ts: ts}, true,
		`4b 01 07 00  00 00 00 03  00 00 00 15
		 08 07 10 03 1a 02 63 31 20 01 2a 02 6d 31 48 80 d0 95 ff bc 31`},
	{"message", pb.Type_TYPE_MESSAGE, 0,
		&pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "c1", Seq: 1, ClientMsgId: "m1", Sender: "v:v7",
			Kind: pb.Kind_KIND_TEXT, Body: "hi", Ts: ts}, true,
		`4b 01 08 00  00 00 00 00  00 00 00 1f
		 08 08 1a 02 63 31 20 01 2a 02 6d 31 32 04 76 3a 76 37 38 01 42 02 68 69
		 48 80 d0 95 ff bc 31`},
	{"replay", pb.Type_TYPE_REPLAY, 4,
		&pb.Envelope{Type: pb.Type_TYPE_REPLAY, Id: 4, Conversation: "c1", Limit: 50}, true,
		`4b 01 09 00  00 00 00 04  00 00 00 0a
		 08 09 10 04 1a 02 63 31 70 32`},
	{"replay_end", pb.Type_TYPE_REPLAY_END, 4,
		&pb.Envelope{Type: pb.Type_TYPE_REPLAY_END, Id: 4, Conversation: "c1", Seq: 1}, true,
		`4b 01 0a 00  00 00 00 04  00 00 00 0a
		 08 0a 10 04 1a 02 63 31 20 01`},
	{"event", pb.Type_TYPE_EVENT, 0,
		&pb.Envelope{Type: pb.Type_TYPE_EVENT, Conversation: "c1", Event: "typing"}, true,
		`4b 01 0b 00  00 00 00 00  00 00 00 0e
		 08 0b 1a 02 63 31 7a 06 74 79 70 69 6e 67`},
	{"event_relayed", pb.Type_TYPE_EVENT, 0,
		&pb.Envelope{Type: pb.Type_TYPE_EVENT, Conversation: "c1", Sender: "v:v7", Ts: ts, Event: "typing"}, true,
		`4b 01 0b 00  00 00 00 00  00 00 00 1b
		 08 0b 1a 02 63 31 32 04 76 3a 76 37 48 80 d0 95 ff bc 31 7a 06 74 79 70 69 6e 67`},
	{"ping", pb.Type_TYPE_PING, 5,
		&pb.Envelope{Type: pb.Type_TYPE_PING, Id: 5}, false,
		`4b 01 0c 00  00 00 00 05  00 00 00 00`},
	{"pong", pb.Type_TYPE_PONG, 5,
		&pb.Envelope{Type: pb.Type_TYPE_PONG, Id: 5}, false,
		`4b 01 0d 00  00 00 00 05  00 00 00 00`},
	{"goaway", pb.Type_TYPE_GOAWAY, 0,
		&pb.Envelope{Type: pb.Type_TYPE_GOAWAY}, false,
		`4b 01 0e 00  00 00 00 00  00 00 00 00`},
	{"goaway_draining", pb.Type_TYPE_GOAWAY, 0,
		&pb.Envelope{Type: pb.Type_TYPE_GOAWAY, Error: &pb.Error{Code: pb.Code_CODE_DRAINING, Retryable: true}}, true,
		`4b 01 0e 00  00 00 00 00  00 00 00 08
		 08 0e 62 04 08 09 18 01`},
	{"error_not_found", pb.Type_TYPE_ERROR, 3,
		&pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: 3, Error: &pb.Error{Code: pb.Code_CODE_NOT_FOUND, Message: "no such conversation"}}, true,
		`4b 01 0f 00  00 00 00 03  00 00 00 1e
		 08 0f 10 03 62 18 08 04 12 14 6e 6f 20 73 75 63 68 20 63 6f 6e 76 65 72 73
		 61 74 69 6f 6e`},
	{"error_too_large", pb.Type_TYPE_ERROR, 9,
		&pb.Envelope{Type: pb.Type_TYPE_ERROR, Id: 9, Error: &pb.Error{Code: pb.Code_CODE_TOO_LARGE, Message: "frame too large"}}, true,
		`4b 01 0f 00  00 00 00 09  00 00 00 19
		 08 0f 10 09 62 13 08 06 12 0f 66 72 61 6d 65 20 74 6f 6f 20 6c 61 72 67 65`},
	{"leave", pb.Type_TYPE_LEAVE, 6,
		&pb.Envelope{Type: pb.Type_TYPE_LEAVE, Id: 6, Conversation: "c1"}, true,
		`4b 01 10 00  00 00 00 06  00 00 00 08
		 08 10 10 06 1a 02 63 31`},
	{"ok", pb.Type_TYPE_OK, 7,
		&pb.Envelope{Type: pb.Type_TYPE_OK, Id: 7, Conversation: "c1"}, true,
		`4b 01 11 00  00 00 00 07  00 00 00 08
		 08 11 10 07 1a 02 63 31`},
	{"close", pb.Type_TYPE_CLOSE, 7,
		&pb.Envelope{Type: pb.Type_TYPE_CLOSE, Id: 7, Conversation: "c1"}, true,
		`4b 01 12 00  00 00 00 07  00 00 00 08
		 08 12 10 07 1a 02 63 31`},
	{"claim", pb.Type_TYPE_CLAIM, 8,
		&pb.Envelope{Type: pb.Type_TYPE_CLAIM, Id: 8}, true,
		`4b 01 13 00  00 00 00 08  00 00 00 04
		 08 13 10 08`},
	{"transfer", pb.Type_TYPE_TRANSFER, 9,
		&pb.Envelope{Type: pb.Type_TYPE_TRANSFER, Id: 9, Conversation: "c1", Agent: "bob"}, true,
		`4b 01 14 00  00 00 00 09  00 00 00 0e
		 08 14 10 09 1a 02 63 31 8a 01 03 62 6f 62`},
	{"status", pb.Type_TYPE_STATUS, 10,
		&pb.Envelope{Type: pb.Type_TYPE_STATUS, Id: 10, Status: "away"}, true,
		`4b 01 15 00  00 00 00 0a  00 00 00 0b
		 08 15 10 0a a2 01 04 61 77 61 79`},
	{"rate", pb.Type_TYPE_RATE, 11,
		&pb.Envelope{Type: pb.Type_TYPE_RATE, Id: 11, Conversation: "c1", Rating: 5}, true,
		`4b 01 16 00  00 00 00 0b  00 00 00 0b
		 08 16 10 0b 1a 02 63 31 98 01 05`},
	{"notice", pb.Type_TYPE_NOTICE, 0,
		&pb.Envelope{Type: pb.Type_TYPE_NOTICE, Conversation: "c1", Event: "queue", Position: 2}, true,
		`4b 01 17 00  00 00 00 00  00 00 00 10
		 08 17 1a 02 63 31 7a 05 71 75 65 75 65 b0 01 02`},
}

func TestGoldenCoversEveryType(t *testing.T) {
	seen := map[pb.Type]bool{}
	for _, g := range golden {
		seen[g.typ] = true
	}
	for v := range pb.Type_name {
		if v != 0 && !seen[pb.Type(v)] {
			t.Errorf("no golden frame for %v", pb.Type(v))
		}
	}
}

func TestGolden(t *testing.T) {
	for _, g := range golden {
		t.Run(g.name, func(t *testing.T) {
			want := unhex(t, g.hex)
			f, n, err := Decode(want, 0)
			if err != nil || n != len(want) {
				t.Fatalf("Decode = n %d, err %v; want n %d", n, err, len(want))
			}
			wantHdr := Header{Type: uint8(g.typ), RequestID: g.id, Length: uint32(len(want) - HeaderSize)}
			if f.Header != wantHdr {
				t.Fatalf("header %+v, want %+v", f.Header, wantHdr)
			}
			if !bytes.Equal(f.Payload, want[HeaderSize:]) || f.Size() != len(want) {
				t.Fatalf("payload %x, want %x", f.Payload, want[HeaderSize:])
			}
			if got := AppendFrame(nil, uint8(g.typ), g.id, f.Payload); !bytes.Equal(got, want) {
				t.Fatalf("AppendFrame\n got %x\nwant %x", got, want)
			}
			if got := append(AppendHeader(nil, f.Header), f.Payload...); !bytes.Equal(got, want) {
				t.Fatalf("AppendHeader\n got %x\nwant %x", got, want)
			}
			var hb [HeaderSize]byte
			PutHeader(hb[:], f.Header)
			if !bytes.Equal(hb[:], want[:HeaderSize]) {
				t.Fatalf("PutHeader %x, want %x", hb, want[:HeaderSize])
			}
			env, err := DecodeEnvelope(f)
			if err != nil {
				t.Fatalf("DecodeEnvelope: %v", err)
			}
			if !gproto.Equal(env, g.env) {
				t.Fatalf("DecodeEnvelope = %v, want %v", env, g.env)
			}
			if g.marshalled {
				got, err := AppendEnvelope([]byte("xy"), g.env)
				if err != nil || !bytes.Equal(got[2:], want) || string(got[:2]) != "xy" {
					t.Fatalf("AppendEnvelope = %x, %v\nwant xy+%x", got, err, want)
				}
			}
		})
	}
}

// goldenStream is every golden frame, back to back.
func goldenStream(t testing.TB) (stream []byte, frames [][]byte) {
	for _, g := range golden {
		b := unhex(t, g.hex)
		frames = append(frames, b)
		stream = append(stream, b...)
	}
	return stream, frames
}

func TestDecodeEveryPrefix(t *testing.T) {
	for _, g := range golden {
		b := unhex(t, g.hex)
		for i := range len(b) {
			f, n, err := Decode(b[:i], 0)
			if n != 0 || err != nil || f.Payload != nil {
				t.Fatalf("%s: Decode(%d of %d bytes) = n %d, err %v, payload %x; want need more",
					g.name, i, len(b), n, err, f.Payload)
			}
		}
	}
}

// decodeStream feeds chunks to Decode the way a gnet connection does: bytes
// accumulate in a buffer, every complete frame is decoded and discarded. It
// returns the frames (copied) and the first error.
func decodeStream(chunks [][]byte, maxPayload int) (frames [][]byte, err error) {
	var buf []byte
	for _, c := range chunks {
		buf = append(buf, c...)
		for {
			f, n, err := Decode(buf, maxPayload)
			if err != nil {
				return frames, err
			}
			if n == 0 {
				break
			}
			if n != f.Size() {
				panic("n != f.Size()")
			}
			frames = append(frames, bytes.Clone(buf[:n]))
			buf = buf[n:]
		}
	}
	return frames, nil
}

func TestDecodeSplitAtEveryOffset(t *testing.T) {
	stream, want := goldenStream(t)
	for i := range len(stream) + 1 {
		got, err := decodeStream([][]byte{stream[:i], stream[i:]}, 0)
		if err != nil || len(got) != len(want) {
			t.Fatalf("cut at %d: %d frames, err %v; want %d", i, len(got), err, len(want))
		}
		for k := range want {
			if !bytes.Equal(got[k], want[k]) {
				t.Fatalf("cut at %d: frame %d = %x, want %x", i, k, got[k], want[k])
			}
		}
	}
	// One byte at a time.
	var chunks [][]byte
	for i := range stream {
		chunks = append(chunks, stream[i:i+1])
	}
	if got, err := decodeStream(chunks, 0); err != nil || len(got) != len(want) {
		t.Fatalf("byte by byte: %d frames, err %v; want %d", len(got), err, len(want))
	}
}

func TestDecodeManyFramesInOneBuffer(t *testing.T) {
	stream, want := goldenStream(t)
	src := stream
	for k := range want {
		f, n, err := Decode(src, 0)
		if err != nil || n != len(want[k]) {
			t.Fatalf("frame %d: n %d err %v, want n %d", k, n, err, len(want[k]))
		}
		if f.Type != uint8(golden[k].typ) {
			t.Fatalf("frame %d: type %d, want %d", k, f.Type, golden[k].typ)
		}
		src = src[n:]
	}
	if len(src) != 0 {
		t.Fatalf("%d bytes left", len(src))
	}
	if _, n, err := Decode(src, 0); n != 0 || err != nil {
		t.Fatalf("empty: n %d err %v", n, err)
	}
}

func TestDecodePayloadAliasesSrc(t *testing.T) {
	b := unhex(t, golden[0].hex)
	f, _, _ := Decode(b, 0)
	b[HeaderSize] = 0xff
	if f.Payload[0] != 0xff {
		t.Fatal("Payload does not alias src")
	}
	if cap(f.Payload) != len(f.Payload) {
		t.Fatal("Payload capacity reaches past the frame")
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		hex    string
		max    int
		err    error
		reason string
		code   pb.Code
		fatal  bool
	}{
		{"bad magic", "4c 01 06 00 00 00 00 09 00 00 00 00", 0, ErrBadMagic, "bad_magic", pb.Code_CODE_BAD_REQUEST, true},
		{"http", "47 45 54 20 2f 77 73 20 48 54 54 50", 0, ErrBadMagic, "bad_magic", pb.Code_CODE_BAD_REQUEST, true},
		{"version 0", "4b 00 06 00 00 00 00 09 00 00 00 00", 0, ErrBadVersion, "bad_version", pb.Code_CODE_UNSUPPORTED, true},
		{"version 2", "4b 02 06 00 00 00 00 09 00 00 00 00", 0, ErrBadVersion, "bad_version", pb.Code_CODE_UNSUPPORTED, true},
		{"type 0", "4b 01 00 00 00 00 00 09 00 00 00 00", 0, ErrBadType, "bad_type", pb.Code_CODE_BAD_REQUEST, true},
		{"flags", "4b 01 06 01 00 00 00 09 00 00 00 00", 0, ErrBadFlags, "bad_flags", pb.Code_CODE_UNSUPPORTED, true},
		{"flags high bit", "4b 01 06 80 00 00 00 09 00 00 00 00", 0, ErrBadFlags, "bad_flags", pb.Code_CODE_UNSUPPORTED, true},
		{"1 MiB over default", "4b 01 06 00 00 00 00 09 00 10 00 00", 0, ErrTooLarge, "too_large", pb.Code_CODE_TOO_LARGE, true},
		{"default + 1", "4b 01 06 00 00 00 00 09 00 01 00 01", 0, ErrTooLarge, "too_large", pb.Code_CODE_TOO_LARGE, true},
		{"over custom", "4b 01 06 00 00 00 00 09 00 00 01 01", 256, ErrTooLarge, "too_large", pb.Code_CODE_TOO_LARGE, true},
		{"over hard cap", "4b 01 06 00 00 00 00 09 01 00 00 01", 1 << 30, ErrTooLarge, "too_large", pb.Code_CODE_TOO_LARGE, true},
		{"max u32", "4b 01 06 00 00 00 00 09 ff ff ff ff", 1 << 30, ErrTooLarge, "too_large", pb.Code_CODE_TOO_LARGE, true},
		// Checks run in header order: magic first, then version, type, flags.
		{"magic before version", "00 07 00 ff 00 00 00 09 ff ff ff ff", 0, ErrBadMagic, "bad_magic", pb.Code_CODE_BAD_REQUEST, true},
		{"version before type", "4b 07 00 ff 00 00 00 09 ff ff ff ff", 0, ErrBadVersion, "bad_version", pb.Code_CODE_UNSUPPORTED, true},
		{"type before flags", "4b 01 00 ff 00 00 00 09 ff ff ff ff", 0, ErrBadType, "bad_type", pb.Code_CODE_BAD_REQUEST, true},
		{"flags before length", "4b 01 06 ff 00 00 00 09 ff ff ff ff", 0, ErrBadFlags, "bad_flags", pb.Code_CODE_UNSUPPORTED, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := unhex(t, tt.hex) // header only: errors come before the payload
			f, n, err := Decode(src, tt.max)
			if err != tt.err || n != 0 {
				t.Fatalf("Decode = n %d, err %v; want %v", n, err, tt.err)
			}
			if f.RequestID != binaryRequestID(src) || f.Payload != nil {
				t.Fatalf("Header %+v payload %x: want request id 9, no payload", f.Header, f.Payload)
			}
			if _, n, err := Decode(src[:HeaderSize-1], tt.max); n != 0 || err != nil {
				t.Fatalf("11 bytes: n %d err %v, want need more", n, err)
			}
			if got := Reason(err); got != tt.reason {
				t.Errorf("Reason = %q, want %q", got, tt.reason)
			}
			if got := CodeFor(err); got != tt.code {
				t.Errorf("CodeFor = %v, want %v", got, tt.code)
			}
			if got := Fatal(err); got != tt.fatal {
				t.Errorf("Fatal = %v, want %v", got, tt.fatal)
			}
		})
	}
}

func binaryRequestID(b []byte) uint32 {
	return uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7])
}

func TestDecodeLimits(t *testing.T) {
	frame := func(n int) []byte {
		h := Header{Type: uint8(pb.Type_TYPE_SEND), RequestID: 1, Length: uint32(n)}
		return append(AppendHeader(nil, h), make([]byte, n)...)
	}
	tests := []struct {
		payload, max int
		ok           bool
	}{
		{DefaultMaxPayload, 0, true},
		{DefaultMaxPayload, -1, true},
		{DefaultMaxPayload + 1, 0, false},
		{256, 256, true},
		{257, 256, false},
		{0, 1, true},
		{HardMaxPayload, HardMaxPayload, true},
		{HardMaxPayload, 1 << 40, true},
		{HardMaxPayload + 1, 1 << 40, false},
	}
	for _, tt := range tests {
		src := frame(tt.payload)
		_, n, err := Decode(src, tt.max)
		if tt.ok && (err != nil || n != len(src)) {
			t.Errorf("payload %d, max %d: n %d err %v; want ok", tt.payload, tt.max, n, err)
		}
		if !tt.ok && err != ErrTooLarge {
			t.Errorf("payload %d, max %d: err %v; want ErrTooLarge", tt.payload, tt.max, err)
		}
	}
}

func TestDecodeHeaderPanicsOnShortInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	_, _ = DecodeHeader(make([]byte, HeaderSize-1))
}

func TestAppendFramePanicsOverHardMax(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "BUG:") {
			t.Fatalf("recover = %v, want a BUG panic", r)
		}
	}()
	AppendFrame(nil, 1, 0, make([]byte, HardMaxPayload+1))
}

func TestErrorHelpers(t *testing.T) {
	other := errors.New("boom")
	wrapped := errors.Join(other, ErrBadPayload)
	tests := []struct {
		err    error
		reason string
		code   pb.Code
		fatal  bool
	}{
		{nil, "", pb.Code_CODE_UNSPECIFIED, false},
		{other, "other", pb.Code_CODE_INTERNAL, true},
		{ErrBadPayload, "bad_payload", pb.Code_CODE_BAD_REQUEST, false},
		{wrapped, "bad_payload", pb.Code_CODE_BAD_REQUEST, false},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.reason {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.reason)
		}
		if got := CodeFor(tt.err); got != tt.code {
			t.Errorf("CodeFor(%v) = %v, want %v", tt.err, got, tt.code)
		}
		if got := Fatal(tt.err); got != tt.fatal {
			t.Errorf("Fatal(%v) = %v, want %v", tt.err, got, tt.fatal)
		}
	}
	for _, err := range []error{ErrBadMagic, ErrBadVersion, ErrBadType, ErrBadFlags, ErrTooLarge, ErrBadPayload} {
		if !strings.HasPrefix(err.Error(), "frame: ") {
			t.Errorf("%q: want a \"frame: \" prefix", err)
		}
	}
}

func TestKnownType(t *testing.T) {
	for v := range 256 {
		want := v >= 1 && v <= 23
		if got := KnownType(uint8(v)); got != want {
			t.Errorf("KnownType(%d) = %v, want %v", v, got, want)
		}
	}
}

func TestUnknownTypeDecodes(t *testing.T) {
	// Types the receiver does not know are framed normally (§8): the caller
	// answers UNSUPPORTED or skips the frame by its length.
	src := AppendFrame(nil, 200, 7, []byte("future"))
	f, n, err := Decode(src, 0)
	if err != nil || n != len(src) || f.Type != 200 || string(f.Payload) != "future" {
		t.Fatalf("Decode = %+v n %d err %v", f, n, err)
	}
}

func TestZeroAllocs(t *testing.T) {
	stream, _ := goldenStream(t)
	payload := make([]byte, 1024)
	dst := make([]byte, 0, 4096)
	var hb [HeaderSize]byte
	bad := unhex(t, "4b 01 06 00 00 00 00 09 00 10 00 00")
	tests := []struct {
		name string
		fn   func()
	}{
		{"Decode", func() {
			for src := stream; len(src) > 0; {
				_, n, err := Decode(src, 0)
				if err != nil || n == 0 {
					panic("decode")
				}
				src = src[n:]
			}
		}},
		{"Decode error", func() {
			if _, _, err := Decode(bad, 0); Reason(err) != "too_large" || CodeFor(err) != pb.Code_CODE_TOO_LARGE || !Fatal(err) {
				panic("decode error")
			}
		}},
		{"AppendFrame", func() { dst = AppendFrame(dst[:0], uint8(pb.Type_TYPE_MESSAGE), 42, payload) }},
		{"AppendHeader", func() { dst = AppendHeader(dst[:0], Header{Type: 1, RequestID: 2, Length: 3}) }},
		{"PutHeader", func() { PutHeader(hb[:], Header{Type: 1, RequestID: 2, Length: 3}) }},
		{"DecodeHeader", func() { _, _ = DecodeHeader(stream) }},
	}
	for _, tt := range tests {
		if a := testing.AllocsPerRun(100, tt.fn); a != 0 {
			t.Errorf("%s: %v allocs per run, want 0", tt.name, a)
		}
	}
}
