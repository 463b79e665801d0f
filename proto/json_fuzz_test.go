package proto

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	gproto "google.golang.org/protobuf/proto"
)

// FuzzUnmarshalJSON checks that UnmarshalJSON never panics and returns only
// its own errors; that whatever it accepts is valid UTF-8 JSON (by
// encoding/json too), re-encodes with AppendJSON to bytes it decodes to an
// equal Envelope (gproto.Equal), and that encoding is then stable; that
// the result does not alias the input; and, split input, that no proper
// prefix of an accepted text is accepted unless the rest is whitespace (a
// message cut short never passes for a whole one).
func FuzzUnmarshalJSON(f *testing.F) {
	for _, g := range goldens {
		f.Add([]byte(g.json), uint16(len(g.json)/2))
	}
	for seed := uint64(0); seed < 8; seed++ {
		b := AppendJSON(nil, randEnvelope(rand.New(rand.NewPCG(seed, 3))))
		f.Add(b, uint16(seed*7))
	}
	for _, s := range []string{
		` {"type":"SEND","id":"3","clientMsgId":"m","body":"\ud83d\ude00\ud800"} `,
		`{"x":[[]],"cursors":[{"seq":"1"}],"hello":null,"more":true}`,
		`{"id":1,"\u0069d":2}`, `{"seq":1.5}`, `{"body":"a` + "\xff" + `"}`, `{"x":[[[[]]]]}`,
	} {
		f.Add([]byte(s), uint16(3))
	}
	known := map[error]bool{ErrJSONSyntax: true, ErrJSONNotObject: true, ErrJSONType: true, ErrJSONRange: true,
		ErrJSONEnum: true, ErrJSONUTF8: true, ErrJSONDuplicate: true, ErrJSONDepth: true}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		in := append([]byte(nil), data...)
		var e Envelope
		err := UnmarshalJSON(in, &e)
		if !bytes.Equal(in, data) {
			t.Fatal("UnmarshalJSON modified its input")
		}
		if k := int(cut) % (len(data) + 1); k < len(data) {
			var p Envelope
			if err == nil && UnmarshalJSON(data[:k], &p) == nil && len(bytes.TrimLeft(data[k:], " \t\r\n")) > 0 {
				t.Fatalf("prefix %q of %q accepted", data[:k], data)
			}
		}
		if err != nil {
			if !known[err] {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !utf8.Valid(data) || !json.Valid(data) {
			t.Fatalf("accepted input that is not UTF-8 JSON: %q", data)
		}
		want := gproto.Clone(&e)
		for i := range in {
			in[i] = 0 // the network buffer is reused: e must not alias it
		}
		if !gproto.Equal(&e, want) {
			t.Fatal("decoded envelope aliases its input")
		}
		b := AppendJSON(nil, &e)
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("re-encoding is not UTF-8 JSON: %q", b)
		}
		var back Envelope
		if err := UnmarshalJSON(b, &back); err != nil {
			t.Fatalf("re-encoding %s does not decode: %v", b, err)
		}
		if !gproto.Equal(&back, &e) {
			t.Fatalf("round trip differs:\n got %v\nwant %v\nvia %s", &back, &e, b)
		}
		if b2 := AppendJSON(nil, &back); !bytes.Equal(b, b2) {
			t.Fatalf("encoding not stable:\n%s\n%s", b, b2)
		}
	})
}
