package ws

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that decoding a byte stream in one go and in arbitrary
// chunks yields the same messages, the same error and the same unconsumed
// tail, that every error is one of the predeclared close errors, and that
// what is returned obeys the protocol's rules. It must never panic.
func FuzzDecode(f *testing.F) {
	z := [4]byte{}
	seeds := [][]byte{
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		cat(clientFrame(false, 0, OpText, z, []byte("Hel")), clientFrame(true, 0, OpPing, z, []byte("p")),
			clientFrame(true, 0, OpContinuation, z, []byte("lo"))),
		cat(clientFrame(true, 0, OpBinary, z, bytes.Repeat([]byte{1}, 200)), clientFrame(true, 0, OpClose, z, []byte("\x03\xe8ok"))),
		cat(clientFrame(false, 0, OpText, z, []byte("a\xe2")), clientFrame(true, 0, OpContinuation, z, []byte("\x82\xac"))),
		clientFrame(true, 0, OpText, testKey, []byte("héllo wörld")),
		clientFrame(true, 0, OpBinary, z, make([]byte, 300)),
		{0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 'h', 'i'},
		{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1},
		{0x81, 0x05, 'H', 'e', 'l', 'l', 'o'},
		clientFrame(true, 0x40, OpText, z, nil),
		clientFrame(true, 0, OpClose, z, []byte{3}),
	}
	for i, s := range seeds {
		f.Add(s, []byte{byte(i), 3, 1, 7}, uint16(0))
		f.Add(s, []byte{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint16(100))
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte, limit uint16) {
		opts := &DecodeOptions{MaxMessageSize: int(limit), Pool: new(BufferPool)}
		lim := opts.maxMessage()

		orig := append([]byte(nil), data...)
		whole, errWhole, leftWhole := decodeStream(data, nil, opts)
		if !bytes.Equal(data, orig) {
			t.Fatal("decodeStream modified its input")
		}
		sizes := make([]int, len(cuts))
		for i, c := range cuts {
			sizes[i] = int(c) + 1
		}
		split, errSplit, leftSplit := decodeStream(data, sizes, opts)

		if errWhole != errSplit {
			t.Fatalf("error differs: whole %v, split %v", errWhole, errSplit)
		}
		if !equalMsgs(whole, split) {
			t.Fatalf("messages differ:\nwhole %q\nsplit %q", whole, split)
		}
		if errWhole == nil && leftWhole != leftSplit {
			t.Fatalf("unconsumed tail differs: %d vs %d", leftWhole, leftSplit)
		}
		if _, ok := errWhole.(*CloseError); errWhole != nil && !ok {
			t.Fatalf("error %v is not a *CloseError", errWhole)
		}
		for _, m := range whole {
			switch m.Op {
			case OpText:
				if !utf8.ValidString(m.Payload) {
					t.Fatalf("invalid UTF-8 text returned: %q", m.Payload)
				}
			case OpBinary:
			case OpPing, OpPong:
				if len(m.Payload) > maxControl {
					t.Fatalf("control payload of %d bytes", len(m.Payload))
				}
			case OpClose:
				if len(m.Payload) == 1 || len(m.Payload) > maxControl {
					t.Fatalf("close payload of %d bytes", len(m.Payload))
				}
				if code, reason := ParseClose([]byte(m.Payload)); len(m.Payload) > 0 && (!ValidCloseCode(code) || !utf8.Valid(reason)) {
					t.Fatalf("close %d %q returned", code, reason)
				}
			default:
				t.Fatalf("message with opcode %v", m.Op)
			}
			if !m.Op.IsControl() && len(m.Payload) > lim {
				t.Fatalf("message of %d bytes over the limit %d", len(m.Payload), lim)
			}
		}
	})
}

// FuzzUpgrade checks that Upgrade never panics, never modifies its input,
// answers every failure with a well-formed HTTP response, and gives the
// same answer whether the request arrives whole or cut short first.
func FuzzUpgrade(f *testing.F) {
	f.Add([]byte(rfcRequest), uint16(10))
	f.Add([]byte(strings.Replace(rfcRequest, "chat, superchat", "mqtt, kefu.json", 1)), uint16(500))
	f.Add([]byte(strings.Replace(rfcRequest, "http://example.com", "http://evil.example", 1)), uint16(0))
	f.Add([]byte(strings.Replace(rfcRequest, "13", "8", 1)), uint16(3))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"), uint16(7))
	f.Add([]byte("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c"), uint16(1))
	f.Add([]byte("GET /ws HTTP/1.1\nHost: a\nUpgrade: websocket\r\n\r\n"), uint16(20))
	f.Add(append([]byte(rfcRequest), 0x81, 0x80, 0, 0, 0, 0), uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		opts := &UpgradeOptions{
			Protocols:      []string{"kefu.json", "kefu.proto", "mqtt"},
			CheckOrigin:    func(o []byte) bool { return !bytes.Contains(o, []byte("evil")) },
			MaxHeaderBytes: 1024,
			OnHeader:       func(k, v []byte) {},
		}
		orig := append([]byte(nil), data...)
		n, resp, info, err := Upgrade(data, nil, opts)
		if !bytes.Equal(data, orig) {
			t.Fatal("Upgrade modified its input")
		}
		checkUpgradeResult(t, data, n, resp, info, err, opts)

		// The same request, cut short: need more until the request is
		// complete, then the same answer.
		k := int(cut) % (len(data) + 1)
		n2, resp2, info2, err2 := Upgrade(data[:k], nil, opts)
		checkUpgradeResult(t, data[:k], n2, resp2, info2, err2, opts)
		switch {
		case n > 0 && k < n:
			if n2 != 0 || err2 != nil {
				t.Fatalf("prefix %d of a %d-byte request: n=%d err=%v", k, n, n2, err2)
			}
		case n > 0:
			if n2 != n || err2 != err || !bytes.Equal(resp, resp2) || info != info2 {
				t.Fatalf("prefix %d: n=%d err=%v, whole: n=%d err=%v", k, n2, err2, n, err)
			}
		case err == nil:
			if n2 != 0 || err2 != nil {
				t.Fatalf("prefix of an incomplete request: n=%d err=%v", n2, err2)
			}
		}
	})
}

func checkUpgradeResult(t *testing.T, data []byte, n int, resp []byte, info Handshake, err error, opts *UpgradeOptions) {
	t.Helper()
	if n < 0 || n > len(data) || n > opts.MaxHeaderBytes {
		t.Fatalf("n = %d of %d bytes", n, len(data))
	}
	switch {
	case err == nil && n == 0:
		if len(resp) != 0 {
			t.Fatalf("need more with a response %q", resp)
		}
		if bytes.Contains(data, crlfcrlf) && len(data) <= opts.MaxHeaderBytes {
			t.Fatal("need more although the request is complete")
		}
	case err == nil:
		if !bytes.HasPrefix(resp, []byte("HTTP/1.1 101 Switching Protocols\r\n")) || !bytes.HasSuffix(resp, crlfcrlf) {
			t.Fatalf("success response %q", resp)
		}
		if info.Protocol != "" && !strings.Contains(strings.Join(opts.Protocols, ","), info.Protocol) {
			t.Fatalf("protocol %q", info.Protocol)
		}
	default:
		if HandshakeReason(err) == "other" {
			t.Fatalf("unnamed handshake error %v", err)
		}
		head, body, ok := strings.Cut(string(resp), "\r\n\r\n")
		if !ok || !strings.HasPrefix(head, "HTTP/1.1 ") {
			t.Fatalf("error response %q", resp)
		}
		if i := strings.Index(head, "Content-Length: "); i >= 0 {
			v, _, _ := strings.Cut(head[i+len("Content-Length: "):], "\r\n")
			if l, _ := strconv.Atoi(v); l != len(body) {
				t.Fatalf("Content-Length %s for %d bytes", v, len(body))
			}
		}
	}
}
