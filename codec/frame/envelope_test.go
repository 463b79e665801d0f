package frame

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

func TestDecodeEnvelopeHeaderAgreement(t *testing.T) {
	payload := func(env *pb.Envelope) []byte {
		b, err := gproto.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	send := pb.Type_TYPE_SEND
	tests := []struct {
		name    string
		hdr     Header
		payload []byte
		want    *pb.Envelope // nil: error
		err     error
	}{
		{"type and id from header", Header{Type: uint8(send), RequestID: 7},
			payload(&pb.Envelope{Body: "x"}), &pb.Envelope{Type: send, Id: 7, Body: "x"}, nil},
		{"empty payload", Header{Type: uint8(pb.Type_TYPE_PING), RequestID: 3},
			nil, &pb.Envelope{Type: pb.Type_TYPE_PING, Id: 3}, nil},
		{"both agree", Header{Type: uint8(send), RequestID: 7},
			payload(&pb.Envelope{Type: send, Id: 7}), &pb.Envelope{Type: send, Id: 7}, nil},
		{"64-bit id, low bits agree", Header{Type: uint8(send), RequestID: 7},
			payload(&pb.Envelope{Type: send, Id: 1<<32 | 7}), &pb.Envelope{Type: send, Id: 1<<32 | 7}, nil},
		{"unknown type from header", Header{Type: 200},
			nil, &pb.Envelope{Type: 200}, nil},
		{"type mismatch", Header{Type: uint8(send), RequestID: 7},
			payload(&pb.Envelope{Type: pb.Type_TYPE_EVENT, Id: 7}), nil, ErrBadPayload},
		{"id mismatch", Header{Type: uint8(send), RequestID: 7},
			payload(&pb.Envelope{Type: send, Id: 8}), nil, ErrBadPayload},
		{"id only in payload", Header{Type: uint8(send)},
			payload(&pb.Envelope{Type: send, Id: 8}), nil, ErrBadPayload},
		{"truncated protobuf", Header{Type: uint8(send), RequestID: 7},
			[]byte{0x1a, 0x05, 'c'}, nil, ErrBadPayload},
		{"invalid utf-8", Header{Type: uint8(send), RequestID: 7},
			[]byte{0x1a, 0x02, 0xff, 0xfe}, nil, ErrBadPayload},
		{"bad wire type", Header{Type: uint8(send), RequestID: 7},
			[]byte{0x0f}, nil, ErrBadPayload},
		{"type 0", Header{}, nil, nil, ErrBadType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.hdr.Length = uint32(len(tt.payload))
			env, err := DecodeEnvelope(Frame{Header: tt.hdr, Payload: tt.payload})
			if tt.want == nil {
				if !errors.Is(err, tt.err) || env != nil {
					t.Fatalf("DecodeEnvelope = %v, %v; want %v", env, err, tt.err)
				}
				if tt.err == ErrBadPayload && (Fatal(err) || Reason(err) != "bad_payload" || CodeFor(err) != pb.Code_CODE_BAD_REQUEST) {
					t.Fatalf("bad payload %v: Fatal %v Reason %q CodeFor %v", err, Fatal(err), Reason(err), CodeFor(err))
				}
				return
			}
			if err != nil || !gproto.Equal(env, tt.want) {
				t.Fatalf("DecodeEnvelope = %v, %v; want %v", env, err, tt.want)
			}
		})
	}
}

func TestDecodeEnvelopeCopies(t *testing.T) {
	// Unknown field 99 (bytes) must survive too, as a copy.
	env := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "conv", Body: "hello", Sender: "a:x",
		Hello: &pb.Hello{Site: "site"}, Cursors: []*pb.Cursor{{Conversation: "c2"}}}
	src, err := AppendEnvelope(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	src = append(src, 0x9a, 0x06, 0x03, 'u', 'n', 'k') // field 99, length 3
	PutHeader(src, Header{Type: uint8(pb.Type_TYPE_MESSAGE), Length: uint32(len(src) - HeaderSize)})
	f, _, err := Decode(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeEnvelope(f)
	if err != nil {
		t.Fatal(err)
	}
	snapshot := gproto.Clone(got)
	for i := range src {
		src[i] = 'Z'
	}
	if !gproto.Equal(got, snapshot) {
		t.Fatalf("Envelope changed with its source buffer: %v", got)
	}
	if len(got.ProtoReflect().GetUnknown()) != 6 {
		t.Fatalf("unknown fields %x, want 6 bytes", got.ProtoReflect().GetUnknown())
	}
}

func TestAppendEnvelopeErrors(t *testing.T) {
	dst := []byte("keep")
	tests := []struct {
		name string
		env  *pb.Envelope
		err  error
	}{
		{"nil", nil, ErrBadType},
		{"type 0", &pb.Envelope{Body: "x"}, ErrBadType},
		{"type 256", &pb.Envelope{Type: 256}, ErrBadType},
		{"negative type", &pb.Envelope{Type: -1}, ErrBadType},
		{"invalid utf-8", &pb.Envelope{Type: pb.Type_TYPE_SEND, Body: "\xff"}, ErrBadPayload},
		{"over hard cap", &pb.Envelope{Type: pb.Type_TYPE_SEND, Body: strings.Repeat("a", HardMaxPayload)}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AppendEnvelope(dst, tt.env)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if string(got) != "keep" {
				t.Fatalf("dst = %q, want it unchanged", got)
			}
		})
	}
}

func TestAppendEnvelopeRoundTrip(t *testing.T) {
	env := &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Id: 1<<40 | 99, Conversation: "c", Seq: 1 << 50,
		Body: strings.Repeat("x", 70000), Kind: pb.Kind_KIND_IMAGE, Ts: -1, More: true, Limit: 3, Event: "e",
		Error: &pb.Error{Code: pb.Code_CODE_BUSY, Retryable: true}}
	b, err := AppendEnvelope(nil, env)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Decode(b, 0); err != ErrTooLarge {
		t.Fatalf("70 KB payload with the default limit: %v, want ErrTooLarge", err)
	}
	f, n, err := Decode(b, 1<<20)
	if err != nil || n != len(b) || f.RequestID != 99 {
		t.Fatalf("Decode: %+v n %d err %v", f.Header, n, err)
	}
	got, err := DecodeEnvelope(f)
	if err != nil || !gproto.Equal(got, env) {
		t.Fatalf("round trip: %v", err)
	}
	// Appending after existing frames keeps them.
	two, _ := AppendEnvelope(bytes.Clone(b), env)
	if !bytes.Equal(two[:len(b)], b) || !bytes.Equal(two[len(b):], b) {
		t.Fatal("second AppendEnvelope changed the first frame")
	}
}
