package ws

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	gobwas "github.com/gobwas/ws"
)

// DefaultMaxHeaderBytes is the MaxHeaderBytes used when the option is zero.
const DefaultMaxHeaderBytes = 8192

// UpgradeOptions configure the opening handshake (RFC 6455 §4.2). One value
// is usually shared, read-only, by every connection of an engine; its
// callbacks run on the event loop and must not block.
type UpgradeOptions struct {
	// CheckOrigin is called with the value of the Origin header, when the
	// request has one (RFC 6455 §4.2.1 item 7, §10.2). Returning false
	// refuses the handshake with 403 and ErrOriginDenied. The argument is
	// only valid during the call. Nil allows every origin.
	CheckOrigin func(origin []byte) bool

	// Protocols are the subprotocols the server speaks, in the server's
	// order of preference (for example "kefu.json", "kefu.proto", "mqtt").
	// Of those the client offers in Sec-WebSocket-Protocol, the one listed
	// first here is chosen (RFC 6455 §4.2.2 item 5.4). Nil: no subprotocol
	// is ever selected.
	Protocols []string

	// MaxHeaderBytes limits the size of the whole request, request line,
	// headers and the final empty line included. Zero means
	// DefaultMaxHeaderBytes (8192).
	MaxHeaderBytes int

	// OriginTag, if set, is called with the Origin header's value (after a
	// CheckOrigin that accepted it) and its result is returned in
	// Handshake.OriginTag: a caller-defined summary of the origin that it
	// keeps instead of the bytes. Nil: OriginTag is 0.
	OriginTag func(origin []byte) uint32

	// OnHeader, if set, is called for every header that is not part of the
	// WebSocket handshake itself (for example Cookie, User-Agent,
	// X-Forwarded-For, Origin). The key is in canonical form; both slices
	// are only valid during the call. Nil: other headers are skipped.
	OnHeader func(key, value []byte)
}

// EnsureDefaults fills zero fields with their defaults.
func (o *UpgradeOptions) EnsureDefaults() {
	if o.MaxHeaderBytes == 0 {
		o.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
}

// Validate reports options that cannot work: a negative MaxHeaderBytes, or
// a protocol name that is not an HTTP token (RFC 6455 §4.1 item 10).
func (o *UpgradeOptions) Validate() error {
	if o.MaxHeaderBytes < 0 {
		return errors.New("ws: UpgradeOptions.MaxHeaderBytes must not be negative")
	}
	for _, p := range o.Protocols {
		if !isToken(p) {
			return errors.New("ws: UpgradeOptions.Protocols: " + strconv.Quote(p) + " is not an HTTP token")
		}
	}
	return nil
}

// Handshake is what a successful upgrade tells the engine.
type Handshake struct {
	// Protocol is the chosen subprotocol, one of UpgradeOptions.Protocols
	// (the same string, not a copy), or "" when none was chosen.
	Protocol string
	// Path is the request target (path and query) of the request line,
	// copied.
	Path string
	// OriginTag is UpgradeOptions.OriginTag of the Origin header, 0 when
	// there is none.
	OriginTag uint32
}

// Handshake errors. Other failures are the *gobwas/ws.ConnectionRejectedError
// values of github.com/gobwas/ws (ws.ErrHandshakeBadSecKey and the like),
// whose StatusCode gives the HTTP status; HandshakeReason names them all.
var (
	// ErrHeaderTooLarge: the request did not end within MaxHeaderBytes.
	// The response is 431 Request Header Fields Too Large.
	ErrHeaderTooLarge = errors.New("ws: handshake request larger than MaxHeaderBytes")

	// ErrOriginDenied: CheckOrigin refused the Origin header (RFC 6455
	// §4.2.2: a server that does not accept the origin answers with an HTTP
	// error such as 403 Forbidden). The response is 403.
	ErrOriginDenied = errors.New("ws: handshake origin not allowed")

	// ErrMalformedRequest: the request line could not be parsed. The
	// response is 400 Bad Request. (A malformed header line is reported as
	// gobwas/ws's own ErrMalformedRequest, also with 400.)
	ErrMalformedRequest = errors.New("ws: malformed handshake request line")
)

// rejectOrigin makes gobwas/ws answer 403; it is never modified.
var rejectOrigin = gobwas.RejectConnectionError(
	gobwas.RejectionStatus(http.StatusForbidden),
	gobwas.RejectionReason("origin not allowed"),
)

// Responses this package writes itself, where gobwas/ws writes none.
const (
	respTooLarge = "HTTP/1.1 431 Request Header Fields Too Large\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 24\r\n" +
		"Connection: close\r\n\r\nrequest header too large"
	respMalformed = "HTTP/1.1 400 Bad Request\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 22\r\n" +
		"Connection: close\r\n\r\nmalformed HTTP request"
)

var crlfcrlf = []byte("\r\n\r\n")

// IsHTTPUpgradePrefix reports whether b starts with "GET ", the start of
// every WebSocket opening handshake (RFC 6455 §4.1), for protocol sniffing
// on a shared port. It is false for fewer than 4 bytes.
func IsHTTPUpgradePrefix(b []byte) bool {
	return len(b) >= 4 && b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' '
}

// Upgrade runs the server side of the opening handshake (RFC 6455 §4.2)
// over buf, the bytes received so far, with the zero-copy upgrader of
// github.com/gobwas/ws. It never blocks.
//
//   - Need more: the request is not complete yet (no "\r\n\r\n"):
//     n == 0, resp == dst, err == nil.
//   - Success: n is the length of the request; bytes after it (buf[n:]) are
//     already frames. resp is dst with the 101 response appended; info says
//     the chosen subprotocol and the path.
//   - Failure: resp is dst with an HTTP error response appended (400, 403,
//     405, 426, 431, 505): write it, then close. err is ErrHeaderTooLarge,
//     ErrOriginDenied, ErrMalformedRequest or a gobwas/ws handshake error;
//     n is the length of the request when one was found.
//
// Upgrade does not modify buf. It allocates: the copied path and the
// upgrader's state, once per connection.
func Upgrade(buf []byte, dst []byte, opts *UpgradeOptions) (n int, resp []byte, info Handshake, err error) {
	limit := DefaultMaxHeaderBytes
	if opts != nil && opts.MaxHeaderBytes > 0 {
		limit = opts.MaxHeaderBytes
	}
	window := buf[:min(len(buf), limit)]
	end := bytes.Index(window, crlfcrlf)
	if end < 0 {
		if len(buf) >= limit {
			return 0, append(dst, respTooLarge...), info, ErrHeaderTooLarge
		}
		return 0, dst, info, nil
	}
	n = end + len(crlfcrlf)

	rw := &handshakeRW{r: buf[:n], w: dst}
	u := gobwas.Upgrader{
		ReadBufferSize:  max(n, 256), // a pooled size class of gobwas/ws
		WriteBufferSize: 512,
		OnRequest: func(uri []byte) error {
			info.Path = string(uri)
			return nil
		},
	}
	if opts != nil {
		if len(opts.Protocols) > 0 {
			u.ProtocolCustom = func(offer []byte) (string, bool) {
				return selectProtocol(offer, opts.Protocols), true
			}
		}
		if opts.CheckOrigin != nil || opts.OnHeader != nil || opts.OriginTag != nil {
			u.OnHeader = func(key, value []byte) error {
				if opts.OnHeader != nil {
					opts.OnHeader(key, value)
				}
				// RFC 6455 §4.2.1 item 7, §10.2: the server may refuse
				// an origin it does not trust.
				if string(key) == "Origin" {
					if opts.CheckOrigin != nil && !opts.CheckOrigin(value) {
						return rejectOrigin
					}
					if opts.OriginTag != nil {
						info.OriginTag = opts.OriginTag(value)
					}
				}
				return nil
			}
		}
	}
	hs, err := u.Upgrade(rw)
	resp = rw.w
	switch {
	case err == nil:
		info.Protocol = hs.Protocol
		return n, resp, info, nil
	case err == rejectOrigin:
		err = ErrOriginDenied
	case len(resp) == len(dst):
		// gobwas/ws returns without a response when the request line
		// itself cannot be parsed.
		resp = append(resp, respMalformed...)
		err = ErrMalformedRequest
	}
	return n, resp, Handshake{}, err
}

// HandshakeReason returns a short, stable label for a handshake error from
// Upgrade, for metrics: "too_large", "origin", "malformed", "bad_method",
// "bad_http_version", "bad_host", "bad_upgrade", "bad_connection",
// "bad_key", "bad_version", "unsupported_version", or "other".
func HandshakeReason(err error) string {
	switch err {
	case ErrHeaderTooLarge:
		return "too_large"
	case ErrOriginDenied:
		return "origin"
	case ErrMalformedRequest, gobwas.ErrMalformedRequest:
		return "malformed"
	case gobwas.ErrHandshakeBadMethod:
		return "bad_method"
	case gobwas.ErrHandshakeBadProtocol:
		return "bad_http_version"
	case gobwas.ErrHandshakeBadHost:
		return "bad_host"
	case gobwas.ErrHandshakeBadUpgrade:
		return "bad_upgrade"
	case gobwas.ErrHandshakeBadConnection:
		return "bad_connection"
	case gobwas.ErrHandshakeBadSecKey:
		return "bad_key"
	case gobwas.ErrHandshakeBadSecVersion:
		return "bad_version"
	case gobwas.ErrHandshakeUpgradeRequired:
		return "unsupported_version"
	}
	return "other"
}

// handshakeRW reads the request bytes and appends what is written to w.
type handshakeRW struct {
	r []byte
	w []byte
}

func (c *handshakeRW) Read(p []byte) (int, error) {
	if len(c.r) == 0 {
		return 0, io.EOF
	}
	k := copy(p, c.r)
	c.r = c.r[k:]
	return k, nil
}

func (c *handshakeRW) Write(p []byte) (int, error) {
	c.w = append(c.w, p...)
	return len(p), nil
}

// selectProtocol returns the entry of supported listed first among the
// comma-separated tokens of offer, a Sec-WebSocket-Protocol value (RFC 6455
// §4.2.1 item 8, §11.3.4), or "".
func selectProtocol(offer []byte, supported []string) string {
	best := len(supported)
	for len(offer) > 0 {
		var tok []byte
		if i := bytes.IndexByte(offer, ','); i >= 0 {
			tok, offer = offer[:i], offer[i+1:]
		} else {
			tok, offer = offer, nil
		}
		tok = bytes.Trim(tok, " \t")
		for i := 0; i < best; i++ {
			if string(tok) == supported[i] {
				best = i
				break
			}
		}
	}
	if best == len(supported) {
		return ""
	}
	return supported[best]
}

// isToken reports whether s is a non-empty HTTP token (RFC 7230 §3.2.6).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7F {
			return false
		}
		switch c {
		case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"', '/', '[', ']', '?', '=', '{', '}':
			return false
		}
	}
	return true
}
