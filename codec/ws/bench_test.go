package ws

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestDecodeAllocs(t *testing.T) {
	opts := &DecodeOptions{}
	opts.EnsureDefaults()
	for _, size := range []int{16, 128, 4096, 64 << 10} {
		for _, op := range []OpCode{OpText, OpBinary} {
			payload := []byte(strings.Repeat("kefu é ", size/8+1)[:size])
			if op == OpText {
				payload = bytes.ToValidUTF8(payload, nil)
			}
			tmpl := clientFrame(true, 0, op, testKey, payload)
			work := make([]byte, len(tmpl))
			var d Decoder
			a := testing.AllocsPerRun(50, func() {
				copy(work, tmpl)
				m, n, err := d.Decode(work, opts)
				if err != nil || n != len(work) || len(m.Payload) != len(payload) {
					t.Fatalf("n=%d err=%v", n, err)
				}
			})
			if a != 0 {
				t.Errorf("Decode %v %d bytes: %.1f allocs, want 0", op, size, a)
			}
		}
	}
}

// benchFrame builds a client frame whose masking key is zero: Decode does
// the same work (the XOR runs whatever the key), but the payload stays the
// same across iterations, so no copy is needed to re-mask it.
func benchFrame(op OpCode, size int) []byte {
	payload := []byte(strings.Repeat("a", size))
	return clientFrame(true, 0, op, [4]byte{}, payload)
}

func BenchmarkDecode(b *testing.B) {
	for _, size := range []int{128, 4096} {
		for _, op := range []OpCode{OpText, OpBinary} {
			b.Run(fmt.Sprintf("%v/%d", op, size), func(b *testing.B) {
				src := benchFrame(op, size)
				var d Decoder
				opts := &DecodeOptions{}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					_, n, err := d.Decode(src, opts)
					if err != nil || n != len(src) {
						b.Fatal(n, err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeFragmented decodes a 4 KiB text message sent as four
// 1 KiB fragments, through the reassembly pool.
func BenchmarkDecodeFragmented(b *testing.B) {
	part := []byte(strings.Repeat("b", 1024))
	src := cat(
		clientFrame(false, 0, OpText, [4]byte{}, part),
		clientFrame(false, 0, OpContinuation, [4]byte{}, part),
		clientFrame(false, 0, OpContinuation, [4]byte{}, part),
		clientFrame(true, 0, OpContinuation, [4]byte{}, part),
	)
	opts := &DecodeOptions{}
	opts.EnsureDefaults()
	var d Decoder
	b.SetBytes(4096)
	b.ReportAllocs()
	for b.Loop() {
		m, n, err := d.Decode(src, opts)
		if err != nil || n != len(src) || len(m.Payload) != 4096 {
			b.Fatal(n, err)
		}
		d.Release(opts)
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	for _, size := range []int{128, 4096} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			payload := make([]byte, size)
			dst := make([]byte, 0, size+MaxHeaderSize)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				dst = AppendFrame(dst[:0], OpBinary, payload)
			}
		})
	}
	b.Run("FrameInPlace/4096", func(b *testing.B) {
		buf := make([]byte, MaxHeaderSize+4096)
		b.SetBytes(4096)
		b.ReportAllocs()
		for b.Loop() {
			FrameInPlace(buf, OpBinary)
		}
	})
}

func BenchmarkUpgrade(b *testing.B) {
	opts := &UpgradeOptions{
		Protocols:   []string{"kefu.json", "kefu.proto", "mqtt"},
		CheckOrigin: func(o []byte) bool { return len(o) > 0 },
	}
	req := []byte(strings.Replace(rfcRequest, "chat, superchat", "kefu.proto, kefu.json", 1))
	dst := make([]byte, 0, 512)
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	for b.Loop() {
		n, resp, _, err := Upgrade(req, dst[:0], opts)
		if err != nil || n != len(req) || len(resp) == 0 {
			b.Fatal(n, err)
		}
	}
}
