package frame

import (
	"fmt"
	"strings"
	"testing"

	pb "github.com/kefu-im/kefu/proto"
)

var benchSizes = []int{64, 1 << 10, 16 << 10}

func sizeName(n int) string {
	if n >= 1<<10 {
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			src := AppendFrame(nil, uint8(pb.Type_TYPE_MESSAGE), 7, make([]byte, size))
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				f, n, err := Decode(src, 0)
				if err != nil || n != len(src) || len(f.Payload) != size {
					b.Fatal("decode")
				}
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			payload := make([]byte, size)
			dst := make([]byte, 0, HeaderSize+size)
			b.SetBytes(int64(HeaderSize + size))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendFrame(dst[:0], uint8(pb.Type_TYPE_MESSAGE), 7, payload)
			}
		})
	}
}

// benchEnvelope is a typical fan-out MESSAGE with a body of n bytes.
func benchEnvelope(n int) *pb.Envelope {
	return &pb.Envelope{Type: pb.Type_TYPE_MESSAGE, Conversation: "01HZX3K8Q2V7N4M5P6R7S8T9UV",
		Seq: 123456, ClientMsgId: "9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b", Sender: "v:visitor-42",
		Kind: pb.Kind_KIND_TEXT, Body: strings.Repeat("b", n), Ts: ts}
}

func BenchmarkAppendEnvelope(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			env := benchEnvelope(size)
			dst, _ := AppendEnvelope(nil, env)
			b.SetBytes(int64(len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if dst, err = AppendEnvelope(dst[:0], env); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecodeEnvelope(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(sizeName(size), func(b *testing.B) {
			src, _ := AppendEnvelope(nil, benchEnvelope(size))
			f, _, err := Decode(src, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeEnvelope(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
