package frame

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	pb "github.com/kefu-im/kefu/proto"
	gproto "google.golang.org/protobuf/proto"
)

// FuzzDecode checks that Decode never panics, that a stream cut at any two
// points decodes to the same frames and the same error as the whole stream,
// and that every decoded frame re-encodes to its own bytes.
func FuzzDecode(f *testing.F) {
	stream, frames := goldenStream(f)
	f.Add(stream, uint64(0), uint16(0))
	f.Add(stream, uint64(17)<<32|5, uint16(64))
	for _, fr := range frames {
		f.Add(fr, uint64(3)<<32|11, uint16(0))
	}
	f.Add(unhex(f, "4b 01 06 00 00 00 00 09 00 10 00 00"), uint64(12), uint16(0))
	f.Add(unhex(f, "4b 02 06 00 00 00 00 09 00 00 00 00"), uint64(1), uint16(0))
	f.Add(unhex(f, "4b 01 00 00 00 00 00 09 00 00 00 00"), uint64(2), uint16(0))
	f.Add(unhex(f, "4b 01 06 01 00 00 00 09 00 00 00 00"), uint64(3), uint16(0))
	f.Add([]byte("GET /ws HTTP/1.1\r\n\r\n"), uint64(4), uint16(0))
	f.Add(append(AppendFrame(nil, 200, 1, []byte("future")), unhex(f, "4b 01 0c 00 00 00 00 05 00 00 00 00")...), uint64(9)<<32|20, uint16(8))

	f.Fuzz(func(t *testing.T, data []byte, cuts uint64, maxPayload uint16) {
		mp := int(maxPayload)
		whole, wholeErr := decodeStream([][]byte{data}, mp)

		c1 := int(cuts % uint64(len(data)+1))
		c2 := int((cuts >> 32) % uint64(len(data)+1))
		c1, c2 = min(c1, c2), max(c1, c2)
		split, splitErr := decodeStream([][]byte{data[:c1], data[c1:c2], data[c2:]}, mp)
		if wholeErr != splitErr {
			t.Fatalf("cut at %d,%d: error %v, whole %v", c1, c2, splitErr, wholeErr)
		}
		if !slices.EqualFunc(whole, split, bytes.Equal) {
			t.Fatalf("cut at %d,%d: %d frames, whole %d", c1, c2, len(split), len(whole))
		}
		if wholeErr != nil && (Reason(wholeErr) == "other" || !Fatal(wholeErr)) {
			t.Fatalf("error %v is not a fatal codec error", wholeErr)
		}

		for _, fb := range whole {
			fr, n, err := Decode(fb, mp)
			if err != nil || n != len(fb) || int(fr.Length) != len(fr.Payload) || fr.Type == 0 || fr.Flags != 0 {
				t.Fatalf("re-decode: %+v n %d err %v", fr.Header, n, err)
			}
			if got := AppendFrame(nil, fr.Type, fr.RequestID, fr.Payload); !bytes.Equal(got, fb) {
				t.Fatalf("AppendFrame = %x, want %x", got, fb)
			}
			if got := append(AppendHeader(nil, fr.Header), fr.Payload...); !bytes.Equal(got, fb) {
				t.Fatalf("AppendHeader = %x, want %x", got, fb)
			}
		}

		// Direct call: an error or "need more" consumes nothing.
		if fr, n, err := Decode(data, mp); (err != nil || n == 0) && (n != 0 || fr.Payload != nil) {
			t.Fatalf("Decode = n %d payload %x err %v", n, fr.Payload, err)
		}
	})
}

// FuzzDecodeEnvelope checks that DecodeEnvelope never panics, that a decoded
// Envelope agrees with its header and owns its memory, and that it survives
// AppendEnvelope + Decode + DecodeEnvelope unchanged.
func FuzzDecodeEnvelope(f *testing.F) {
	for _, g := range golden {
		b := unhex(f, g.hex)
		f.Add(b[HeaderSize:], uint8(g.typ), g.id)
	}
	f.Add([]byte{0x08, 0x0b, 0x10, 0x07}, uint8(6), uint32(7))          // type mismatch
	f.Add([]byte{0x10, 0x08}, uint8(6), uint32(7))                      // id mismatch
	f.Add([]byte{0x1a, 0x02, 0xff, 0xfe}, uint8(6), uint32(7))          // invalid UTF-8
	f.Add([]byte{0x9a, 0x06, 0x03, 'u', 'n', 'k'}, uint8(8), uint32(0)) // unknown field
	f.Add([]byte{}, uint8(0), uint32(0))

	f.Fuzz(func(t *testing.T, payload []byte, typ uint8, id uint32) {
		src := bytes.Clone(payload)
		fr := Frame{Header: Header{Type: typ, RequestID: id, Length: uint32(len(src))}, Payload: src}
		env, err := DecodeEnvelope(fr)
		if err != nil {
			if env != nil {
				t.Fatal("Envelope with an error")
			}
			if typ != 0 && (!errors.Is(err, ErrBadPayload) || Fatal(err)) {
				t.Fatalf("error %v: want a non-fatal ErrBadPayload", err)
			}
			return
		}
		if env.Type != pb.Type(typ) || uint32(env.Id) != id {
			t.Fatalf("Envelope type %v id %d, header %d %d", env.Type, env.Id, typ, id)
		}
		snapshot := gproto.Clone(env)
		for i := range src {
			src[i] ^= 0xff
		}
		if !gproto.Equal(env, snapshot) {
			t.Fatal("Envelope aliases the payload")
		}

		b, err := AppendEnvelope(nil, env)
		if err != nil {
			t.Fatalf("AppendEnvelope: %v", err)
		}
		fr2, n, err := Decode(b, HardMaxPayload)
		if err != nil || n != len(b) || fr2.Type != typ || fr2.RequestID != id {
			t.Fatalf("Decode(AppendEnvelope) = %+v n %d err %v", fr2.Header, n, err)
		}
		env2, err := DecodeEnvelope(fr2)
		if err != nil || !gproto.Equal(env, env2) {
			t.Fatalf("round trip: %v\n got %v\nwant %v", err, env2, env)
		}
	})
}
