package ws

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendFrameGolden(t *testing.T) {
	p256 := bytes.Repeat([]byte{0xAB}, 256)
	p64k := bytes.Repeat([]byte{0xCD}, 65536)
	tests := []struct {
		name    string
		op      OpCode
		payload []byte
		want    []byte
	}{
		{
			// RFC 6455 §5.7: a single-frame unmasked text message.
			name:    "Hello",
			op:      OpText,
			payload: []byte("Hello"),
			want:    []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		},
		{
			// RFC 6455 §5.7: unmasked Ping request.
			name:    "ping Hello",
			op:      OpPing,
			payload: []byte("Hello"),
			want:    []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
		},
		{
			name: "empty binary",
			op:   OpBinary,
			want: []byte{0x82, 0x00},
		},
		{
			// RFC 6455 §5.7: 256 bytes binary message in a single
			// unmasked frame.
			name:    "256 bytes",
			op:      OpBinary,
			payload: p256,
			want:    append([]byte{0x82, 0x7E, 0x01, 0x00}, p256...),
		},
		{
			// RFC 6455 §5.7: 64 KiB binary message in a single unmasked
			// frame.
			name:    "64KiB",
			op:      OpBinary,
			payload: p64k,
			want:    append([]byte{0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, p64k...),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := AppendFrame([]byte("pre"), tc.op, tc.payload)
			if !bytes.Equal(got[3:], tc.want) || string(got[:3]) != "pre" {
				t.Fatalf("got % x, want % x", got[:min(len(got), 16)], tc.want[:min(len(tc.want), 13)])
			}
			if HeaderSize(len(tc.payload))+len(tc.payload) != len(tc.want) {
				t.Fatalf("HeaderSize(%d) = %d", len(tc.payload), HeaderSize(len(tc.payload)))
			}
		})
	}
}

func TestHeaderBoundaries(t *testing.T) {
	for _, tc := range []struct{ length, size int }{
		{0, 2}, {125, 2}, {126, 4}, {0xFFFF, 4}, {0x10000, 10}, {1 << 40, 10},
	} {
		if got := HeaderSize(tc.length); got != tc.size {
			t.Errorf("HeaderSize(%d) = %d, want %d", tc.length, got, tc.size)
		}
		if got := len(AppendHeader(nil, OpBinary, tc.length)); got != tc.size {
			t.Errorf("len(AppendHeader(%d)) = %d, want %d", tc.length, got, tc.size)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("negative length did not panic")
		}
	}()
	AppendHeader(nil, OpText, -1)
}

func TestFrameInPlace(t *testing.T) {
	for _, n := range []int{0, 5, 125, 126, 300, 0xFFFF, 0x10000, 70000} {
		payload := bytes.Repeat([]byte{'z'}, n)
		buf := make([]byte, MaxHeaderSize, MaxHeaderSize+n)
		buf = append(buf, payload...)
		frame := FrameInPlace(buf, OpText)
		want := AppendFrame(nil, OpText, payload)
		if !bytes.Equal(frame, want) {
			t.Fatalf("n=%d: FrameInPlace differs from AppendFrame", n)
		}
		if &frame[len(frame)-1] != &buf[len(buf)-1] && n > 0 {
			t.Fatalf("n=%d: payload was copied", n)
		}
	}
	// PutHeader into exactly the space it needs.
	hdr := make([]byte, 4)
	if start := PutHeader(hdr, OpBinary, 200); start != 0 || !bytes.Equal(hdr, []byte{0x82, 126, 0, 200}) {
		t.Fatalf("PutHeader: start %d % x", start, hdr)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("short reserved space did not panic")
		}
	}()
	PutHeader(make([]byte, 3), OpBinary, 200)
}

func TestAppendControl(t *testing.T) {
	long := strings.Repeat("é", 100) // 200 bytes
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"close normal", AppendClose(nil, 1000, ""), []byte{0x88, 0x02, 0x03, 0xE8}},
		{"close reason", AppendClose(nil, 1001, "bye"), []byte{0x88, 0x05, 0x03, 0xE9, 'b', 'y', 'e'}},
		{"close no status", AppendClose(nil, CloseNoStatus, "ignored"), []byte{0x88, 0x00}},
		{"close zero", AppendClose(nil, 0, ""), []byte{0x88, 0x00}},
		{"close 1006", AppendClose(nil, CloseAbnormal, ""), []byte{0x88, 0x00}},
		{"pong", AppendPong(nil, []byte("Hello")), []byte{0x8A, 0x05, 'H', 'e', 'l', 'l', 'o'}},
		{"ping empty", AppendPing(nil, nil), []byte{0x89, 0x00}},
	}
	for _, tc := range tests {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s: got % x, want % x", tc.name, tc.got, tc.want)
		}
	}
	// A long reason is cut at a code point boundary to fit 125 bytes.
	c := AppendClose(nil, 1000, long)
	if len(c) != 2+2+122 || c[1] != 124 {
		t.Fatalf("long close: len %d, length byte %d", len(c), c[1])
	}
	// The frame is one the decoder accepts (after masking).
	masked := clientFrame(true, 0, OpClose, testKey, c[2:])
	if _, err, _ := decodeAll(t, masked, nil); err != nil {
		t.Fatalf("cut reason invalid: %v", err)
	}
	if p := AppendPing(nil, make([]byte, 200)); len(p) != 2+125 {
		t.Fatalf("long ping: %d bytes", len(p))
	}
}

func TestAppendFrameAllocs(t *testing.T) {
	payload := make([]byte, 4096)
	dst := make([]byte, 0, 8192)
	if a := testing.AllocsPerRun(100, func() {
		dst = AppendFrame(dst[:0], OpBinary, payload)
		dst = AppendClose(dst[:0], 1000, "bye")
		dst = AppendPong(dst[:0], payload[:10])
	}); a != 0 {
		t.Fatalf("AppendFrame allocates %.1f times", a)
	}
	buf := make([]byte, MaxHeaderSize+1000)
	if a := testing.AllocsPerRun(100, func() { FrameInPlace(buf, OpText) }); a != 0 {
		t.Fatalf("FrameInPlace allocates %.1f times", a)
	}
}
