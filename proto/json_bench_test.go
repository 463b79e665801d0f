package proto

import (
	"encoding/json"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
)

// The benchmarks encode and decode a typical MESSAGE (msg: a 100-byte
// body) with this package, with protojson (proto field names), and with
// encoding/json on the generated struct (enums as numbers). Each decoder
// reads its own encoder's output. Run:
//
//	go test -run '^$' -bench JSON -benchmem ./proto
func BenchmarkAppendJSON(b *testing.B) {
	e := msg()
	if len(e.Body) != 100 {
		b.Fatalf("body is %d bytes, want 100", len(e.Body))
	}
	b.Run("kefu", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, 512)
		b.SetBytes(int64(len(AppendJSON(nil, e))))
		for b.Loop() {
			buf = AppendJSON(buf[:0], e)
		}
	})
	b.Run("protojson", func(b *testing.B) {
		b.ReportAllocs()
		opts := protojson.MarshalOptions{UseProtoNames: true}
		out, _ := opts.Marshal(e)
		b.SetBytes(int64(len(out)))
		buf := make([]byte, 0, 512)
		for b.Loop() {
			var err error
			if buf, err = opts.MarshalAppend(buf[:0], e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		out, _ := json.Marshal(e)
		b.SetBytes(int64(len(out)))
		for b.Loop() {
			if _, err := json.Marshal(e); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkUnmarshalJSON(b *testing.B) {
	e := msg()
	b.Run("kefu", func(b *testing.B) {
		b.ReportAllocs()
		in := AppendJSON(nil, e)
		b.SetBytes(int64(len(in)))
		var out Envelope
		for b.Loop() {
			if err := UnmarshalJSON(in, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("protojson", func(b *testing.B) {
		b.ReportAllocs()
		in, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(e)
		b.SetBytes(int64(len(in)))
		var out Envelope
		for b.Loop() {
			if err := protojson.Unmarshal(in, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.ReportAllocs()
		in, _ := json.Marshal(e)
		b.SetBytes(int64(len(in)))
		var out Envelope
		for b.Loop() {
			out.Reset() // encoding/json merges into what is there
			if err := json.Unmarshal(in, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}
