package ws

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"
)

func TestDecodeRFCExamples(t *testing.T) {
	big256 := bytes.Repeat([]byte{0xAB}, 256)
	big64k := bytes.Repeat([]byte{0xCD}, 65536)
	tests := []struct {
		name string
		src  []byte
		want []gotMsg
		err  error
	}{
		{
			// RFC 6455 §5.7: a single-frame masked text message.
			name: "masked Hello",
			src:  []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			want: []gotMsg{{OpText, "Hello"}},
		},
		{
			// RFC 6455 §5.7: a single-frame unmasked text message, which a
			// server must refuse from a client (§5.1).
			name: "unmasked Hello",
			src:  []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f},
			err:  ErrProtocolUnmasked,
		},
		{
			// RFC 6455 §5.7: the fragmented unmasked example, refused.
			name: "unmasked fragments",
			src:  []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f},
			err:  ErrProtocolUnmasked,
		},
		{
			// RFC 6455 §5.7: the same fragments, masked as a client must.
			name: "masked fragments",
			src: cat(
				clientFrame(false, 0, OpText, testKey, []byte("Hel")),
				clientFrame(true, 0, OpContinuation, testKey, []byte("lo")),
			),
			want: []gotMsg{{OpText, "Hello"}},
		},
		{
			// RFC 6455 §5.7: the masked Pong example.
			name: "masked pong",
			src:  []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
			want: []gotMsg{{OpPong, "Hello"}},
		},
		{
			// RFC 6455 §5.7: the Ping example, masked.
			name: "masked ping",
			src:  clientFrame(true, 0, OpPing, testKey, []byte("Hello")),
			want: []gotMsg{{OpPing, "Hello"}},
		},
		{
			// RFC 6455 §5.7: 256 bytes binary, 16-bit length.
			name: "256 bytes binary",
			src:  clientFrame(true, 0, OpBinary, testKey, big256),
			want: []gotMsg{{OpBinary, string(big256)}},
		},
		{
			// RFC 6455 §5.7: 64 KiB binary, 64-bit length.
			name: "64KiB binary",
			src:  clientFrame(true, 0, OpBinary, testKey, big64k),
			want: []gotMsg{{OpBinary, string(big64k)}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err, left := decodeAll(t, tc.src, nil)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !equalMsgs(got, tc.want) {
				t.Fatalf("messages = %q, want %q", got, tc.want)
			}
			if err == nil && left != 0 {
				t.Fatalf("%d bytes left unconsumed", left)
			}
		})
	}
}

func TestDecodeHeaderGolden(t *testing.T) {
	// Hand-written header bytes for each length encoding, mask key zero
	// so the payload reads as is.
	tests := []struct {
		name string
		src  []byte
		want gotMsg
	}{
		{
			name: "empty binary",
			src:  []byte{0x82, 0x80, 0, 0, 0, 0},
			want: gotMsg{OpBinary, ""},
		},
		{
			name: "125 bytes, 7-bit length",
			src:  append([]byte{0x82, 0xFD, 0, 0, 0, 0}, bytes.Repeat([]byte("a"), 125)...),
			want: gotMsg{OpBinary, strings.Repeat("a", 125)},
		},
		{
			name: "126 bytes, 16-bit length",
			src:  append([]byte{0x81, 0xFE, 0x00, 0x7E, 0, 0, 0, 0}, bytes.Repeat([]byte("b"), 126)...),
			want: gotMsg{OpText, strings.Repeat("b", 126)},
		},
		{
			name: "non-minimal 64-bit length accepted",
			src:  append([]byte{0x81, 0xFF, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0}, "abc"...),
			want: gotMsg{OpText, "abc"},
		},
		{
			name: "close with code and reason",
			src:  append([]byte{0x88, 0x85, 0, 0, 0, 0, 0x03, 0xE8}, "bye"...),
			want: gotMsg{OpClose, "\x03\xe8bye"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			m, n, err := d.Decode(tc.src, nil)
			if err != nil || n != len(tc.src) {
				t.Fatalf("n=%d err=%v, want n=%d", n, err, len(tc.src))
			}
			if got := (gotMsg{m.Op, string(m.Payload)}); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecodeSeveralFramesOneBuffer(t *testing.T) {
	src := cat(
		masked(OpText, "one"),
		masked(OpBinary, "\x00\x01\x02"),
		masked(OpPing, "p"),
		clientFrame(false, 0, OpText, testKey, []byte("fr")),
		masked(OpPong, ""),
		clientFrame(true, 0, OpContinuation, testKey, []byte("ag")),
		masked(OpText, "héllo"),
		masked(OpClose, "\x03\xe8done"),
	)
	want := []gotMsg{
		{OpText, "one"},
		{OpBinary, "\x00\x01\x02"},
		{OpPing, "p"},
		{OpPong, ""},
		{OpText, "frag"},
		{OpText, "héllo"},
		{OpClose, "\x03\xe8done"},
	}
	var d Decoder
	var got []gotMsg
	buf := src
	for len(buf) > 0 {
		m, n, err := d.Decode(buf, nil)
		if err != nil || n == 0 {
			t.Fatalf("n=%d err=%v with %d bytes left", n, err, len(buf))
		}
		if m.Complete() {
			got = append(got, gotMsg{m.Op, string(m.Payload)})
		}
		buf = buf[n:]
	}
	if !equalMsgs(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestDecodeSplitAtEveryOffset(t *testing.T) {
	frames := map[string][]byte{
		"small text": masked(OpText, "Hello, 世界"),
		"16-bit":     clientFrame(true, 0, OpBinary, testKey, bytes.Repeat([]byte{1, 2, 3}, 100)),
		"64-bit":     clientFrame(true, 0, OpBinary, testKey, bytes.Repeat([]byte{9}, 70000)),
		"fragments with ping": cat(
			clientFrame(false, 0, OpText, testKey, []byte("Hel")),
			masked(OpPing, "x"),
			clientFrame(true, 0, OpContinuation, testKey, []byte("lo")),
		),
	}
	for name, src := range frames {
		t.Run(name, func(t *testing.T) {
			want, err, _ := decodeAll(t, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			step := 1
			if len(src) > 2000 {
				step = 97 // keep the 64-bit case fast; still crosses every header byte
			}
			for cut := 1; cut < len(src); cut += step {
				got, err, left := decodeStream(src, []int{cut}, nil)
				if err != nil || left != 0 || !equalMsgs(got, want) {
					t.Fatalf("cut %d: err=%v left=%d got %d messages", cut, err, left, len(got))
				}
			}
			// And one byte at a time through the header.
			sizes := make([]int, 20)
			for i := range sizes {
				sizes[i] = 1
			}
			got, err, left := decodeStream(src, sizes, nil)
			if err != nil || left != 0 || !equalMsgs(got, want) {
				t.Fatalf("bytewise: err=%v left=%d", err, left)
			}
		})
	}
}

func TestDecodeNeedMore(t *testing.T) {
	src := clientFrame(true, 0, OpBinary, testKey, bytes.Repeat([]byte{7}, 300))
	var d Decoder
	for i := 0; i < len(src); i++ {
		m, n, err := d.Decode(src[:i], nil)
		if n != 0 || err != nil || m.Complete() {
			t.Fatalf("prefix %d: n=%d err=%v", i, n, err)
		}
	}
}

func TestDecodeFragmentsWithControlFrames(t *testing.T) {
	opts := &DecodeOptions{}
	opts.EnsureDefaults()
	src := cat(
		clientFrame(false, 0, OpBinary, testKey, []byte("ab")),
		masked(OpPing, "1"),
		clientFrame(false, 0, OpContinuation, testKey, []byte("cd")),
		masked(OpPong, "2"),
		masked(OpClose, ""),
		clientFrame(true, 0, OpContinuation, testKey, []byte("ef")),
	)
	var d Decoder
	var got []gotMsg
	var sawFragmented bool
	for buf := src; len(buf) > 0; {
		m, n, err := d.Decode(buf, opts)
		if err != nil || n == 0 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		if m.Op == OpPing && !d.Fragmented() {
			t.Fatal("control frame disturbed the fragment state")
		}
		sawFragmented = sawFragmented || d.Fragmented()
		if m.Complete() {
			got = append(got, gotMsg{m.Op, string(m.Payload)})
		}
		buf = buf[n:]
	}
	want := []gotMsg{{OpPing, "1"}, {OpPong, "2"}, {OpClose, ""}, {OpBinary, "abcdef"}}
	if !equalMsgs(got, want) || !sawFragmented {
		t.Fatalf("got %q, want %q", got, want)
	}
	d.Release(opts)
	if d.buf != nil || d.state != stateIdle {
		t.Fatal("Release kept the reassembly buffer")
	}
}

func TestDecodeErrors(t *testing.T) {
	k := testKey
	small := &DecodeOptions{MaxMessageSize: 10}
	tests := []struct {
		name string
		src  []byte
		opts *DecodeOptions
		err  *CloseError
		code uint16
	}{
		{"unmasked", []byte{0x82, 0x01, 0x00}, nil, ErrProtocolUnmasked, 1002},
		{"rsv1", clientFrame(true, 0x40, OpText, k, []byte("a")), nil, ErrProtocolReservedBits, 1002},
		{"rsv2", clientFrame(true, 0x20, OpText, k, []byte("a")), nil, ErrProtocolReservedBits, 1002},
		{"rsv3", clientFrame(true, 0x10, OpBinary, k, nil), nil, ErrProtocolReservedBits, 1002},
		{"opcode 3", clientFrame(true, 0, 3, k, nil), nil, ErrProtocolOpcode, 1002},
		{"opcode 7", clientFrame(true, 0, 7, k, nil), nil, ErrProtocolOpcode, 1002},
		{"opcode 0xB", clientFrame(true, 0, 0xB, k, nil), nil, ErrProtocolOpcode, 1002},
		{"opcode 0xF", clientFrame(true, 0, 0xF, k, nil), nil, ErrProtocolOpcode, 1002},
		{"fragmented ping", clientFrame(false, 0, OpPing, k, nil), nil, ErrProtocolControlFragmented, 1002},
		{"fragmented close", clientFrame(false, 0, OpClose, k, nil), nil, ErrProtocolControlFragmented, 1002},
		{"ping 126 bytes", clientFrame(true, 0, OpPing, k, make([]byte, 126)), nil, ErrProtocolControlTooLong, 1002},
		{"pong 16-bit len", []byte{0x8A, 0xFE, 0, 5}, nil, ErrProtocolControlTooLong, 1002},
		{"lone continuation", clientFrame(true, 0, OpContinuation, k, []byte("x")), nil, ErrProtocolContinuation, 1002},
		{"continuation after complete", cat(masked(OpText, "a"), clientFrame(true, 0, OpContinuation, k, nil)), nil, ErrProtocolContinuation, 1002},
		{"text inside fragments", cat(clientFrame(false, 0, OpText, k, []byte("a")), masked(OpText, "b")), nil, ErrProtocolInterleaved, 1002},
		{"binary inside fragments", cat(clientFrame(false, 0, OpBinary, k, []byte("a")), clientFrame(false, 0, OpBinary, k, nil)), nil, ErrProtocolInterleaved, 1002},
		{"64-bit length MSB", []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1}, nil, ErrProtocolLength, 1002},
		{"too big 7-bit", clientFrame(true, 0, OpBinary, k, make([]byte, 11)), small, ErrTooBig, 1009},
		{"too big default 64-bit", []byte{0x82, 0xFF, 0, 0, 0, 0, 0, 0x10, 0, 1}, nil, ErrTooBig, 1009},
		{"too big across fragments", cat(clientFrame(false, 0, OpBinary, k, make([]byte, 6)), clientFrame(true, 0, OpContinuation, k, make([]byte, 5))), small, ErrTooBig, 1009},
		{"bad utf8 text", masked(OpText, "a\xffb"), nil, ErrInvalidUTF8, 1007},
		{"surrogate in text", masked(OpText, "\xed\xa0\x80"), nil, ErrInvalidUTF8, 1007},
		{"overlong in text", masked(OpText, "\xc0\xaf"), nil, ErrInvalidUTF8, 1007},
		{"bad utf8 first fragment", clientFrame(false, 0, OpText, k, []byte("\xff")), nil, ErrInvalidUTF8, 1007},
		{"text ends inside code point", cat(clientFrame(false, 0, OpText, k, []byte("a\xe4")), clientFrame(true, 0, OpContinuation, k, []byte("\xb8"))), nil, ErrInvalidUTF8, 1007},
		{"close 1 byte", masked(OpClose, "\x03"), nil, ErrProtocolClosePayload, 1002},
		{"close code 999", masked(OpClose, "\x03\xe7"), nil, ErrProtocolCloseCode, 1002},
		{"close code 1004", masked(OpClose, "\x03\xec"), nil, ErrProtocolCloseCode, 1002},
		{"close code 1005", masked(OpClose, "\x03\xed"), nil, ErrProtocolCloseCode, 1002},
		{"close code 1006", masked(OpClose, "\x03\xee"), nil, ErrProtocolCloseCode, 1002},
		{"close code 1015", masked(OpClose, "\x03\xf7"), nil, ErrProtocolCloseCode, 1002},
		{"close code 2999", masked(OpClose, "\x0b\xb7"), nil, ErrProtocolCloseCode, 1002},
		{"close code 5000", masked(OpClose, "\x13\x88"), nil, ErrProtocolCloseCode, 1002},
		{"close code 0", masked(OpClose, "\x00\x00"), nil, ErrProtocolCloseCode, 1002},
		{"close bad reason", masked(OpClose, "\x03\xe8\xff"), nil, ErrInvalidCloseReason, 1007},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err, _ := decodeAll(t, tc.src, tc.opts)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got := CloseCodeFor(err); got != tc.code {
				t.Fatalf("close code %d, want %d", got, tc.code)
			}
			// The same error whatever the chunking.
			_, err2, _ := decodeStream(tc.src, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, tc.opts)
			if err2 != tc.err {
				t.Fatalf("bytewise err = %v, want %v", err2, tc.err)
			}
		})
	}
}

func TestDecodeValidCloseCodes(t *testing.T) {
	for _, code := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		src := masked(OpClose, string([]byte{byte(code >> 8), byte(code)})+"ok")
		got, err, _ := decodeAll(t, src, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("code %d: err=%v", code, err)
		}
		c, reason := ParseClose([]byte(got[0].Payload))
		if c != code || string(reason) != "ok" {
			t.Fatalf("ParseClose = %d %q", c, reason)
		}
	}
	if c, r := ParseClose(nil); c != CloseNoStatus || r != nil {
		t.Fatalf("ParseClose(empty) = %d %q", c, r)
	}
}

func TestDecodeTooBigBeforePayload(t *testing.T) {
	opts := &DecodeOptions{MaxMessageSize: 1000}
	// Only the header of a 1001-byte frame: rejected without the payload.
	hdr := clientFrame(true, 0, OpBinary, testKey, make([]byte, 1001))[:4]
	var d Decoder
	if _, _, err := d.Decode(hdr, opts); err != ErrTooBig {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
	// A declared 2^62 bytes, with no payload at all.
	d = Decoder{}
	huge := []byte{0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0}
	if _, _, err := d.Decode(huge, nil); err != ErrTooBig {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
	// Exactly the limit is fine.
	src := clientFrame(true, 0, OpBinary, testKey, make([]byte, 1000))
	if got, err, _ := decodeAll(t, src, opts); err != nil || len(got) != 1 {
		t.Fatalf("err = %v", err)
	}
	// A continuation whose header pushes the message past the limit.
	d = Decoder{}
	first := clientFrame(false, 0, OpBinary, testKey, make([]byte, 600))
	_, n, err := d.Decode(first, opts)
	if err != nil || n != len(first) {
		t.Fatalf("first fragment: n=%d err=%v", n, err)
	}
	next := clientFrame(true, 0, OpContinuation, testKey, make([]byte, 401))[:4]
	if _, _, err := d.Decode(next, opts); err != ErrTooBig {
		t.Fatalf("err = %v, want ErrTooBig", err)
	}
	d.Reset(opts)
}

func TestDecodeUTF8AcrossFragments(t *testing.T) {
	k := testKey
	// "€" is E2 82 AC; "😀" is F0 9F 98 80.
	tests := []struct {
		name  string
		frags []string
		err   error
		// failAt is the index of the fragment whose arrival proves the
		// text invalid; -1 when valid.
		failAt int
	}{
		{"euro split 1+2", []string{"a\xe2", "\x82\xacb"}, nil, -1},
		{"euro split 2+1", []string{"\xe2\x82", "\xac"}, nil, -1},
		{"emoji byte per fragment", []string{"\xf0", "\x9f", "\x98", "\x80"}, nil, -1},
		{"bad continuation after split", []string{"\xe2\x82", "A"}, ErrInvalidUTF8, 1},
		{"surrogate prefix fails early", []string{"ok\xed\xa0", "\x80"}, ErrInvalidUTF8, 0},
		{"overlong prefix fails early", []string{"\xe0\x80", "\x80"}, ErrInvalidUTF8, 0},
		{"too high prefix fails early", []string{"\xf4\x90", "\x80\x80"}, ErrInvalidUTF8, 0},
		{"bad byte in last fragment", []string{"abc", "d\xfe"}, ErrInvalidUTF8, 1},
		{"truncated at end", []string{"abc", "\xf0\x9f\x98"}, ErrInvalidUTF8, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var frames [][]byte
			for i, f := range tc.frags {
				op := OpContinuation
				if i == 0 {
					op = OpText
				}
				frames = append(frames, clientFrame(i == len(tc.frags)-1, 0, op, k, []byte(f)))
			}
			got, err, _ := decodeAll(t, cat(frames...), nil)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && (len(got) != 1 || got[0].Payload != strings.Join(tc.frags, "")) {
				t.Fatalf("got %q", got)
			}
			if tc.failAt >= 0 {
				// Feed only up to the failing fragment: the error is there.
				_, err, _ := decodeAll(t, cat(frames[:tc.failAt+1]...), nil)
				if err != tc.err {
					t.Fatalf("early err = %v, want %v", err, tc.err)
				}
			}
		})
	}
}

func TestUTF8Prefix(t *testing.T) {
	tests := []struct {
		in       string
		complete int
		ok       bool
	}{
		{"", 0, true},
		{"abc", 3, true},
		{"ab\xe2", 2, true},
		{"ab\xe2\x82", 2, true},
		{"\xf0\x9f\x98", 0, true},
		{"\xc2", 0, true},
		{"\xc1", 0, false},
		{"\x80", 0, false},
		{"a\x80\x80\x80\x80", 0, false},
		{"\xff", 0, false},
		{"\xe0\x9f", 0, false},
		{"\xed\xa0", 0, false},
		{"\xf0\x8f", 0, false},
		{"\xf4\x90", 0, false},
		{"\xf5", 0, false},
		{"\xffab\xe2", 0, false},
		{"€\xf0\x9f", 3, true},
	}
	for _, tc := range tests {
		c, ok := utf8Prefix([]byte(tc.in))
		if ok != tc.ok || (ok && c != tc.complete) {
			t.Errorf("utf8Prefix(%q) = %d,%v want %d,%v", tc.in, c, ok, tc.complete, tc.ok)
		}
	}
}

func TestDecodeReleaseAndPool(t *testing.T) {
	pool := new(BufferPool)
	opts := &DecodeOptions{Pool: pool}
	src := cat(
		clientFrame(false, 0, OpBinary, testKey, bytes.Repeat([]byte{1}, 3000)),
		clientFrame(true, 0, OpContinuation, testKey, bytes.Repeat([]byte{2}, 3000)),
	)
	var d Decoder
	m, n, err := d.Decode(append([]byte(nil), src...), opts)
	if err != nil || n != len(src) || len(m.Payload) != 6000 {
		t.Fatalf("n=%d err=%v len=%d", n, err, len(m.Payload))
	}
	if d.buf == nil {
		t.Fatal("reassembled payload must stay valid until Release")
	}
	d.Release(opts)
	if d.buf != nil {
		t.Fatal("Release kept the buffer")
	}
	// Reset drops an open message.
	if _, _, err := d.Decode(append([]byte(nil), src[:3010]...), opts); err != nil || !d.Fragmented() {
		t.Fatalf("err=%v fragmented=%v", err, d.Fragmented())
	}
	d.Reset(opts)
	if d != (Decoder{}) {
		t.Fatal("Reset left state behind")
	}
}

func TestBufferPool(t *testing.T) {
	var p BufferPool
	for _, tc := range []struct{ size, capacity int }{
		{0, 1024}, {1, 1024}, {1024, 1024}, {1025, 2048}, {5000, 8192},
		{16 << 20, 16 << 20}, {16<<20 + 1, 16<<20 + 1},
	} {
		b := p.Get(tc.size)
		if len(*b) != 0 || cap(*b) != tc.capacity {
			t.Errorf("Get(%d): len %d cap %d, want cap %d", tc.size, len(*b), cap(*b), tc.capacity)
		}
		p.Put(b)
	}
	p.Put(nil)
	odd := make([]byte, 10, 3000)
	p.Put(&odd) // not a class size: dropped, no panic
}

func TestDecodeOptions(t *testing.T) {
	var o DecodeOptions
	o.EnsureDefaults()
	if o.MaxMessageSize != DefaultMaxMessageSize || o.Pool == nil || o.Validate() != nil {
		t.Fatalf("defaults: %+v", o)
	}
	if (&DecodeOptions{MaxMessageSize: -1}).Validate() == nil {
		t.Fatal("negative MaxMessageSize accepted")
	}
}

func TestCloseError(t *testing.T) {
	if got := ErrTooBig.Error(); got != "ws: too_big (close 1009)" {
		t.Fatalf("Error() = %q", got)
	}
	if CloseCodeFor(nil) != 1000 || CloseCodeFor(ErrHeaderTooLarge) != 1011 {
		t.Fatal("CloseCodeFor fallbacks")
	}
	seen := map[string]bool{}
	for _, e := range []*CloseError{
		ErrProtocolUnmasked, ErrProtocolReservedBits, ErrProtocolOpcode,
		ErrProtocolControlFragmented, ErrProtocolControlTooLong,
		ErrProtocolContinuation, ErrProtocolInterleaved, ErrProtocolLength,
		ErrProtocolClosePayload, ErrProtocolCloseCode, ErrTooBig,
		ErrInvalidUTF8, ErrInvalidCloseReason,
	} {
		if seen[e.Reason] || strings.Trim(e.Reason, "abcdefghijklmnopqrstuvwxyz_0123456789") != "" {
			t.Errorf("reason %q repeated or not a metric label", e.Reason)
		}
		seen[e.Reason] = true
	}
}

func TestOpCodeString(t *testing.T) {
	for op, want := range map[OpCode]string{
		OpContinuation: "continuation", OpText: "text", OpBinary: "binary",
		OpClose: "close", OpPing: "ping", OpPong: "pong", 3: "reserved",
	} {
		if op.String() != want {
			t.Errorf("%d.String() = %q", op, op.String())
		}
	}
	if OpText.IsControl() || !OpPing.IsControl() {
		t.Fatal("IsControl")
	}
}

func TestDecoderIsSmall(t *testing.T) {
	// The Decoder is embedded in every connection: keep it at three words.
	if s := unsafe.Sizeof(Decoder{}); s > 3*unsafe.Sizeof(uintptr(0)) {
		t.Fatalf("Decoder is %d bytes", s)
	}
}

func TestDecodeControlNotBoundByMessageLimit(t *testing.T) {
	opts := &DecodeOptions{MaxMessageSize: 4}
	ping := strings.Repeat("p", 125)
	got, err, _ := decodeAll(t, masked(OpPing, ping), opts)
	if err != nil || len(got) != 1 || got[0].Payload != ping {
		t.Fatalf("err=%v got %d messages", err, len(got))
	}
}
