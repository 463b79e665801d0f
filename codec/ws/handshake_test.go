package ws

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	gobwas "github.com/gobwas/ws"
)

// rfcRequest is the client handshake of RFC 6455 §1.3.
const rfcRequest = "GET /chat HTTP/1.1\r\n" +
	"Host: server.example.com\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Origin: http://example.com\r\n" +
	"Sec-WebSocket-Protocol: chat, superchat\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"\r\n"

// rfcResponse is the server handshake of RFC 6455 §1.3.
const rfcResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
	"Upgrade: websocket\r\n" +
	"Connection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
	"Sec-WebSocket-Protocol: chat\r\n" +
	"\r\n"

func TestUpgradeRFCGolden(t *testing.T) {
	opts := &UpgradeOptions{Protocols: []string{"chat"}}
	frame := masked(OpText, "Hello")
	buf := append([]byte(rfcRequest), frame...)
	n, resp, info, err := Upgrade(buf, []byte("keep:"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(rfcRequest) {
		t.Fatalf("n = %d, want %d", n, len(rfcRequest))
	}
	if string(resp) != "keep:"+rfcResponse {
		t.Fatalf("response:\n%q\nwant:\n%q", resp, rfcResponse)
	}
	if info.Protocol != "chat" || info.Path != "/chat" {
		t.Fatalf("info = %+v", info)
	}
	if unsafe.StringData(info.Protocol) != unsafe.StringData(opts.Protocols[0]) {
		t.Fatal("Protocol is not the interned option string")
	}
	// The bytes after the request are the first frame.
	got, err, _ := decodeAll(t, buf[n:], nil)
	if err != nil || len(got) != 1 || got[0].Payload != "Hello" {
		t.Fatalf("frame after handshake: %q %v", got, err)
	}
}

func TestUpgradeByteAtATime(t *testing.T) {
	opts := &UpgradeOptions{Protocols: []string{"chat"}}
	for i := 0; i < len(rfcRequest); i++ {
		n, resp, _, err := Upgrade([]byte(rfcRequest[:i]), nil, opts)
		if n != 0 || err != nil || len(resp) != 0 {
			t.Fatalf("prefix %d: n=%d err=%v resp=%q", i, n, err, resp)
		}
	}
	n, resp, _, err := Upgrade([]byte(rfcRequest), nil, opts)
	if err != nil || n != len(rfcRequest) || string(resp) != rfcResponse {
		t.Fatalf("complete: n=%d err=%v", n, err)
	}
}

func TestUpgradeProtocolPreference(t *testing.T) {
	opts := &UpgradeOptions{Protocols: []string{"kefu.json", "kefu.proto", "mqtt"}}
	tests := []struct {
		offer string
		want  string
	}{
		{"kefu.proto, kefu.json", "kefu.json"},
		{"mqtt,kefu.proto", "kefu.proto"},
		{"mqtt", "mqtt"},
		{"chat, superchat", ""},
		{" , kefu.proto ,", "kefu.proto"},
		{"", ""},
	}
	for _, tc := range tests {
		req := strings.Replace(rfcRequest, "chat, superchat", tc.offer, 1)
		_, resp, info, err := Upgrade([]byte(req), nil, opts)
		if err != nil || info.Protocol != tc.want {
			t.Errorf("offer %q: protocol %q err %v, want %q", tc.offer, info.Protocol, err, tc.want)
		}
		hasHeader := strings.Contains(string(resp), "Sec-WebSocket-Protocol:")
		if hasHeader != (tc.want != "") {
			t.Errorf("offer %q: response %q", tc.offer, resp)
		}
	}
	// No Protocols option: nothing is selected.
	_, resp, info, err := Upgrade([]byte(rfcRequest), nil, nil)
	if err != nil || info.Protocol != "" || strings.Contains(string(resp), "Sec-WebSocket-Protocol") {
		t.Fatalf("nil opts: %+v %v %q", info, err, resp)
	}
}

func TestUpgradeOrigin(t *testing.T) {
	var seen []string
	opts := &UpgradeOptions{
		CheckOrigin: func(origin []byte) bool { return string(origin) == "https://kefu.example" },
		OnHeader:    func(k, v []byte) { seen = append(seen, string(k)+"="+string(v)) },
	}
	n, resp, _, err := Upgrade([]byte(rfcRequest), nil, opts)
	if err != ErrOriginDenied {
		t.Fatalf("err = %v, want ErrOriginDenied", err)
	}
	if n != len(rfcRequest) || !bytes.HasPrefix(resp, []byte("HTTP/1.1 403 Forbidden\r\n")) {
		t.Fatalf("n=%d response %q", n, resp)
	}
	checkContentLength(t, resp)
	if HandshakeReason(err) != "origin" {
		t.Fatalf("reason %q", HandshakeReason(err))
	}
	if len(seen) != 1 || seen[0] != "Origin=http://example.com" {
		t.Fatalf("OnHeader saw %q", seen)
	}

	ok := strings.Replace(rfcRequest, "http://example.com", "https://kefu.example", 1)
	if _, resp, _, err := Upgrade([]byte(ok), nil, opts); err != nil || !bytes.HasPrefix(resp, []byte("HTTP/1.1 101")) {
		t.Fatalf("allowed origin: %v %q", err, resp)
	}
	// A request without Origin (a native client) is not checked.
	none := strings.Replace(rfcRequest, "Origin: http://example.com\r\n", "", 1)
	if _, _, _, err := Upgrade([]byte(none), nil, opts); err != nil {
		t.Fatalf("no origin: %v", err)
	}
}

func TestUpgradeErrors(t *testing.T) {
	rep := func(old, new string) string { return strings.Replace(rfcRequest, old, new, 1) }
	tests := []struct {
		name   string
		req    string
		err    error
		status int
		reason string
	}{
		{"bad key", rep("dGhlIHNhbXBsZSBub25jZQ==", "short"), gobwas.ErrHandshakeBadSecKey, 400, "bad_key"},
		{"no key", rep("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), gobwas.ErrHandshakeBadSecKey, 400, "bad_key"},
		{"version 8", rep("Version: 13", "Version: 8"), gobwas.ErrHandshakeUpgradeRequired, 426, "unsupported_version"},
		{"no version", rep("Sec-WebSocket-Version: 13\r\n", ""), gobwas.ErrHandshakeBadSecVersion, 400, "bad_version"},
		{"no upgrade", rep("Upgrade: websocket\r\n", ""), gobwas.ErrHandshakeBadUpgrade, 400, "bad_upgrade"},
		{"bad connection", rep("Connection: Upgrade", "Connection: keep-alive"), gobwas.ErrHandshakeBadConnection, 400, "bad_connection"},
		{"no host", rep("Host: server.example.com\r\n", ""), gobwas.ErrHandshakeBadHost, 400, "bad_host"},
		{"POST", rep("GET", "POST"), gobwas.ErrHandshakeBadMethod, 405, "bad_method"},
		{"HTTP/1.0", rep("HTTP/1.1", "HTTP/1.0"), gobwas.ErrHandshakeBadProtocol, 505, "bad_http_version"},
		{"garbage line", "hello\r\n\r\n", ErrMalformedRequest, 400, "malformed"},
		{"bad header line", rep("Upgrade: websocket", "Upgrade websocket"), gobwas.ErrMalformedRequest, 400, "malformed"},
		{"empty request", "\r\n\r\n", ErrMalformedRequest, 400, "malformed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, resp, _, err := Upgrade([]byte(tc.req), nil, nil)
			if err != tc.err {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if n != len(tc.req) {
				t.Fatalf("n = %d, want %d", n, len(tc.req))
			}
			prefix := "HTTP/1.1 " + strconv.Itoa(tc.status) + " " + http.StatusText(tc.status) + "\r\n"
			if !strings.HasPrefix(string(resp), prefix) {
				t.Fatalf("response %q, want prefix %q", resp, prefix)
			}
			checkContentLength(t, resp)
			if r := HandshakeReason(err); r != tc.reason {
				t.Fatalf("reason %q, want %q", r, tc.reason)
			}
		})
	}
	if HandshakeReason(ErrTooBig) != "other" {
		t.Fatal("unknown error reason")
	}
}

func TestUpgradeHeaderTooLarge(t *testing.T) {
	opts := &UpgradeOptions{MaxHeaderBytes: len(rfcRequest)}
	// Exactly the limit fits.
	if _, _, _, err := Upgrade([]byte(rfcRequest), nil, opts); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	opts.MaxHeaderBytes--
	n, resp, _, err := Upgrade([]byte(rfcRequest), nil, opts)
	if err != ErrHeaderTooLarge || n != 0 || !bytes.HasPrefix(resp, []byte("HTTP/1.1 431 ")) {
		t.Fatalf("n=%d err=%v resp=%q", n, err, resp)
	}
	checkContentLength(t, resp)
	if HandshakeReason(err) != "too_large" {
		t.Fatal("reason")
	}
	// An unfinished request: need more below the default limit, refused
	// once it reaches it.
	partial := []byte("GET / HTTP/1.1\r\nCookie: " + strings.Repeat("x", 8000))
	if n, _, _, err := Upgrade(partial, nil, nil); n != 0 || err != nil {
		t.Fatalf("below limit: n=%d err=%v", n, err)
	}
	partial = append(partial, strings.Repeat("x", 500)...)
	if _, _, _, err := Upgrade(partial, nil, nil); err != ErrHeaderTooLarge {
		t.Fatalf("past limit: %v", err)
	}
}

func TestUpgradeOptions(t *testing.T) {
	var o UpgradeOptions
	o.EnsureDefaults()
	if o.MaxHeaderBytes != DefaultMaxHeaderBytes || o.Validate() != nil {
		t.Fatalf("defaults %+v", o)
	}
	for _, bad := range []UpgradeOptions{
		{MaxHeaderBytes: -1},
		{Protocols: []string{""}},
		{Protocols: []string{"a b"}},
		{Protocols: []string{"a,b"}},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if (&UpgradeOptions{Protocols: []string{"kefu.json", "mqtt"}}).Validate() != nil {
		t.Fatal("valid protocols refused")
	}
}

func TestIsHTTPUpgradePrefix(t *testing.T) {
	for in, want := range map[string]bool{
		"GET / HTTP/1.1": true, "GET ": true, "GET": false, "POST /": false,
		"get /": false, "\x10\x00": false, "": false,
	} {
		if IsHTTPUpgradePrefix([]byte(in)) != want {
			t.Errorf("IsHTTPUpgradePrefix(%q) != %v", in, want)
		}
	}
}

// checkContentLength verifies that an error response's Content-Length
// matches its body.
func checkContentLength(t *testing.T, resp []byte) {
	t.Helper()
	head, body, ok := strings.Cut(string(resp), "\r\n\r\n")
	if !ok {
		t.Fatalf("response has no end of headers: %q", resp)
	}
	for _, line := range strings.Split(head, "\r\n") {
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			if n, _ := strconv.Atoi(v); n != len(body) {
				t.Fatalf("Content-Length %d, body %d bytes: %q", n, len(body), resp)
			}
			return
		}
	}
	if body != "" {
		t.Fatalf("body without Content-Length: %q", resp)
	}
}
